"""Plain text: one segment per line, the transcript as a reader would want it (pure)."""

from __future__ import annotations

from diemcau.core.transcript import Transcript


def render_txt(transcript: Transcript) -> str:
    """The transcript's text, one non-empty segment per line, ending with a newline when not empty."""
    lines = [s.text.strip() for s in transcript.segments if s.text.strip()]
    return "\n".join(lines) + "\n" if lines else ""
