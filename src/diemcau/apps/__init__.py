"""Thin apps on top of the core and adapters: CLI, API service, hub configuration."""
