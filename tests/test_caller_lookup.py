"""The one-query caller lookup gives exactly what the ORM reading gives (``find_member`` with its unit and
grants, ``member_record``), for every member of a seeded province, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db import accounts
from diemcau.adapters.db.accounts import find_member
from diemcau.adapters.db.caller_lookup import load_caller_facts, load_callers_facts
from diemcau.adapters.db.records import member_record
from diemcau.core.roles import Grant, Role
from tests.data_dirs import CHEAP
from tests.seed import MEMBERS, seed_small_province


def test_every_member_reads_the_same_as_through_the_orm(session_factory: sessionmaker[Session]) -> None:
    """Same viewer (unit path, grants with scopes) and same member record (unit, roles, account state),
    several grants, a grant everywhere, an inactive member, a password and a lock included."""
    seed_small_province(session_factory)
    accounts.grant_role(session_factory, "A1002", Role.TRAINER, "xa-a")  # a second grant, with a scope
    accounts.set_password(session_factory, "A1001", "mat-khau-dai-du", verifier=CHEAP)
    accounts.issue_activation_code(session_factory, "A2001", dt.timedelta(days=3), verifier=CHEAP)
    for _key, card, *_rest in MEMBERS:
        with session_factory() as session:
            row = find_member(session, card.lower())
            facts = load_caller_facts(session, card.lower())
            assert row is not None and facts is not None
            expected = member_record(row)
            orm_grants = {Grant(Role(g.role), g.org_unit.path if g.org_unit else None) for g in row.grants}
            assert (facts.viewer.username, facts.viewer.org_path) == (row.card_number.lower(), row.org_unit.path), card
            assert set(facts.viewer.grants) == orm_grants, card  # the ORM's order is the backend's
            assert (facts.card, facts.full_name, facts.unit, facts.active, facts.activated, facts.roles) == (
                expected.card,
                expected.full_name,
                expected.unit,
                expected.active,
                expected.activated,
                expected.roles,
            ), card
            assert (facts.locked_until, facts.activation_expires_at) == (
                expected.locked_until,
                expected.activation_expires_at,
            ), card


def test_an_unknown_card_is_none_and_case_does_not_matter(session_factory: sessionmaker[Session]) -> None:
    seed_small_province(session_factory)
    with session_factory() as session:
        assert load_caller_facts(session, "Z9999") is None
        upper, lower = load_caller_facts(session, "A1002"), load_caller_facts(session, "a1002")
    assert upper == lower and upper is not None and upper.roles == (Role.MEMBER, Role.SECRETARY)


def test_many_callers_in_one_read_are_each_as_read_alone(session_factory: sessionmaker[Session]) -> None:
    """Does the batched read (the API's coalesced cache misses) give every member exactly what reading them one
    at a time gives — grants in order, names as typed or upper-cased — and leave unknown names out?"""
    seed_small_province(session_factory)
    accounts.grant_role(session_factory, "A1002", Role.TRAINER, "xa-a")
    cards = [card for _key, card, *_rest in MEMBERS]
    with session_factory() as session:
        alone = {card.lower(): load_caller_facts(session, card) for card in cards}
        together = load_callers_facts(session, [*(c.upper() for c in cards), " z9999 ", cards[0].lower()])
    assert together == alone and len(together) == len(cards)
    assert together["a1002"].grants[-1].role == Role.TRAINER  # granted last, listed last
