"""Pure rules: which courses and org units a viewer may see (``core.roles``)."""

from __future__ import annotations

from diemcau.core.roles import Grant, Role, Viewer, can_read_org_unit, can_see_course

CELL_A1, CELL_A2, COMMUNE_A, PROVINCE = "/tinh/xa-a/cb-a1/", "/tinh/xa-a/cb-a2/", "/tinh/xa-a/", "/tinh/"
member = Viewer("m", CELL_A1)
secretary = Viewer("s", CELL_A1, (Grant(Role.SECRETARY, CELL_A1),))
committee = Viewer("c", CELL_A2, (Grant(Role.COMMITTEE, COMMUNE_A),))
trainer = Viewer("t", "/tinh/xa-b/cb-b1/", (Grant(Role.TRAINER),))


def test_member_sees_courses_whose_audience_covers_their_cell() -> None:
    """Does a member see a course for their cell or any unit above it, and not a sibling cell's?"""
    assert can_see_course(member, [PROVINCE]) and can_see_course(member, [CELL_A1])
    assert not can_see_course(member, [CELL_A2])


def test_oversight_sees_courses_overlapping_its_scope() -> None:
    """Does a committee see courses below its scope and above it, but not another commune's?"""
    assert can_see_course(committee, [CELL_A1]) and can_see_course(committee, [PROVINCE])
    assert not can_see_course(committee, ["/tinh/xa-b/"])
    assert not can_see_course(secretary, [CELL_A2])


def test_trainer_sees_every_course_and_unit() -> None:
    """Do trainers see all courses and the whole tree, to choose audiences?"""
    assert can_see_course(trainer, [CELL_A2]) and can_read_org_unit(trainer, COMMUNE_A)


def test_org_units_follow_oversight() -> None:
    """Does a member see only their own unit, and a committee its subtree?"""
    assert can_read_org_unit(member, CELL_A1) and not can_read_org_unit(member, COMMUNE_A)
    assert can_read_org_unit(committee, CELL_A1) and not can_read_org_unit(committee, PROVINCE)
