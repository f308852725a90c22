"""The trainer studio: a Streamlit app run in the trainer's own Jupyter server, behind the hub's login.

It is a thin app over the API service (``client.StudioClient``): it never opens the database or the data
directory, so everything a trainer does is authorised and recorded by the API exactly as any other client.
``launch.server_proxy_entry`` is what ``hub_config/jupyter_server_config.py`` registers with
jupyter-server-proxy; ``app.py`` is the Streamlit script; ``views/`` holds one module per page.
"""
