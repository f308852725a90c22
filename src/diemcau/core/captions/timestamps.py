"""Caption timestamps: format seconds as WebVTT/SRT times and parse them back (pure)."""

from __future__ import annotations

import re

# hh:mm:ss.mmm or mm:ss.mmm (WebVTT); hh:mm:ss,mmm (SRT). Hours may exceed two digits in WebVTT.
_TIMESTAMP = re.compile(r"^(?:(\d{1,}):)?([0-5]\d):([0-5]\d)[.,](\d{3})$")


def format_timestamp(seconds: float, separator: str = ".") -> str:
    """``seconds`` as ``hh:mm:ss.mmm`` (``separator=","`` for SRT), rounded to the millisecond."""
    millis = max(0, round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def parse_timestamp(text: str, separators: str = ".,") -> float | None:
    """Seconds for a caption timestamp, or None when ``text`` is not one (``separators``: allowed decimal marks)."""
    match = _TIMESTAMP.match(text.strip())
    if match is None or text.strip()[-4] not in separators:
        return None
    hours, minutes, secs, millis = match.groups()
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(secs) + int(millis) / 1000
