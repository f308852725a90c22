"""Adapters: everything that touches the outside world (database, files, passwords, JupyterHub)."""
