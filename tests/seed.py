"""A small province seeded directly as ORM rows, for tests that need an org tree, members, grants and courses.

    tinh (province)
    ├── xa-a (commune)  ── cb-a1 (cell), cb-a2 (cell)
    └── xa-b (commune)  ── cb-b1 (cell)

``seed_small_province`` returns the usernames (lowercase card numbers) by role, org unit paths by code, and
course ids, so tests can name what they expect instead of repeating the tree.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.models import CourseRow, MemberRow, OrgUnitRow, RoleGrantRow

TODAY = dt.date(2026, 3, 10)

UNITS = [  # code, name, kind, parent code
    ("tinh", "Đảng bộ tỉnh", "province", None),
    ("xa-a", "Đảng bộ xã A", "commune", "tinh"),
    ("xa-b", "Đảng bộ xã B", "commune", "tinh"),
    ("cb-a1", "Chi bộ thôn A1", "cell", "xa-a"),
    ("cb-a2", "Chi bộ thôn A2", "cell", "xa-a"),
    ("cb-b1", "Chi bộ thôn B1", "cell", "xa-b"),
]

MEMBERS = [  # key, card number, full name, cell, active, grants as (role, scope code or None)
    ("member", "A1001", "Nguyễn Văn An", "cb-a1", True, []),
    ("secretary", "A1002", "Trần Thị Bình", "cb-a1", True, [("secretary", "cb-a1")]),
    ("inactive", "A1003", "Lê Văn Cường", "cb-a1", False, []),
    ("other_cell", "A2001", "Phạm Thị Dung", "cb-a2", True, []),
    ("committee", "A2002", "Hoàng Văn Em", "cb-a2", True, [("committee", "xa-a")]),
    ("member_b", "B1001", "Vũ Thị Giang", "cb-b1", True, []),
    ("trainer", "B1002", "Đặng Văn Hải", "cb-b1", True, [("trainer", None)]),
    ("admin", "B1003", "Bùi Thị Hoa", "cb-b1", True, [("admin", None)]),
]

COURSES = [  # id, title, resolutions, audience codes, deadline
    ("nq-tinh", "Nghị quyết Đại hội Đảng bộ tỉnh", ["NQ ĐH tỉnh"], ["tinh"], TODAY + dt.timedelta(days=20)),
    ("nq-xa-a", "Nghị quyết Đảng bộ xã A", ["NQ 01"], ["xa-a"], TODAY - dt.timedelta(days=2)),
    ("nq-cb-a1", "Chuyên đề chi bộ A1", [], ["cb-a1"], None),
    ("nq-cb-b1", "Chuyên đề chi bộ B1", ["NQ 02"], ["cb-b1"], TODAY),
]


def seed_small_province(factory: sessionmaker[Session]) -> dict:
    """Insert the tree, members, grants and courses above; returns ``{"users", "paths", "courses"}``."""
    with transaction(factory) as session:
        units: dict[str, OrgUnitRow] = {}
        for code, name, kind, parent in UNITS:
            parent_row = units.get(parent) if parent else None
            path = f"{parent_row.path if parent_row else '/'}{code}/"
            parent_id = parent_row.id if parent_row else None
            units[code] = OrgUnitRow(code=code, name=name, kind=kind, path=path, parent_id=parent_id)
            session.add(units[code])
            session.flush()  # assigns the id its children refer to
        for _key, card, full_name, cell, active, grants in MEMBERS:
            row = MemberRow(card_number=card, full_name=full_name, org_unit=units[cell], active=active)
            row.grants = [RoleGrantRow(role=role, org_unit=units[scope] if scope else None) for role, scope in grants]
            session.add(row)
        for course_id, title, resolutions, audience, deadline in COURSES:
            session.add(
                CourseRow(
                    id=course_id,
                    title=title,
                    resolutions=resolutions,
                    deadline=deadline,
                    completion_rule={},
                    audience=[units[code] for code in audience],
                )
            )
    return {
        "users": {key: card.lower() for key, card, *_ in MEMBERS},
        "paths": {code: row.path for code, row in units.items()},
        "courses": [course_id for course_id, *_ in COURSES],
    }
