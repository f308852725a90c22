"""SubRip (SRT): render a transcript and parse ``.srt`` files with line-precise errors (pure)."""

from __future__ import annotations

from diemcau.core.captions.blocks import Block, split_blocks
from diemcau.core.captions.cues import CaptionError, CaptionFile, Cue, check_order, strip_tags, transcript_cues
from diemcau.core.captions.timestamps import format_timestamp
from diemcau.core.captions.timing import looks_like_timing, parse_timing_line
from diemcau.core.transcript import Transcript


def render_srt(transcript: Transcript) -> str:
    """The transcript as SRT: numbered cues, ``hh:mm:ss,mmm`` times, a blank line after each cue."""
    blocks = []
    for number, cue in enumerate(transcript_cues(transcript), start=1):
        timing = f"{format_timestamp(cue.start, ',')} --> {format_timestamp(cue.end, ',')}"
        blocks.append(f"{number}\n{timing}\n{cue.text}\n")
    return "\n".join(blocks)


def parse_srt(content: str) -> CaptionFile:
    """Parse SRT text (BOM and CRLF allowed). Raises ``CaptionError`` naming the first bad line."""
    blocks = split_blocks(content)
    if not blocks:
        raise CaptionError(0, "caption_empty")
    cues = [_parse_block(block) for block in blocks]
    return CaptionFile(format="srt", cues=check_order(cues))


def _parse_block(block: Block) -> Cue:
    lines = block.lines
    first, timing_at = lines[0], 0
    if "-->" not in first and not looks_like_timing(first):
        if not first.strip().isdigit():
            raise CaptionError(block.line, "caption_bad_counter", {"text": first[:40]})
        if len(lines) < 2:
            raise CaptionError(block.line + 1, "caption_missing_arrow", {"text": ""})
        timing_at = 1
    timing_line = block.line + timing_at
    start, end = parse_timing_line(lines[timing_at], timing_line, separators=",.")
    text = strip_tags("\n".join(lines[timing_at + 1 :]))
    return Cue(start=start, end=end, text=text, line=timing_line)
