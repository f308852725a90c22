"""A lecture row and a small transcript, for tests of the transcript store, corrections and routes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.models import CourseRow, LectureRow
from diemcau.adapters.db.progress import record_first_contact
from diemcau.adapters.transcript_store import write_transcript
from diemcau.core.transcript import Segment, Transcript, Word

LECTURE_ID = "lecA1demo"  # in course nq-cb-a1 of tests/seed.py (audience: cell A1)


def words_of(text: str, start: float, end: float) -> tuple[Word, ...]:
    """Evenly spaced words with faster-whisper's leading spaces."""
    parts = text.split()
    step = (end - start) / len(parts)
    return tuple(
        Word(round(start + i * step, 3), round(start + (i + 1) * step, 3), " " + p, 0.9) for i, p in enumerate(parts)
    )


def sample_transcript(lecture_id: str = LECTURE_ID, with_words: bool = True) -> Transcript:
    """Four Vietnamese segments with gaps between them, as Whisper would write them."""
    lines = [
        (0.0, 2.5, "Kính thưa các đồng chí"),
        (3.0, 6.0, "hôm nay chúng ta học tập nghị quyết"),
        (6.5, 9.0, "của ban chấp hành trung ương"),
        (10.0, 13.5, "về công tác xây dựng đảng"),
    ]
    segments = tuple(
        Segment(i, s, e, text, words_of(text, s, e) if with_words else ()) for i, (s, e, text) in enumerate(lines)
    )
    return Transcript(lecture_id, "vi", segments, source="whisper", model="base", settings={"beam_size": 5})


def seed_lecture(
    factory: sessionmaker[Session],
    lecture_id: str = LECTURE_ID,
    course_id: str = "nq-cb-a1",
    status: str = "ready",
    title: str = "Bài giảng 1",
) -> str:
    """Insert a lecture row (and its course when missing); idempotent."""
    with transaction(factory) as session:
        if session.get(CourseRow, course_id) is None:
            session.add(CourseRow(id=course_id, title="Chuyên đề", resolutions=[], completion_rule={}))
            session.flush()
        if session.get(LectureRow, lecture_id) is None:
            session.add(
                LectureRow(id=lecture_id, course_id=course_id, title=title, status=status, duration_seconds=600.0)
            )
    return lecture_id


def opened_yesterday(factory: sessionmaker[Session], usernames: Iterable[str], lecture_id: str = LECTURE_ID) -> None:
    """Record that each user first opened the lecture a day ago, so posts of whole minutes of progress are within
    the real-time bound (``core.progress.Pace``) — for tests about merging, not about that bound."""
    for username in usernames:
        record_first_contact(factory, username, lecture_id, dt.datetime.now(dt.UTC) - dt.timedelta(days=1))


def seed_lecture_transcript(transcripts_dir: Path, factory: sessionmaker[Session]) -> str:
    """A ready lecture in course nq-cb-a1 with the sample transcript in the store."""
    seed_lecture(factory)
    write_transcript(transcripts_dir, sample_transcript())
    return LECTURE_ID
