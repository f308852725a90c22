"""Questions seeded for the authorization matrix: two unanswered questions on the cell A1 lecture."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.questions import ask
from tests.transcript_fixtures import LECTURE_ID

AUTHZ_QUESTION = 1  # asked by the member a1001
SECRETARYS_QUESTION = 2  # asked by the cell's secretary a1002: the member a1001 does not see it while unanswered


def seed_authz_questions(factory: sessionmaker[Session]) -> None:
    """Two unanswered questions on ``LECTURE_ID`` (course nq-cb-a1, 600 s), from cell A1."""
    cell = "/tinh/xa-a/cb-a1/"
    for asker, moment in (("a1001", 12.5), ("a1002", 30.0)):
        asked = ask(
            factory,
            lecture_id=LECTURE_ID,
            course_id="nq-cb-a1",
            duration=600.0,
            asker=asker,
            asker_path=cell,
            moment=moment,
            text=f"Câu hỏi của {asker}",
        )
        assert asked.id == (AUTHZ_QUESTION if asker == "a1001" else SECRETARYS_QUESTION)
