"""Pure rules of the domain core: credentials, courses, roles and the org tree. No I/O."""

from __future__ import annotations

import datetime as dt

import pytest

from diemcau.core.course import CourseStatus, days_left, derive_status, is_enrolled, is_valid_course_id
from diemcau.core.credentials import (
    ACTIVATION_ALPHABET,
    ACTIVATION_CODE_LENGTH,
    is_code_expired,
    new_activation_code,
    normalise_activation_code,
)
from diemcau.core.orgtree import OrgUnit, child_path, is_valid_code, is_within
from diemcau.core.roles import (
    Grant,
    Role,
    Viewer,
    can_manage_content,
    can_manage_member,
    can_read_member,
    can_read_org_unit,
    can_see_course,
)

NOW = dt.datetime(2026, 3, 1, 8, 0, 0)

# --- credentials -------------------------------------------------------------------------------------------


def test_activation_code_uses_the_unambiguous_alphabet() -> None:
    """Are activation codes eight characters without 0/O, 1/I/L, and different each time?"""
    codes = {new_activation_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert len(code) == ACTIVATION_CODE_LENGTH == 8
        assert set(code) <= set(ACTIVATION_ALPHABET)
    assert not set("01OIL") & set(ACTIVATION_ALPHABET)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("ABCD2345", "ABCD2345"),
        ("abcd2345", "ABCD2345"),
        ("abcd-2345", "ABCD2345"),
        ("  ab cd 23 45 ", "ABCD2345"),
        ("Ab-Cd 23-45", "ABCD2345"),
        ("", ""),
    ],
)
def test_activation_code_is_normalised_as_typed_on_a_phone(typed: str, expected: str) -> None:
    """Is a code typed in lowercase, with spaces or dashes, accepted as the code itself?"""
    assert normalise_activation_code(typed) == expected


def test_activation_code_expiry() -> None:
    """Is a code valid before its expiry, expired from that instant on, and expired when it has none?"""
    expires = NOW + dt.timedelta(days=14)
    assert not is_code_expired(expires, NOW)
    assert not is_code_expired(expires, expires - dt.timedelta(seconds=1))
    assert is_code_expired(expires, expires)
    assert is_code_expired(expires, expires + dt.timedelta(days=1))
    assert is_code_expired(None, NOW)


# --- courses -----------------------------------------------------------------------------------------------


def test_member_in_a_nested_unit_is_enrolled() -> None:
    """Is a member of a cell deep under the audience unit enrolled, and the audience unit's own member too?"""
    assert is_enrolled("/ht/xa-a/db-thon/cb-1/", ["/ht/xa-a/"])
    assert is_enrolled("/ht/xa-a/", ["/ht/xa-a/"])
    assert is_enrolled("/ht/xa-b/cb-b/", ["/ht/xa-a/", "/ht/xa-b/"])


def test_sibling_sharing_a_prefix_string_is_not_enrolled() -> None:
    """Is a member of /a/cb-10/ left out of a course for /a/cb-1/ although the code starts the same?"""
    assert not is_enrolled("/a/cb-10/", ["/a/cb-1/"])
    assert not is_enrolled("/a/cb-1/", ["/a/cb-10/"])
    assert is_enrolled("/a/cb-1/", ["/a/cb-1/"])


def test_member_above_or_beside_the_audience_is_not_enrolled() -> None:
    """Are members of the parent unit or of another commune left out, and is an empty audience nobody?"""
    assert not is_enrolled("/ht/", ["/ht/xa-a/"])
    assert not is_enrolled("/ht/xa-b/cb-1/", ["/ht/xa-a/"])
    assert not is_enrolled("/ht/xa-a/", [])


DEADLINE = dt.date(2026, 6, 30)


@pytest.mark.parametrize(
    ("today", "deadline", "started", "completed", "status"),
    [
        (dt.date(2026, 6, 1), DEADLINE, False, False, CourseStatus.NOT_STARTED),
        (dt.date(2026, 6, 1), DEADLINE, True, False, CourseStatus.IN_PROGRESS),
        (dt.date(2026, 6, 1), DEADLINE, True, True, CourseStatus.COMPLETED),
        (dt.date(2026, 7, 1), DEADLINE, True, False, CourseStatus.OVERDUE),
        (dt.date(2026, 7, 1), DEADLINE, False, False, CourseStatus.OVERDUE),
        (dt.date(2026, 7, 1), DEADLINE, True, True, CourseStatus.COMPLETED),
        (DEADLINE, DEADLINE, False, False, CourseStatus.NOT_STARTED),
        (dt.date(2030, 1, 1), None, True, False, CourseStatus.IN_PROGRESS),
        (dt.date(2030, 1, 1), None, False, False, CourseStatus.NOT_STARTED),
    ],
)
def test_status_is_derived_from_records(
    today: dt.date, deadline: dt.date | None, started: bool, completed: bool, status: CourseStatus
) -> None:
    """Is each of the four statuses derived as the records say (completion wins, the deadline day still counts)?"""
    assert derive_status(today, deadline, started, completed) is status


def test_days_left() -> None:
    """Are days left whole days, zero on the deadline, negative after it, and None without one?"""
    assert days_left(dt.date(2026, 6, 20), DEADLINE) == 10
    assert days_left(DEADLINE, DEADLINE) == 0
    assert days_left(dt.date(2026, 7, 3), DEADLINE) == -3
    assert days_left(dt.date(2026, 7, 3), None) is None


@pytest.mark.parametrize("course_id", ["nq-57", "hoc_tap_2026", "a", "x" * 64])
def test_valid_course_ids(course_id: str) -> None:
    """Are lowercase ids with digits, dashes and underscores (up to 64 characters) accepted?"""
    assert is_valid_course_id(course_id)


@pytest.mark.parametrize("course_id", ["", "NQ-57", "-nq", "nq 57", "nghị-quyết", "x" * 65, "a/b"])
def test_invalid_course_ids(course_id: str) -> None:
    """Are uppercase, accented, spaced, slashed, too long or dash-first ids refused?"""
    assert not is_valid_course_id(course_id)


# --- roles -------------------------------------------------------------------------------------------------

CELL_1 = "/ht/xa-a/cb-1/"
CELL_10 = "/ht/xa-a/cb-10/"
CELL_B = "/ht/xa-b/cb-b/"

member = Viewer("1001", CELL_1)
secretary = Viewer("1002", CELL_1, (Grant(Role.SECRETARY, CELL_1),))
committee = Viewer("1003", "/ht/xa-a/", (Grant(Role.COMMITTEE, "/ht/xa-a/"),))
trainer = Viewer("1004", None, (Grant(Role.TRAINER),))
admin = Viewer("1005", None, (Grant(Role.ADMIN),))


def test_member_reads_only_their_own_records() -> None:
    """Does a plain member read their own records and nobody else's, and manage nobody?"""
    assert can_read_member(member, "1001", CELL_1)
    assert not can_read_member(member, "1009", CELL_1)
    assert not can_manage_member(member, CELL_1)
    assert member.oversight_paths() == []
    assert member.roles() == [Role.MEMBER]
    assert not member.is_staff and not member.is_admin


def test_secretary_oversees_their_cell_only() -> None:
    """Does a cell secretary read and manage the members of their cell, but not a sibling cell sharing a prefix?"""
    assert secretary.oversight_paths() == [CELL_1]
    assert can_read_member(secretary, "1009", CELL_1)
    assert can_manage_member(secretary, CELL_1)
    assert not can_read_member(secretary, "1010", CELL_10)
    assert not can_manage_member(secretary, CELL_10)
    assert not can_read_member(secretary, "1011", CELL_B)
    assert secretary.roles() == [Role.MEMBER, Role.SECRETARY]
    assert secretary.is_staff


def test_committee_reads_its_subtree_but_manages_no_one() -> None:
    """Does a commune committee read every cell under it, not other communes, and manage no accounts?"""
    assert committee.oversight_paths() == ["/ht/xa-a/"]
    assert can_read_member(committee, "1009", CELL_1)
    assert can_read_member(committee, "1010", CELL_10)
    assert not can_read_member(committee, "1011", CELL_B)
    assert not can_manage_member(committee, CELL_1)
    assert can_read_org_unit(committee, CELL_1)
    assert not can_read_org_unit(committee, CELL_B)


def test_trainer_manages_content_not_members() -> None:
    """Does a trainer manage content and see every course and unit, but read no member's records?"""
    assert can_manage_content(trainer)
    assert trainer.oversight_paths() == []
    assert not can_read_member(trainer, "1009", CELL_1)
    assert not can_manage_member(trainer, CELL_1)
    assert can_see_course(trainer, [CELL_B])
    assert can_read_org_unit(trainer, CELL_B)


def test_admin_can_do_everything() -> None:
    """Does an admin read and manage every member everywhere and manage content?"""
    assert admin.is_admin and admin.is_staff
    assert admin.oversight_paths() == ["/"]
    for path in (CELL_1, CELL_10, CELL_B):
        assert can_read_member(admin, "x", path)
        assert can_manage_member(admin, path)
    assert can_manage_content(admin)


def test_course_visibility_follows_enrollment_and_oversight() -> None:
    """Does a member see only courses they are enrolled in, and a committee courses overlapping its scope?"""
    assert can_see_course(member, ["/ht/xa-a/"])
    assert not can_see_course(member, [CELL_10])
    assert can_see_course(committee, ["/ht/"])  # audience above the scope covers it
    assert can_see_course(committee, [CELL_10])  # audience inside the scope
    assert not can_see_course(committee, [CELL_B])


# --- org tree ----------------------------------------------------------------------------------------------


def test_child_path() -> None:
    """Does a root get /code/ and a child its parent's path plus its code?"""
    assert child_path(None, "ha-tinh") == "/ha-tinh/"
    assert child_path("/ha-tinh/", "xa-a") == "/ha-tinh/xa-a/"
    assert child_path("/ha-tinh/xa-a/", "cb_1") == "/ha-tinh/xa-a/cb_1/"


@pytest.mark.parametrize("code", ["", "Xa-A", "xã-a", "xa a", "-xa", "_xa", "a/b", "x" * 65])
def test_invalid_codes_are_refused(code: str) -> None:
    """Are uppercase, accented, spaced, slashed, too long or dash-first codes refused with a helpful message?"""
    assert not is_valid_code(code)
    with pytest.raises(ValueError, match="lowercase letters"):
        child_path("/ha-tinh/", code)


def test_is_within() -> None:
    """Is a unit within itself and its ancestors, but not its siblings sharing a prefix, nor its descendants?"""
    assert is_within("/a/b/c/", "/a/")
    assert is_within("/a/b/", "/a/b/")
    assert is_within("/a/b/", "/")
    assert not is_within("/a/cb-10/", "/a/cb-1/")
    assert not is_within("/a/", "/a/b/")


def test_depth_and_parent_path() -> None:
    """Does a unit know its depth (root is 1) and its parent's path (None for a root)?"""
    root = OrgUnit("ht", "Tỉnh", "province", "/ht/")
    commune = OrgUnit("xa-a", "Xã A", "commune", "/ht/xa-a/")
    cell = OrgUnit("cb-1", "Chi bộ 1", "cell", "/ht/xa-a/cb-1/")
    assert (root.depth, commune.depth, cell.depth) == (1, 2, 3)
    assert root.parent_path is None
    assert commune.parent_path == "/ht/"
    assert cell.parent_path == "/ht/xa-a/"


def test_a_course_with_nothing_published_is_complete_for_nobody() -> None:
    """Is a course without lectures, quizzes or essay left incomplete (missing 'content'), not done by everyone?"""
    from diemcau.core.completion import MemberRecords, evaluate
    from diemcau.core.course import CompletionRule

    verdict = evaluate(CompletionRule(essay_required=False), (), (), MemberRecords(coverage={}))
    assert (verdict.completed, verdict.started, verdict.missing) == (False, False, ("content",))
    with_lecture = evaluate(CompletionRule(essay_required=False), ("L1",), (), MemberRecords(coverage={"L1": 100.0}))
    assert with_lecture.completed and with_lecture.missing == ()
