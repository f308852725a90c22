"""Staff dashboards (Voila, ``notebooks/``): an API client and pure view-model functions, no widgets.

The notebooks stay thin: they fetch through ``api_client`` with the viewer's own hub token, shape what they
got with ``cell_view``, ``committee_view`` and ``lecture_view`` (plain dataclasses, strings and HTML), and only
then put it in ipywidgets and plotly figures. So the numbers a secretary sees are tested without a browser.
"""
