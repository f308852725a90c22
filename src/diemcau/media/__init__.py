"""Media ingest: one stage per module, frozen dataclasses between them.

``fetch`` (file or URL → bytes and their sha256) → ``probe`` (ffprobe → ``MediaInfo``, validation) →
``transcode`` (one HLS rendition per run: the audio-only "Chỉ nghe" one, then the video ladder) →
``audio_file`` (the m4a download) → ``poster`` → ``package`` (master playlist and manifest). The ordered list
lives in ``pipeline.py``; the media store (``adapters.media_store``) receives the finished folder atomically.
"""
