"""Stage 4: the initial prompt, from the domain glossary trainers edit (``<courses folder>/glossary.txt``; until
they write one, the list shipped beside this module, ``DEFAULT_GLOSSARY``).

Whisper continues the style of the text it is prompted with, so a list of Party terms steers their spelling
(*Ban Chấp hành Trung ương*, not *ban chấp hành trung ương*). The base model sometimes *echoes* the prompt
instead of hearing the audio (measured on synthetic speech: a whole window came back as the glossary), so
``is_prompt_echo`` spots that and the window is decoded again without the prompt.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from pathlib import Path

GLOSSARY_FILE = "glossary.txt"
DEFAULT_GLOSSARY = Path(__file__).with_name(GLOSSARY_FILE)
MAX_PROMPT_CHARS = 600  # Whisper keeps at most 223 prompt tokens; Vietnamese runs ~2.5 characters per token
ECHO_RUN_WORDS = 8


def load_glossary(path: Path) -> tuple[str, ...]:
    """The terms of a glossary file: one per line, ``#`` starts a comment; missing file → no terms."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ()
    terms = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return tuple(unicodedata.normalize("NFC", " ".join(term.split())) for term in terms if term)


def glossary_file(courses_dir: Path) -> Path:
    """The glossary to prompt with: the courses folder's own, else the shipped ``DEFAULT_GLOSSARY``."""
    own = courses_dir / GLOSSARY_FILE
    return own if own.is_file() else DEFAULT_GLOSSARY


def glossary_prompt(terms: Sequence[str], max_chars: int = MAX_PROMPT_CHARS) -> str | None:
    """The terms as one comma-separated sentence, cut at a term boundary to fit; ``None`` for no terms."""
    chosen: list[str] = []
    for term in terms:
        if len(", ".join([*chosen, term])) + 1 > max_chars:
            break
        chosen.append(term)
    return ", ".join(chosen) + "." if chosen else None


def _words(text: str) -> list[str]:
    kept = "".join(ch if ch.isalnum() else " " for ch in unicodedata.normalize("NFC", text).lower())
    return kept.split()


def longest_common_run(text: str, prompt: str) -> int:
    """The longest run of consecutive words ``text`` and ``prompt`` share (case and punctuation ignored)."""
    a, b = _words(text), _words(prompt)
    best, previous = 0, [0] * (len(b) + 1)
    for word in a:
        current = [0] * (len(b) + 1)
        for j, other in enumerate(b, start=1):
            if word == other:
                current[j] = previous[j - 1] + 1
                best = max(best, current[j])
        previous = current
    return best


def is_prompt_echo(text: str, prompt: str | None, run_words: int = ECHO_RUN_WORDS) -> bool:
    """Did the model copy the prompt: ``run_words`` or more of its words in a row (or all, if shorter)?"""
    if not prompt:
        return False
    needed = min(run_words, len(_words(prompt)))
    return needed > 0 and longest_common_run(text, prompt) >= needed
