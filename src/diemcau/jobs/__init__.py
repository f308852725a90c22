"""Background jobs (ingest, transcription, grading) on a durable queue: huey, SQLite or Redis storage."""
