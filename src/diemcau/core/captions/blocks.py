"""Split caption text into blank-line separated blocks, remembering each block's first line number (pure)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Block:
    """Consecutive non-blank lines; ``line`` is the 1-based number of the first."""

    line: int
    lines: tuple[str, ...]


def normalise_newlines(content: str) -> str:
    """Text without a byte-order mark, with CRLF and lone CR turned into LF."""
    return content.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def split_blocks(content: str) -> list[Block]:
    """The blocks of ``content`` (blank = empty or whitespace-only line)."""
    blocks: list[Block] = []
    current: list[str] = []
    start = 0
    for number, line in enumerate(normalise_newlines(content).split("\n"), start=1):
        if line.strip():
            if not current:
                start = number
            current.append(line.rstrip())
        elif current:
            blocks.append(Block(start, tuple(current)))
            current = []
    if current:
        blocks.append(Block(start, tuple(current)))
    return blocks
