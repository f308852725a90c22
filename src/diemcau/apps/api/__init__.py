"""The Điểm Cầu API service and member portal, run by JupyterHub as the managed service ``diemcau``."""
