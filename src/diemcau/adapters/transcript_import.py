"""Import caption files (WebVTT or SRT, told apart by content) as a lecture's transcript, and phrase the
errors of captions and corrections as catalogue messages."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.models import LectureRow
from diemcau.adapters.transcript_edits import replace_transcript
from diemcau.adapters.transcript_store import Store
from diemcau.core.captions import CaptionError, CaptionFile, cues_to_transcript, parse_captions
from diemcau.core.corrections import CorrectionError
from diemcau.core.transcript import Transcript
from diemcau.i18n import t


def decode_caption_bytes(data: bytes) -> str:
    """Caption bytes as text (UTF-8, BOM allowed); ``CaptionError`` on the line holding the first bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CaptionError(data[: exc.start].count(b"\n") + 1, "caption_not_text") from None


def read_caption_file(path: Path) -> CaptionFile:
    """Parse a caption file from disk. Raises ``CaptionError`` (line-precise) or ``OSError``."""
    return parse_captions(decode_caption_bytes(Path(path).read_bytes()))


def lecture_exists(factory: sessionmaker[Session], lecture_id: str) -> bool:
    """Whether the lecture has a row in the database."""
    with factory() as session:
        return session.get(LectureRow, lecture_id) is not None


def import_captions(
    factory: sessionmaker[Session], transcripts: Store, lecture_id: str, path: Path, force: bool = False
) -> Transcript:
    """Make the caption file at ``path`` the lecture's transcript and return what was stored.

    Everything is checked before anything is written: the lecture exists (``CorrectionError``), the file
    parses (``CaptionError``), and a corrected transcript is only replaced with ``force``
    (``CorrectedTranscriptError``; corrections are then re-applied to the imported captions).
    """
    if not lecture_exists(factory, lecture_id):
        raise CorrectionError("lecture_not_found", lecture=lecture_id)
    transcript = cues_to_transcript(read_caption_file(path), lecture_id)
    return replace_transcript(factory, transcripts, transcript, force=force)


def error_message(error: CaptionError | CorrectionError, language: str = "vi") -> str:
    """The catalogue message for a caption or correction error, prefixed with its line when it has one."""
    params = {k: _show(v) for k, v in error.params.items()}
    message = t(f"transcript.{error.message_key}", language, **params)
    line = getattr(error, "line", 0)
    return t("transcript.line_error", language, line=line, message=message) if line else message


def _show(value: object) -> object:
    return f"{value:g}" if isinstance(value, float) else value
