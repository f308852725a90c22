"""WebVTT: render a transcript and parse ``.vtt`` files with line-precise errors (pure).

The parser follows the WebVTT syntax closely enough for caption files found in the wild: a ``WEBVTT``
header (with optional text and metadata lines), NOTE/STYLE/REGION blocks (skipped), optional cue
identifiers, ``hh:mm:ss.mmm`` or ``mm:ss.mmm`` times, cue settings (ignored) and multi-line payloads whose
markup is stripped to text.
"""

from __future__ import annotations

from diemcau.core.captions.blocks import Block, split_blocks
from diemcau.core.captions.cues import CaptionError, CaptionFile, Cue, check_order, strip_tags, transcript_cues
from diemcau.core.captions.timestamps import format_timestamp
from diemcau.core.captions.timing import looks_like_timing, parse_timing_line
from diemcau.core.transcript import Transcript

_SKIPPED_BLOCKS = ("NOTE", "STYLE", "REGION")


def render_vtt(transcript: Transcript) -> str:
    """The transcript as WebVTT: header, then one cue per non-empty segment."""
    parts = ["WEBVTT\n"]
    for cue in transcript_cues(transcript):
        # WebVTT payloads are markup: escape it, so text with "<" or "&" reads back as written.
        payload = cue.text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        parts.append(f"{format_timestamp(cue.start)} --> {format_timestamp(cue.end)}\n{payload}\n")
    return "\n".join(parts)


def is_webvtt_header(first_line: str) -> bool:
    """Whether a file's first line (BOM already removed) is a WebVTT signature."""
    return first_line == "WEBVTT" or first_line.startswith(("WEBVTT ", "WEBVTT\t"))


def parse_vtt(content: str) -> CaptionFile:
    """Parse WebVTT text (BOM and CRLF allowed). Raises ``CaptionError`` naming the first bad line."""
    blocks = split_blocks(content)
    if not blocks:
        raise CaptionError(0, "caption_empty")
    header = blocks[0]
    if header.line != 1 or not is_webvtt_header(header.lines[0]):
        raise CaptionError(header.line, "caption_not_webvtt", {"text": header.lines[0][:40]})
    # Metadata lines may follow the signature in the header block; a cue there means the blank line is missing.
    for offset, text in enumerate(header.lines[1:], start=1):
        if "-->" in text:
            raise CaptionError(header.line + offset, "caption_header_not_separated")
    cues = [_parse_block(block) for block in blocks[1:] if not _is_skipped(block)]
    return CaptionFile(format="vtt", cues=check_order(cues))


def _is_skipped(block: Block) -> bool:
    first = block.lines[0]
    return any(first == kind or first.startswith((kind + " ", kind + "\t")) for kind in _SKIPPED_BLOCKS)


def _parse_block(block: Block) -> Cue:
    lines = block.lines
    # A first line without the arrow is the cue identifier, unless it starts with a time (a broken timing line).
    timing_at = 0 if "-->" in lines[0] or looks_like_timing(lines[0]) else 1
    if timing_at >= len(lines):
        raise CaptionError(block.line, "caption_missing_arrow", {"text": lines[0][:60]})
    timing_line = block.line + timing_at
    start, end = parse_timing_line(lines[timing_at], timing_line, separators=".")
    text = strip_tags("\n".join(lines[timing_at + 1 :]))
    return Cue(start=start, end=end, text=text, line=timing_line)
