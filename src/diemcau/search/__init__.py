"""Transcript and document search: one interface (``index.SearchIndex``), two backends (SQLite FTS5, PostgreSQL).

The index is derived data, rebuilt from ``transcripts/`` by ``diemcau search reindex``; see docs/search.md.
"""
