"""Everything that runs inside the JupyterHub process: its configuration and the roster authenticator."""
