"""Login throttling: an attacker cannot lock a member out, cannot tell unknown cards from wrong passwords, and
cannot sweep the roster quickly from one address. Pure rules, then the counters on SQLite and PostgreSQL, then
the authenticator's reading of the client address. Time is passed in: nothing here sleeps."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tornado.httputil import HTTPHeaders, HTTPServerRequest, RequestStartLine
from traitlets import TraitError
from traitlets.config import Config

from diemcau.adapters.db import accounts, login_throttle
from diemcau.adapters.db.accounts import AccountError, LoginResult, activate, check_login, issue_activation_code
from diemcau.adapters.db.engine import make_engine, make_sessionmaker
from diemcau.adapters.db.models import LoginThrottleRow
from diemcau.adapters.db.orgs import load_org_tree
from diemcau.adapters.db.roster_store import import_roster
from diemcau.adapters.passwords import SecretVerifier
from diemcau.apps.hub.authenticator import RosterAuthenticator
from diemcau.apps.hub.config import update_auth
from diemcau.core.credentials import (
    Backoff,
    FailureCount,
    LoginOutcome,
    ThrottlePolicy,
    client_address,
    parse_networks,
    refusal_key,
    wait_of,
    wait_seconds,
)
from diemcau.i18n import t
from diemcau.settings import AuthSettings, load_settings
from tests.data_dirs import CHEAP, CHEAP_ARGON2

NOW = dt.datetime(2026, 3, 1, 8, 0, 0)
POLICY = ThrottlePolicy()
LOOPBACK = parse_networks(["127.0.0.1", "::1"])
ATTACKER, MEMBER_ADDRESS = "198.51.100.66", "203.0.113.10"
PASSWORD = "mat-khau-dung"
CARDS = [f"4200{n:04d}" for n in range(1, 41)]  # sequential, as real card numbers are
MEMBER = CARDS[0]

# --- the pure rules ----------------------------------------------------------------------------------------


def test_backoff_doubles_after_the_free_failures_up_to_its_cap() -> None:
    """Do the free failures cost nothing, then each further failure double the wait, never past the cap?"""
    backoff = Backoff(free=3, first=dt.timedelta(seconds=2), cap=dt.timedelta(seconds=60))
    assert [backoff.delay(n).total_seconds() for n in range(10)] == [0, 0, 0, 2, 4, 8, 16, 32, 60, 60]
    assert backoff.delay(10**9) == backoff.cap


def test_failures_are_forgotten_and_a_clock_ahead_adds_nothing() -> None:
    """Is a counter forgotten ``forget_after`` its last failure, and is a wait never longer than its delay even
    when the failure was stamped by a hub whose clock runs ahead?"""
    count = FailureCount(POLICY.pair.free + 3, NOW)
    delay = POLICY.pair.delay(count.failures)
    assert wait_of(count, POLICY.pair, POLICY, NOW) == delay
    assert wait_of(count, POLICY.pair, POLICY, NOW + delay) == dt.timedelta(0)
    assert wait_of(count, POLICY.pair, POLICY, NOW - dt.timedelta(hours=5)) == delay
    assert wait_of(count, POLICY.pair, POLICY, NOW + POLICY.forget_after) == dt.timedelta(0)


def test_a_policy_that_forgets_before_its_waits_end_is_refused() -> None:
    """Is a policy refused whose failures would be forgotten before the wait they caused is over?"""
    with pytest.raises(ValueError, match="forget_after"):
        ThrottlePolicy(forget_after=dt.timedelta(seconds=30))


def test_waits_are_told_in_whole_seconds_rounded_up() -> None:
    """Is a member never told to retry before the wait is over?"""
    assert [wait_seconds(dt.timedelta(seconds=s)) for s in (0, 0.2, 1, 59.01)] == [0, 1, 1, 60]


def test_one_message_for_every_refusal_but_a_wait() -> None:
    """Do an unknown card, a wrong password, an inactive and an unactivated account get the very same message?"""
    refused = [LoginOutcome.UNKNOWN_USER, LoginOutcome.WRONG_PASSWORD, LoginOutcome.INACTIVE]
    assert {t(f"login.{refusal_key(o)}") for o in [*refused, LoginOutcome.NOT_ACTIVATED]} == {t("login.failed")}
    assert refusal_key(LoginOutcome.THROTTLED) == "throttled"
    assert "42" in t("login.throttled", seconds=42)


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "expected"),
    [
        # configurable-http-proxy on loopback appends the client it saw: that one is believed
        ("127.0.0.1", ["203.0.113.5"], "203.0.113.5"),
        # whatever the client wrote itself is left of it and proves nothing
        ("127.0.0.1", ["10.9.9.9, 1.2.3.4, 203.0.113.5"], "203.0.113.5"),
        # a reverse proxy in front of the hub's proxy, also trusted (below): the hop before it
        ("127.0.0.1", ["1.2.3.4, 203.0.113.5, 127.0.0.1"], "203.0.113.5"),
        # repeated headers are read as one list, in order
        ("127.0.0.1", ["1.2.3.4", "203.0.113.5"], "203.0.113.5"),
        # a peer that is no trusted proxy: its X-Forwarded-For is ignored
        ("198.51.100.66", ["127.0.0.1"], "198.51.100.66"),
        ("198.51.100.66", ["203.0.113.5"], "198.51.100.66"),
        # junk ends the walk at the last known hop, never at a chosen address
        ("127.0.0.1", ["1.2.3.4, not-an-ip"], "127.0.0.1"),
        # no header, or only trusted hops: the furthest one
        ("127.0.0.1", [], "127.0.0.1"),
        ("::ffff:198.51.100.66", [], "198.51.100.66"),
    ],
)
def test_client_address_believes_only_trusted_proxies(peer: str, forwarded_for: list[str], expected: str) -> None:
    """Is the client the right-most address that no trusted proxy vouches for?"""
    assert client_address(peer, forwarded_for, LOOPBACK) == expected


# --- counters in the database ------------------------------------------------------------------------------

ORG_TREE = """\
units:
  - code: ht
    name: Đảng bộ tỉnh Hà Tĩnh
    kind: province
    children:
      - {code: cb-1, name: Chi bộ thôn 1, kind: cell}
"""


class RecordingVerifier(SecretVerifier):
    """The real verifier (a real Argon2 check, against the dummy hash when there is none), noting each hash it
    was asked about: ``None`` means the dummy was checked."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_kib=8, parallelism=1)  # CHEAP's cost
        self.checked: list[str | None] = []

    def verify(self, stored_hash: str | None, secret: str) -> bool:
        self.checked.append(stored_hash)
        return super().verify(stored_hash, secret)


@pytest.fixture(scope="module")
def verifier() -> RecordingVerifier:
    return RecordingVerifier()


@pytest.fixture
def factory(session_factory: sessionmaker[Session], tmp_path: Path) -> sessionmaker[Session]:
    """40 members with sequential card numbers in one cell; the first has a password."""
    (tmp_path / "orgs.yaml").write_text(ORG_TREE, encoding="utf-8")
    rows = "".join(f"{card},Đảng viên {card},cb-1\n" for card in CARDS)
    (tmp_path / "roster.csv").write_text("Số thẻ đảng viên,Họ và tên,Chi bộ\n" + rows, encoding="utf-8")
    load_org_tree(session_factory, tmp_path / "orgs.yaml")
    import_roster(session_factory, tmp_path / "roster.csv")
    accounts.set_password(session_factory, MEMBER, PASSWORD, verifier=CHEAP)
    return session_factory


def attempt(
    factory: sessionmaker[Session], verifier: SecretVerifier, card: str, password: str, address: str, now: dt.datetime
) -> LoginResult:
    return check_login(factory, card, password, address=address, policy=POLICY, verifier=verifier, now=now)


def patient_guesses(
    factory: sessionmaker[Session], verifier: SecretVerifier, card: str, address: str, guesses: int, now: dt.datetime
) -> dt.datetime:
    """An attacker who makes ``guesses`` wrong guesses that are checked, each time waiting exactly as told (and
    retrying at once besides); returns the time of the last one."""
    made = 0
    while made < guesses:
        result = attempt(factory, verifier, card, "doan-mo", address, now)
        if result.outcome is LoginOutcome.THROTTLED:
            for _ in range(3):  # hammering while told to wait neither counts nor extends the wait
                assert attempt(factory, verifier, card, "doan-mo", address, now).wait == result.wait
            now += result.wait
        else:
            assert refusal_key(result.outcome) == "failed"
            made += 1
    return now


def test_ten_wrong_passwords_from_an_attacker_do_not_keep_the_member_out(
    factory: sessionmaker[Session], verifier: RecordingVerifier
) -> None:
    """After 10 wrong passwords from an attacker's address, does the member with the right password, from their
    own address, get in at once, while the attacker's address is told to wait?"""
    then = patient_guesses(factory, verifier, MEMBER, ATTACKER, 10, NOW)
    assert attempt(factory, verifier, MEMBER, PASSWORD, ATTACKER, then).outcome is LoginOutcome.THROTTLED
    result = attempt(factory, verifier, MEMBER, PASSWORD, MEMBER_ADDRESS, then)
    assert result.outcome is LoginOutcome.OK and result.account is not None and result.account.username == MEMBER


def test_a_long_attack_from_many_addresses_delays_the_member_at_most_a_minute(
    factory: sessionmaker[Session], verifier: RecordingVerifier
) -> None:
    """When many addresses together have guessed past the account's own threshold, is the member told to wait no
    longer than the account's cap (a minute), and let in once that wait is over?"""
    now = NOW
    for n in range(12):  # 12 addresses × 5 guesses: past the account threshold of 30
        now = patient_guesses(factory, verifier, MEMBER, f"198.51.100.{n}", POLICY.pair.free, now)
    told = attempt(factory, verifier, MEMBER, PASSWORD, MEMBER_ADDRESS, now)
    assert told.outcome is LoginOutcome.THROTTLED
    assert dt.timedelta(0) < told.wait <= POLICY.account.cap == dt.timedelta(minutes=1)
    assert attempt(factory, verifier, MEMBER, PASSWORD, MEMBER_ADDRESS, now + told.wait).outcome is LoginOutcome.OK


def test_unknown_and_existing_cards_are_throttled_alike(
    factory: sessionmaker[Session], verifier: RecordingVerifier
) -> None:
    """Do an unknown card and an existing one get the same refusals and the same waits, attempt by attempt, so
    neither the message nor the throttle tells which card exists?"""

    def answers(card: str, address: str) -> list[tuple[str, dt.timedelta]]:
        results = [attempt(factory, verifier, card, "doan-mo", address, NOW) for _ in range(POLICY.pair.free + 2)]
        return [(refusal_key(r.outcome), r.wait) for r in results]

    existing, unknown = answers(MEMBER, "198.51.100.1"), answers("99990001", "198.51.100.2")
    assert existing == unknown
    assert existing[-1] == ("throttled", POLICY.pair.first)


@pytest.mark.parametrize("card", ["99990001", CARDS[1]], ids=["unknown card", "not activated"])
def test_a_card_without_a_password_costs_one_argon2_check(
    factory: sessionmaker[Session], verifier: RecordingVerifier, card: str
) -> None:
    """Is a login on an unknown card, or on an account with no password yet, checked against the dummy hash, as
    many times as a wrong password is checked against the real one?"""
    verifier.checked.clear()
    attempt(factory, verifier, MEMBER, "doan-mo", "198.51.100.3", NOW)
    assert len(verifier.checked) == 1 and verifier.checked[0] is not None
    verifier.checked.clear()
    assert attempt(factory, verifier, card, "doan-mo", "198.51.100.4", NOW).outcome is not LoginOutcome.OK
    assert verifier.checked == [None]


def test_the_dummy_hash_costs_what_a_real_one_does() -> None:
    """At production's cost (the settings' defaults), is the dummy hash made with the same Argon2 parameters as
    members' hashes, and never matched?"""
    verifier = SecretVerifier.from_settings(AuthSettings())
    parameters = verifier.hash("x").rsplit("$", 2)[0]
    assert verifier._dummy_hash.rsplit("$", 2)[0] == parameters
    assert verifier.verify(None, "") is False and verifier.verify("", "x") is False


def test_the_default_cost_is_rfc_9106_low_memory() -> None:
    """Do the default settings hash with RFC 9106's low-memory profile (t=3, m=64 MiB, p=4), and does the
    environment choose another cost?"""
    assert SecretVerifier.from_settings(AuthSettings()).hash("x").startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    cheap = load_settings({"DIEMCAU_HOME": "/nonexistent", **CHEAP_ARGON2}).auth
    assert SecretVerifier.from_settings(cheap).hash("x").startswith("$argon2id$v=19$m=8,t=1,p=1$")


def test_a_hash_verifies_at_any_cost() -> None:
    """Does a hash made at production's cost verify under the tests' cheap verifier and the other way round (the
    parameters come from the stored hash), and a wrong secret fail either way?"""
    default = SecretVerifier()
    for made, checker in ((default, CHEAP), (CHEAP, default)):
        stored = made.hash("mat-khau-dung")
        assert checker.verify(stored, "mat-khau-dung") is True
        assert checker.verify(stored, "mat-khau-sai") is False


def test_one_address_sweeping_the_roster_is_slowed(factory: sessionmaker[Session], verifier: RecordingVerifier) -> None:
    """Does one address that tries one password on many cards (each card new to it) get told to wait once it has
    failed ``address.free`` times, on a card it never tried, while other addresses are untouched?"""
    for card in CARDS[: POLICY.address.free]:
        assert attempt(factory, verifier, card, "12345678", ATTACKER, NOW).outcome is not LoginOutcome.THROTTLED
    fresh = CARDS[POLICY.address.free]
    told = attempt(factory, verifier, fresh, "12345678", ATTACKER, NOW)
    assert told.outcome is LoginOutcome.THROTTLED and told.wait == POLICY.address.first
    assert attempt(factory, verifier, MEMBER, PASSWORD, MEMBER_ADDRESS, NOW).outcome is LoginOutcome.OK
    # A patient sweeper's waits grow to the address's cap.
    now = NOW
    for card in CARDS[POLICY.address.free :]:
        now = patient_guesses(factory, verifier, card, ATTACKER, 1, now)
    assert attempt(factory, verifier, MEMBER, "12345678", ATTACKER, now).wait == POLICY.address.cap


def test_activation_codes_share_the_throttle(factory: sessionmaker[Session], verifier: RecordingVerifier) -> None:
    """Do wrong activation codes count on the same counters as passwords, so mixing the two forms buys no
    guesses, and is an unknown card's activation checked against the dummy hash too?"""
    issue_activation_code(factory, CARDS[2], dt.timedelta(days=14), verifier=CHEAP)
    for _ in range(POLICY.pair.free - 1):
        attempt(factory, verifier, CARDS[2], "doan-mo", ATTACKER, NOW)
    with pytest.raises(AccountError) as caught:
        activate(
            factory,
            CARDS[2],
            "AAAA2222",
            "mat-khau-moi",
            8,
            address=ATTACKER,
            policy=POLICY,
            verifier=verifier,
            now=NOW,
        )
    assert caught.value.code == "activation_failed"
    assert attempt(factory, verifier, CARDS[2], "doan-mo", ATTACKER, NOW).outcome is LoginOutcome.THROTTLED
    verifier.checked.clear()
    with pytest.raises(AccountError) as caught:
        activate(
            factory,
            "99990009",
            "AAAA2222",
            "mat-khau-moi",
            8,
            address=MEMBER_ADDRESS,
            policy=POLICY,
            verifier=verifier,
            now=NOW,
        )
    assert caught.value.code == "activation_failed" and verifier.checked == [None, None]  # the code, a spent code


def test_counters_are_shared_by_every_hub_process(
    factory: sessionmaker[Session], verifier: RecordingVerifier, db_url: str
) -> None:
    """Does a second hub process (its own engine on the same database), or a restarted one, see the waits the
    first one imposed?"""
    patient_guesses(factory, verifier, MEMBER, ATTACKER, POLICY.pair.free, NOW)
    other_hub = make_sessionmaker(make_engine(db_url))
    assert attempt(other_hub, verifier, MEMBER, PASSWORD, ATTACKER, NOW).outcome is LoginOutcome.THROTTLED


def test_forgotten_counters_are_pruned(factory: sessionmaker[Session], verifier: RecordingVerifier) -> None:
    """Are counters deleted once forgotten (random card numbers must not pile up), and recent ones kept?"""
    attempt(factory, verifier, "99990001", "x", ATTACKER, NOW)
    attempt(factory, verifier, "99990002", "x", ATTACKER, NOW + POLICY.forget_after)
    assert login_throttle.prune(factory, POLICY, NOW + POLICY.forget_after) == 2  # 99990001's account and pair
    with factory() as session:
        keys = set(session.scalars(select(LoginThrottleRow.key)))
    assert keys == {"99990002", f"99990002 {ATTACKER}", ATTACKER}


# --- the authenticator's view of the request ---------------------------------------------------------------


class PeerConnection:
    """The edge of a Tornado request this test cannot open a socket for: the address at the other end."""

    def __init__(self, peer: str) -> None:
        self.context = type("Context", (), {"address": (peer, 50000)})()


def request_from(peer: str, forwarded_for: str = "") -> HTTPServerRequest:
    headers = HTTPHeaders({"Host": "hub.example", **({"X-Forwarded-For": forwarded_for} if forwarded_for else {})})
    # remote_ip as Tornado's xheaders would set it: whatever the header claims
    start = RequestStartLine("POST", "/hub/login", "HTTP/1.1")
    connection = PeerConnection(peer)
    request = HTTPServerRequest(start_line=start, headers=headers, connection=connection)  # type: ignore[arg-type]
    request.remote_ip = forwarded_for.split(",")[-1].strip() or peer
    return request


def test_authenticator_ignores_forwarded_for_from_an_untrusted_peer() -> None:
    """Does the authenticator read the client behind the configured proxy, and ignore X-Forwarded-For sent
    straight from anywhere else (where Tornado's remote_ip would have believed it)?"""
    roster = RosterAuthenticator()
    assert roster.client_address(request_from("127.0.0.1", "1.2.3.4, 203.0.113.5")) == "203.0.113.5"
    assert roster.client_address(request_from("198.51.100.66", "203.0.113.5")) == "198.51.100.66"
    behind_nginx = RosterAuthenticator(config=Config({"RosterAuthenticator": {"trusted_proxies": ["10.0.0.0/8"]}}))
    assert behind_nginx.client_address(request_from("10.1.2.3", "203.0.113.5, 10.0.0.9")) == "203.0.113.5"
    assert behind_nginx.client_address(request_from("127.0.0.1", "203.0.113.5")) == "127.0.0.1"


def test_a_mistyped_proxy_stops_the_hub() -> None:
    """Is a trusted proxy that is no address refused when the hub starts, not silently trusting nobody?"""
    with pytest.raises((TraitError, ValueError)):
        RosterAuthenticator(config=Config({"RosterAuthenticator": {"trusted_proxies": ["locahost"]}}))


def test_the_hub_hashes_at_the_settings_cost(settings) -> None:  # type: ignore[no-untyped-def]
    """Does the hub's authenticator verify at the cost of the settings' ``auth.argon2_*`` (the tests' cheapest
    here), not argon2-cffi's default?"""
    config = Config()
    update_auth(config, settings)
    roster = RosterAuthenticator(config=config)
    assert roster.verifier._dummy_hash.startswith("$argon2id$v=19$m=8,t=1,p=1$")


def test_a_secretary_sees_how_long_a_members_login_waits_and_unlock_clears_it(settings, session_factory) -> None:  # type: ignore[no-untyped-def]
    """After an attacker's wrong guesses on a member's card, does the member record tell the secretary how long
    the member's next login waits (not a fixed 'not locked'), one address's counter included, and does unlock
    bring it back to zero? Other members stay at zero."""
    from tests.apiclient import PREFIX, auth, seeded_client

    now = accounts.utcnow()  # the API's clock stands still: the wait it reports is not eaten by a slow machine
    client, _ = seeded_client(settings, session_factory, now=lambda: now.replace(tzinfo=dt.UTC))
    verifier = CHEAP
    for _ in range(POLICY.pair.free):  # the settings' defaults are ThrottlePolicy's; the next attempt would wait
        check_login(session_factory, "A1001", "sai", address=ATTACKER, policy=POLICY, verifier=verifier, now=now)

    def waits() -> dict[str, int]:
        listed = client.get(f"{PREFIX}/api/members", headers=auth("secretary")).json()
        return {m["card"]: m["login_wait_seconds"] for m in listed}

    assert waits()["a1001"] == wait_seconds(POLICY.pair.delay(POLICY.pair.free)) > 0
    assert waits()["a1002"] == 0
    one = client.get(f"{PREFIX}/api/members/a1001", headers=auth("secretary")).json()
    assert one["login_wait_seconds"] > 0
    unlocked = client.post(f"{PREFIX}/api/members/a1001/unlock", headers=auth("secretary")).json()
    assert unlocked["login_wait_seconds"] == 0 and waits()["a1001"] == 0
