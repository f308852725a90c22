"""HubIdentity without a hub: header parsing, page-vs-API login answers, and the OAuth callback's checks.

The one HTTP call HubOAuth makes to the hub is answered by ``tests.fakes.OfflineHubOAuth``; the real hub is
exercised by ``tests/test_hub_*.py``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from fastapi.testclient import TestClient

from diemcau.apps.api.__main__ import bind_address
from diemcau.apps.api.app import create_app
from diemcau.apps.api.plumbing.identity import HubIdentity, token_from_header, wants_login_redirect
from diemcau.apps.api.plumbing.token_cache import TokenCache, digest, token_cache_for
from diemcau.i18n import t
from tests.fakes import OfflineHubOAuth
from tests.queue_support import REDIS_URL
from tests.seed import seed_small_province

PREFIX = "/services/diemcau"
HUB_CONFIG = dict(
    api_token="service-secret",
    oauth_client_id="service-diemcau",
    base_url=PREFIX + "/",
    hub_prefix="/hub/",
    api_url="http://127.0.0.1:8081/hub/api",
    access_scopes={"access:services!service=diemcau"},
)
MEMBER_MODEL = {"kind": "user", "name": "a1001", "scopes": ["access:services!service=diemcau"]}


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("token abc", "abc"),
        ("Bearer abc", "abc"),
        ("bearer  abc ", "abc"),
        ("Basic abc", None),
        ("", None),
        ("token", None),
        ("token a b", None),
    ],
)
def test_token_from_header(header: str, token: str | None) -> None:
    """Are ``token`` and ``Bearer`` schemes read, case-insensitively, and anything else ignored?"""
    assert token_from_header(header) == token


@pytest.mark.parametrize(
    ("method", "path", "accept", "redirect"),
    [
        ("GET", f"{PREFIX}/", "text/html,application/xhtml+xml", True),
        ("GET", f"{PREFIX}/", "*/*", True),
        ("GET", f"{PREFIX}/", "application/json", False),
        ("GET", f"{PREFIX}/api/me", "text/html", False),
        ("POST", f"{PREFIX}/", "text/html", False),
        ("GET", f"{PREFIX}/openapi.json", "*/*", False),
    ],
)
def test_only_browser_pages_redirect_to_login(method: str, path: str, accept: str, redirect: bool) -> None:
    """Is a login redirect reserved for browsers asking for a page, while API paths always get 401?"""
    assert wants_login_redirect(method, path, accept, PREFIX) is redirect


def test_bind_address_follows_the_hub() -> None:
    """Does the service listen where the hub says, defaulting to loopback?"""
    assert bind_address("http://127.0.0.1:10101", 8090) == ("127.0.0.1", 10101)
    assert bind_address(None, 8090) == ("127.0.0.1", 8090)


def test_missing_hub_environment_is_explained() -> None:
    """Does running outside the hub say what to do instead of a bare traitlets error?"""
    with pytest.raises(RuntimeError, match="managed service"):
        HubIdentity(api_token="", oauth_client_id="x")


def test_an_api_without_access_scopes_does_not_start() -> None:
    """Does a replica started without JUPYTERHUB_SERVICE_NAME (no access scopes: any hub token would pass) refuse
    to start, saying what to set?"""
    with pytest.raises(RuntimeError, match="JUPYTERHUB_SERVICE_NAME"):
        HubIdentity(OfflineHubOAuth(users={}, codes={}, **{**HUB_CONFIG, "access_scopes": set()}))


@pytest.fixture
def hub() -> OfflineHubOAuth:
    return OfflineHubOAuth(users={"member-token": MEMBER_MODEL}, codes={"the-code": "member-token"}, **HUB_CONFIG)


@pytest.fixture
def client(settings, sqlite_factory, hub) -> TestClient:
    seed_small_province(sqlite_factory)
    app = create_app(settings, HubIdentity(hub), session_factory=sqlite_factory)
    return TestClient(app, follow_redirects=False)


def test_page_without_login_redirects_to_hub_oauth(client: TestClient, hub: OfflineHubOAuth) -> None:
    """Does a browser get sent to the hub's authorize URL with state and PKCE, the state kept in a cookie?"""
    response = client.get(f"{PREFIX}/?tab=1", headers={"Accept": "text/html"})
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    query = parse_qs(location.query)
    assert location.path == "/hub/api/oauth2/authorize"
    assert query["client_id"] == ["service-diemcau"] and query["response_type"] == ["code"]
    assert query["redirect_uri"] == [f"{PREFIX}/oauth_callback"] and query["code_challenge_method"] == ["S256"]
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("service-diemcau-oauth-state=") and "Max-Age=600" in cookie
    assert f"Path={PREFIX}/" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_api_without_login_is_401(client: TestClient) -> None:
    """Does an API client without a token get a JSON 401, not a redirect?"""
    response = client.get(f"{PREFIX}/api/me", headers={"Accept": "text/html"})
    assert response.status_code == 401 and "detail" in response.json()


def test_oauth_callback_sets_cookie_and_returns(client: TestClient, hub: OfflineHubOAuth) -> None:
    """Does a completed login set the token cookie, go back to the page, and then authenticate GETs only?"""
    login = client.get(f"{PREFIX}/", headers={"Accept": "text/html"})
    state = parse_qs(urlsplit(login.headers["location"]).query)["state"][0]
    done = client.get(f"{PREFIX}/oauth_callback", params={"code": "the-code", "state": state})
    assert done.status_code == 302 and done.headers["location"] == f"{PREFIX}/"
    assert "service-diemcau=" in done.headers["set-cookie"]
    assert client.get(f"{PREFIX}/api/me").json()["username"] == "a1001"
    # Cookies never authorize writes: a cross-site form cannot act as the member.
    assert client.post(f"{PREFIX}/api/members/a1001/unlock").status_code == 401


def test_oauth_callback_rejects_a_foreign_state(client: TestClient) -> None:
    """Is a callback whose state is not this browser's refused (login CSRF), telling the member in Vietnamese to
    log in again, and a callback without its code likewise?"""
    client.get(f"{PREFIX}/", headers={"Accept": "text/html"})
    response = client.get(f"{PREFIX}/oauth_callback", params={"code": "the-code", "state": "someone-elses"})
    assert (response.status_code, response.json()["detail"]) == (403, t("api.login_again"))
    missing = client.get(f"{PREFIX}/oauth_callback", params={"state": "someone-elses"})
    assert (missing.status_code, missing.json()["detail"]) == (400, t("api.login_again"))


def test_forged_cookie_is_ignored(client: TestClient) -> None:
    """Is an unsigned token planted in the cookie ignored, a non-ASCII one too (401, never a 500)?"""
    client.cookies.set("service-diemcau", "member-token")
    assert client.get(f"{PREFIX}/api/me").status_code == 401
    odd = {"Cookie": "service-diemcau=bài.giảng".encode()}
    assert client.get(f"{PREFIX}/api/me", headers=odd).status_code == 401


def test_header_token_is_checked_once_then_cached(client: TestClient, hub: OfflineHubOAuth) -> None:
    """Are token lookups cached, so each request does not ask the hub again?"""
    for _ in range(3):
        assert client.get(f"{PREFIX}/api/me", headers={"Authorization": "token member-token"}).status_code == 200
    assert len(hub.requests) == 1


def test_token_without_the_service_scope_is_refused(client: TestClient, hub: OfflineHubOAuth) -> None:
    """Is a hub token that may not access this service treated as no login?"""
    hub.users["narrow-token"] = {**MEMBER_MODEL, "scopes": ["read:users:activity!user=a1001"]}
    assert client.get(f"{PREFIX}/api/me", headers={"Authorization": "token narrow-token"}).status_code == 401


def test_a_login_begun_on_one_replica_completes_on_another(settings, sqlite_factory) -> None:  # type: ignore[no-untyped-def]
    """Behind nginx the OAuth callback may land on another API replica than the one that sent the browser to the
    hub: does it still return to the page asked for, and send the PKCE verifier that matches the challenge?"""
    import base64
    import hashlib

    seed_small_province(sqlite_factory)
    hubs = [
        OfflineHubOAuth(users={"member-token": MEMBER_MODEL}, codes={"the-code": "member-token"}, **HUB_CONFIG)
        for _ in range(2)
    ]
    first, second = (
        TestClient(create_app(settings, HubIdentity(hub), session_factory=sqlite_factory), follow_redirects=False)
        for hub in hubs
    )
    login = first.get(f"{PREFIX}/?tab=1", headers={"Accept": "text/html"})
    query = parse_qs(urlsplit(login.headers["location"]).query)
    second.cookies.update(login.cookies)
    done = second.get(f"{PREFIX}/oauth_callback", params={"code": "the-code", "state": query["state"][0]})
    assert done.status_code == 302 and done.headers["location"] == f"{PREFIX}/?tab=1"
    verifier = hubs[1].token_forms[0]["code_verifier"][0]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    assert challenge == query["code_challenge"][0]
    first.cookies.update(done.cookies)  # the login cookie works on every replica
    assert first.get(f"{PREFIX}/api/me").json()["username"] == "a1001"


def test_a_forged_or_stale_state_cookie_is_refused(client: TestClient) -> None:
    """Is a state cookie that was not signed by the service (a chosen next page or verifier), or one signed for
    another state, refused with the Vietnamese 'log in again'?"""
    login = client.get(f"{PREFIX}/", headers={"Accept": "text/html"})
    state = parse_qs(urlsplit(login.headers["location"]).query)["state"][0]
    sealed = client.cookies["service-diemcau-oauth-state"]
    payload, _, mac = sealed.rpartition(".")
    client.cookies.clear()
    callback = f"{PREFIX}/oauth_callback"
    for forged in (f"{payload}.{mac[:-2]}AA", state, f"{payload}x.{mac}", f"{payload[:-4]}.{mac}"):
        cookie = {"Cookie": f"service-diemcau-oauth-state={forged}"}
        response = client.get(callback, params={"code": "the-code", "state": state}, headers=cookie)
        assert (response.status_code, response.json()["detail"]) == (403, t("api.login_again"))
    cookie = {"Cookie": f"service-diemcau-oauth-state={sealed}"}
    other = client.get(callback, params={"code": "the-code", "state": "another-state"}, headers=cookie)
    assert other.status_code == 403
    odd = client.get(callback, params={"code": "the-code", "state": "bài-giảng"}, headers=cookie)
    assert odd.status_code == 403  # a non-ASCII state is refused, not a 500
    expired = HubIdentity(OfflineHubOAuth(users={}, codes={}, **HUB_CONFIG))._seal({"state": state, "until": 0})
    stale = {"Cookie": f"service-diemcau-oauth-state={expired}"}
    assert client.get(callback, params={"code": "the-code", "state": state}, headers=stale).status_code == 403
    assert client.get(callback, params={"code": "the-code", "state": state}, headers=cookie).status_code == 302


@pytest.fixture
def shared_redis() -> Iterator[redis.Redis]:
    """The test Redis (``scripts/ensure_redis.sh``), its keys under this test's prefix removed afterwards."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError:
        if os.environ.get("DIEMCAU_REQUIRE_REDIS") == "1":
            pytest.fail(f"Redis is required but not reachable at {REDIS_URL}; run scripts/ensure_redis.sh")
        pytest.skip("Redis not running (make test starts it)")
    yield client
    for key in client.scan_iter(f"{TOKEN_PREFIX}:*"):
        client.delete(key)
    client.close()


TOKEN_PREFIX = f"test-tokens-{os.getpid()}"


def _replica(settings, factory, hub: OfflineHubOAuth, shared: redis.Redis | None) -> TestClient:  # type: ignore[no-untyped-def]
    cache = TokenCache(shared=shared, prefix=TOKEN_PREFIX)
    return TestClient(create_app(settings, HubIdentity(hub, token_cache=cache), session_factory=factory))


def test_replicas_sharing_redis_ask_the_hub_once_per_token(settings, sqlite_factory, shared_redis) -> None:  # type: ignore[no-untyped-def]
    """With three replicas on one Redis, is a member's token checked at the hub once in all (not once per
    replica), is only its digest stored, and is a refused token neither shared nor accepted anywhere?"""
    seed_small_province(sqlite_factory)
    hubs = [OfflineHubOAuth(users={"member-token": MEMBER_MODEL}, codes={}, **HUB_CONFIG) for _ in range(3)]
    replicas = [_replica(settings, sqlite_factory, hub, shared_redis) for hub in hubs]
    member = {"Authorization": "token member-token"}
    for _ in range(2):
        for replica in replicas:
            assert replica.get(f"{PREFIX}/api/me", headers=member).json()["username"] == "a1001"
    assert [len(hub.requests) for hub in hubs] == [1, 0, 0]
    keys = [key.decode() for key in shared_redis.scan_iter(f"{TOKEN_PREFIX}:*")]
    assert keys == [f"{TOKEN_PREFIX}:token:{digest('member-token')}"]
    assert all(b"member-token" not in (shared_redis.get(key) or b"") for key in keys)
    assert 0 < shared_redis.pttl(keys[0]) <= 60_000  # forgotten everywhere when the first answer expires
    for replica in replicas:
        assert replica.get(f"{PREFIX}/api/me", headers={"Authorization": "token forged"}).status_code == 401
    assert [len(hub.requests) for hub in hubs] == [2, 1, 1]  # each asked, none remembered
    assert len(list(shared_redis.scan_iter(f"{TOKEN_PREFIX}:*"))) == 1


def test_logging_out_ends_the_services_login_on_every_replica(settings, sqlite_factory, shared_redis) -> None:  # type: ignore[no-untyped-def]
    """A member logs in on a shared phone, then taps *Đăng xuất*: is the service's cookie deleted, the hub's
    answer about its token forgotten here and in Redis, and the browser sent on to the hub's logout? Before, the
    cookie outlived the hub's logout and its token was kept up to a minute, so the next member on the phone saw the
    first one's portal; now the old cookie, replayed at another replica, goes back to the hub, which revoked it.
    (A replica that had itself seen the token keeps it in memory until its minute is up; nginx keeps each caller
    on one replica, the one that served the logout.)"""
    seed_small_province(sqlite_factory)
    hub = OfflineHubOAuth(users={"member-token": MEMBER_MODEL}, codes={"the-code": "member-token"}, **HUB_CONFIG)
    phone, other = (_replica(settings, sqlite_factory, hub, shared_redis) for _ in range(2))
    phone.follow_redirects = False
    login = phone.get(f"{PREFIX}/", headers={"Accept": "text/html"})
    state = parse_qs(urlsplit(login.headers["location"]).query)["state"][0]
    phone.get(f"{PREFIX}/oauth_callback", params={"code": "the-code", "state": state})
    cookie = phone.cookies.get("service-diemcau")
    assert phone.get(f"{PREFIX}/api/me").json()["username"] == "a1001"
    replayed = {"Cookie": f"service-diemcau={cookie}"}
    assert len(list(shared_redis.scan_iter(f"{TOKEN_PREFIX}:*"))) == 1  # the hub's answer, for every replica
    asked = len(hub.requests)

    out = phone.get(f"{PREFIX}/logout")
    assert out.status_code == 302 and out.headers["location"].endswith("/hub/logout")
    deleted = [c for c in out.headers.get_list("set-cookie") if c.startswith("service-diemcau=")]
    assert deleted and all("Max-Age=0" in c and f"Path={PREFIX}/" in c for c in deleted)
    assert phone.get(f"{PREFIX}/api/me").status_code == 401  # the browser has no login here any more
    assert list(shared_redis.scan_iter(f"{TOKEN_PREFIX}:*")) == []
    del hub.users["member-token"]  # the hub's logout revoked the token
    assert other.get(f"{PREFIX}/api/me", headers=replayed).status_code == 401
    assert len(hub.requests) == asked + 1  # the replayed cookie was checked at the hub again, not taken from a cache


def test_a_shared_answer_expires_everywhere_with_the_first(shared_redis) -> None:  # type: ignore[no-untyped-def]
    """Does a replica that reads a shared answer keep it only until the first answer's expiry, and does an answer
    past it, or one that is not the cache's own, count as unknown?"""
    first, second = (TokenCache(shared=shared_redis, prefix=TOKEN_PREFIX) for _ in range(2))
    first.put("t1", "a1001")
    assert second.get("t1") == "a1001"
    shared_redis.set(f"{TOKEN_PREFIX}:token:{digest('t2')}", f"{time.time() - 1} a1002")
    shared_redis.set(f"{TOKEN_PREFIX}:token:{digest('t3')}", "not a stamp")
    shared_redis.set(f"{TOKEN_PREFIX}:token:{digest('t4')}", b"\xff\xfe")
    assert [second.get(token) for token in ("t2", "t3", "t4", "never-seen")] == [None, None, None, None]


def test_an_unreachable_redis_means_asking_the_hub(settings, sqlite_factory) -> None:  # type: ignore[no-untyped-def]
    """With the shared cache's Redis down, is the member still let in (the hub asked), never a 5xx?"""
    seed_small_province(sqlite_factory)
    hub = OfflineHubOAuth(users={"member-token": MEMBER_MODEL}, codes={}, **HUB_CONFIG)
    gone = redis.Redis(
        host="127.0.0.1", port=9, socket_timeout=0.5, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0)
    )
    replica = _replica(settings, sqlite_factory, hub, gone)
    assert replica.get(f"{PREFIX}/api/me", headers={"Authorization": "token member-token"}).status_code == 200
    assert replica.get(f"{PREFIX}/api/me", headers={"Authorization": "token member-token"}).status_code == 200
    assert len(hub.requests) == 1  # the process's own entry still saves the hub the second question


def test_the_token_cache_is_shared_only_where_the_queue_is_on_redis(settings) -> None:  # type: ignore[no-untyped-def]
    """Does one process on SQLite keep its own cache, and replicas on Redis share the queue's Redis?"""
    assert token_cache_for(settings).shared is None
    on_redis = settings.model_copy(
        update={"jobs": settings.jobs.model_copy(update={"backend": "redis", "redis_url": REDIS_URL})}
    )
    shared = token_cache_for(on_redis)
    assert shared.shared is not None and shared.prefix == f"{on_redis.jobs.queue_name}:token:"
