"""One module per studio page; each has ``render(api)``."""
