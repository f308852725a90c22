"""Điểm Cầu: study resolutions online, on JupyterHub."""

__version__ = "0.1.0"
