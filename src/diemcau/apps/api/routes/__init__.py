"""The JSON API's routers (``/api/...``), one module per resource, with the view helpers only they use."""
