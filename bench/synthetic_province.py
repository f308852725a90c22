"""A synthetic province seeded straight into a migrated database (SQLAlchemy Core bulk inserts), for benchmarks.

    tinh ── xa-001 … xa-NNN (communes) ── cb-001-01 … (cells of ~28 members)

One course (``nq-bench``, audience: the province, deadline ``deadline``) with ``LECTURES`` ready lectures of
an hour. Each member gets watched coverage per lecture drawn from a fixed-seed generator: about a third
finish, a third are midway, a third have not started; a few attended a group screening instead.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.models import CourseAudienceRow, CourseRow, LectureRow, MemberRow, OrgUnitRow, RoleGrantRow
from diemcau.adapters.db.models_progress import LectureProgressRow, ScreeningAttendanceRow, ScreeningRow

COURSE = "nq-bench"
LECTURES = ("bench-l1", "bench-l2")
DURATION = 3600.0
CELL_SIZE = 28
BATCH = 5000


@dataclass(frozen=True)
class Synthetic:
    """What was seeded: the commune and cell codes, and one cell secretary's and the committee's card."""

    communes: tuple[str, ...]
    first_cell: str
    secretary: str
    province_committee: str
    commune_committee: str
    members: int


def _units(session: Session, communes: int, members: int) -> tuple[list[str], dict[str, int], list[tuple[str, int]]]:
    root = session.execute(
        insert(OrgUnitRow).returning(OrgUnitRow.id),
        [dict(code="tinh", name="Đảng bộ tỉnh", kind="province", path="/tinh/")],
    ).scalar_one()
    per_commune = members // communes
    cells_per_commune = max(1, per_commune // CELL_SIZE)
    codes, ids, cells = [], {"tinh": root}, []
    for c in range(1, communes + 1):
        code = f"xa-{c:03d}"
        path = f"/tinh/{code}/"
        ids[code] = session.execute(
            insert(OrgUnitRow).returning(OrgUnitRow.id),
            [dict(code=code, name=f"Đảng bộ xã {c}", kind="commune", path=path, parent_id=root)],
        ).scalar_one()
        codes.append(code)
        rows = [
            dict(
                code=f"cb-{c:03d}-{k:02d}",
                name=f"Chi bộ thôn {c}.{k}",
                kind="cell",
                path=f"{path}cb-{c:03d}-{k:02d}/",
                parent_id=ids[code],
            )
            for k in range(1, cells_per_commune + 1)
        ]
        for row in rows:
            ids[row["code"]] = session.execute(insert(OrgUnitRow).returning(OrgUnitRow.id), [row]).scalar_one()
        share, extra = divmod(per_commune, cells_per_commune)
        cells += [(row["code"], share + (1 if k < extra else 0)) for k, row in enumerate(rows)]
    return codes, ids, cells


def _progress_rows(rng: random.Random, card: str) -> list[dict]:
    fate = rng.random()
    rows = []
    for lecture in LECTURES:
        if fate < 0.34:
            covered = DURATION
        elif fate < 0.67:
            covered = DURATION * rng.uniform(0.05, 0.9)
        else:
            continue
        rows.append(
            dict(
                member=card,
                lecture_id=lecture,
                intervals=[[0.0, covered]],
                watched_seconds=covered,
                coverage_percent=round(100 * covered / DURATION, 2),
                resume_position=covered,
                last_seq=1,
            )
        )
    return rows


def seed_synthetic(
    factory: sessionmaker[Session], members: int, communes: int, deadline: dt.date, seed: int = 7, progress: bool = True
) -> Synthetic:
    """Seed ``members`` members in ``communes`` communes, their course, lectures and (unless ``progress`` is
    false) their progress and one screening; returns the keys."""
    rng, with_progress = random.Random(seed), progress
    with transaction(factory) as session:
        codes, ids, cells = _units(session, communes, members)
        session.execute(
            insert(CourseRow),
            [dict(id=COURSE, title="Nghị quyết (thử tải)", resolutions=["NQ"], deadline=deadline, completion_rule={})],
        )
        session.execute(insert(CourseAudienceRow), [dict(course_id=COURSE, org_unit_id=ids["tinh"])])
        session.execute(
            insert(LectureRow),
            [
                dict(
                    id=lec,
                    course_id=COURSE,
                    title=f"Bài {i + 1}",
                    status="ready",
                    duration_seconds=DURATION,
                    position=i,
                )
                for i, lec in enumerate(LECTURES)
            ],
        )
        member_rows, progress = [], []
        number = 0
        for cell, size in cells:
            for _ in range(size):
                number += 1
                card = f"s{number:07d}"
                member_rows.append(
                    dict(card_number=card, full_name=f"Đảng viên {number}", org_unit_id=ids[cell], active=True)
                )
                progress += _progress_rows(rng, card) if with_progress else []
        for start in range(0, len(member_rows), BATCH):
            session.execute(insert(MemberRow), member_rows[start : start + BATCH])
        for start in range(0, len(progress), BATCH):
            session.execute(insert(LectureProgressRow), progress[start : start + BATCH])
        _grants(session, ids, cells)
        if with_progress:
            _screening(session, ids, cells)
    first_cell = cells[0][0]
    return Synthetic(tuple(codes), first_cell, "s0000001", "s0000002", "s0000003", len(member_rows))


def _grants(session: Session, ids: dict[str, int], cells: list[tuple[str, int]]) -> None:
    member_ids = dict(
        session.execute(
            MemberRow.__table__.select()
            .with_only_columns(MemberRow.card_number, MemberRow.id)
            .where(MemberRow.card_number.in_(["s0000001", "s0000002", "s0000003"]))
        ).all()
    )
    session.execute(
        insert(RoleGrantRow),
        [
            dict(member_id=member_ids["s0000001"], role="secretary", org_unit_id=ids[cells[0][0]]),
            dict(member_id=member_ids["s0000002"], role="committee", org_unit_id=ids["tinh"]),
            dict(member_id=member_ids["s0000003"], role="committee", org_unit_id=ids["xa-001"]),
        ],
    )


def _screening(session: Session, ids: dict[str, int], cells: list[tuple[str, int]]) -> None:
    """Members 4–10 of the first cell watched lecture 1 together at the commune hall."""
    screening = session.execute(
        insert(ScreeningRow).returning(ScreeningRow.id),
        [
            dict(
                lecture_id=LECTURES[0],
                org_unit_id=ids[cells[0][0]],
                held_on=dt.date(2026, 3, 1),
                place="Hội trường",
                recorded_by="s0000001",
            )
        ],
    ).scalar_one()
    session.execute(
        insert(ScreeningAttendanceRow), [dict(screening_id=screening, member=f"s{n:07d}") for n in range(4, 11)]
    )
