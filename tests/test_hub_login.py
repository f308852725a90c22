"""The real hub: roster login through the login form, Vietnamese failures, throttling, activation, landing page."""

from __future__ import annotations

import datetime as dt
import re
import time

import httpx
import pytest

from diemcau.adapters.db import accounts
from diemcau.demo.seed import DEMO_PASSWORD, DEMO_UNACTIVATED
from diemcau.i18n import t
from tests.data_dirs import CHEAP
from tests.hubserver import HubProcess, login

pytestmark = pytest.mark.hub


def _error_text(html: str) -> str:
    return html.replace("&#39;", "'").replace("&quot;", '"')


def test_member_login_lands_on_portal_without_a_server(hub: HubProcess) -> None:
    """Does a member's login land on the light portal, with groups mirrored and no single-user server spawned?"""
    with httpx.Client() as client:
        page = login(client, hub.url, "42000002", DEMO_PASSWORD)
    assert page.status_code == 200
    assert str(page.url).startswith(f"{hub.url}services/diemcau/")
    assert "Trần Thị Bình" in page.text
    user = hub.api("GET", "/users/42000002").json()
    assert set(user["groups"]) >= {"org-tinh-demo", "org-xa-thach-ha", "org-cb-thon-dong", "role-member"}
    assert user["servers"] == {} and user["admin"] is False


def test_staff_groups_and_admin_flag(hub: HubProcess) -> None:
    """Are a secretary's and an admin's roles mirrored into hub groups and the admin flag?"""
    with httpx.Client() as client:
        assert login(client, hub.url, "42000001", DEMO_PASSWORD).status_code == 200
    with httpx.Client() as client:
        assert login(client, hub.url, "42000023", DEMO_PASSWORD).status_code == 200
    assert "role-secretary" in hub.api("GET", "/users/42000001").json()["groups"]
    admin = hub.api("GET", "/users/42000023").json()
    assert admin["admin"] is True and "role-admin" in admin["groups"]


def from_address(address: str) -> httpx.Client:
    """A browser at ``address``: the test runs on loopback, which the hub trusts as its proxy, so the address it
    names in X-Forwarded-For is taken as the client's, as a real proxy's would be."""
    return httpx.Client(headers={"X-Forwarded-For": address})


@pytest.mark.parametrize(
    ("username", "password"),
    [("42000003", "wrong-password"), ("99999999", "x"), ("42000007", "sai-mat-khau")],
    ids=["not activated", "unknown card", "wrong password"],
)
def test_refusals_say_the_same_in_vietnamese(hub: HubProcess, username: str, password: str) -> None:
    """Do an unactivated account, an unknown card and a wrong password all get the one Vietnamese message, so
    the form tells a stranger nothing about which cards exist?"""
    accounts.set_password(hub.factory, "42000007", "correct-horse", verifier=CHEAP)
    with from_address("198.51.100.20") as client:
        page = login(client, hub.url, username, password)
    assert page.status_code == 403
    assert t("login.failed") in _error_text(page.text)


def test_an_attacker_cannot_lock_the_member_out(hub: HubProcess) -> None:
    """After 10 wrong passwords from an attacker's address (told, in Vietnamese, to wait once they pile up), does
    the member with the right password, from their own address, get in at once?"""
    accounts.set_password(hub.factory, "42000004", "correct-horse", verifier=CHEAP)
    before, after = t("login.throttled", seconds=987654).split("987654")
    with from_address("198.51.100.66") as attacker:
        answers = [login(attacker, hub.url, "42000004", "nope") for _ in range(10)]
    texts = [_error_text(page.text) for page in answers]
    assert [p.status_code for p in answers[:5]] == [403] * 5 and all(t("login.failed") in x for x in texts[:5])
    waits = [re.search(re.escape(before) + r"(\d+)" + re.escape(after), x) for x in texts[5:]]
    assert any(waits), texts[-1]
    assert all(page.status_code in (403, 429) for page in answers)
    assert all(0 < int(w.group(1)) <= 60 for w in waits if w)
    with from_address("203.0.113.10") as member:
        page = login(member, hub.url, "42000004", "correct-horse")
    assert page.status_code == 200 and str(page.url).startswith(f"{hub.url}services/diemcau/")


def _activate(client: httpx.Client, hub: HubProcess, username: str, code: str, password: str) -> httpx.Response:
    page = client.get(f"{hub.url}hub/activate")
    xsrf = page.text.split('name="_xsrf" value="')[1].split('"')[0]
    form = {"username": username, "code": code, "password": password, "confirm": password, "_xsrf": xsrf}
    return client.post(f"{hub.url}hub/activate", data=form, follow_redirects=True)


def test_activation_code_first_login(hub: HubProcess) -> None:
    """Does a member activate with the secretary's code (typed in lowercase), set a password and land signed in?"""
    with httpx.Client() as client:
        page = _activate(client, hub, DEMO_UNACTIVATED, hub.activation_code.lower(), "mat-khau-moi")
    assert page.status_code == 200 and str(page.url).startswith(f"{hub.url}services/diemcau/")
    with httpx.Client() as client:
        assert login(client, hub.url, DEMO_UNACTIVATED, "mat-khau-moi").status_code == 200
    with httpx.Client() as client:  # the code is spent: the page says so, in Vietnamese, and leads to the login
        again = _activate(client, hub, DEMO_UNACTIVATED, hub.activation_code, "another-one")
    assert again.status_code == 403 and t("login.activation_code_used") in _error_text(again.text)
    with httpx.Client() as client:
        assert login(client, hub.url, DEMO_UNACTIVATED, "mat-khau-moi").status_code == 200  # password unchanged


def test_expired_and_wrong_activation_codes(hub: HubProcess) -> None:
    """Do an expired code and a wrong code each get a clear message and leave the account without a password?"""
    code = accounts.issue_activation_code(hub.factory, "42000005", dt.timedelta(seconds=-1), verifier=CHEAP)
    with httpx.Client() as client:
        expired = _activate(client, hub, "42000005", code, "mat-khau-moi")
        wrong = _activate(client, hub, "42000005", "AAAAAAAA", "mat-khau-moi")
    assert expired.status_code == 403 and t("login.activation_code_expired") in _error_text(expired.text)
    assert wrong.status_code == 403 and t("login.activation_failed") in _error_text(wrong.text)
    with hub.factory() as session:
        member = accounts.find_member(session, "42000005")
        assert member is not None and member.password_hash is None


def test_service_requires_login(hub: HubProcess) -> None:
    """Does the API service send a browser to log in, and answer 401 to an API call without a token?"""
    page = httpx.get(f"{hub.url}services/diemcau/", follow_redirects=True)
    assert "/hub/login" in str(page.url)
    assert httpx.get(f"{hub.url}services/diemcau/api/me").status_code == 401
    token = hub.token_for("42000002")
    me = httpx.get(f"{hub.url}services/diemcau/api/me", headers={"Authorization": f"token {token}"})
    assert me.status_code == 200 and me.json()["username"] == "42000002"


def test_members_cannot_spawn_but_staff_can(hub: HubProcess) -> None:
    """Is a member refused a single-user server, while a trainer gets one for dashboards and grading?"""
    member = hub.token_for("42000002")
    refused = httpx.post(
        f"{hub.url}hub/api/users/42000002/server", headers={"Authorization": f"token {member}"}, timeout=30
    )
    assert refused.status_code == 403
    with httpx.Client() as client:  # logging in puts the trainer in the staff groups
        assert login(client, hub.url, "42000022", DEMO_PASSWORD).status_code == 200
    trainer = hub.token_for("42000022")
    started = httpx.post(
        f"{hub.url}hub/api/users/42000022/server", headers={"Authorization": f"token {trainer}"}, timeout=60
    )
    assert started.status_code in (201, 202), hub.log()[-3000:]
    try:
        deadline = time.monotonic() + 60
        while not hub.api("GET", "/users/42000022").json()["servers"].get("", {}).get("ready"):
            assert time.monotonic() < deadline, hub.log()[-3000:]
            time.sleep(0.2)
    finally:
        hub.api("DELETE", "/users/42000022/server")


def test_hub_pages_a_user_can_meet_are_vietnamese(hub: HubProcess) -> None:
    """Does a member who opens a staff address, or an address that does not exist, get the hub's error page in
    Vietnamese (it was JupyterHub's English 404), and a secretary whose bookmarked dashboard's server is stopped a
    Vietnamese page with a button to start it (it was "Server not running")?"""
    with httpx.Client() as client:
        assert login(client, hub.url, "42000002", DEMO_PASSWORD).status_code == 200
        missing = client.get(f"{hub.url}hub/khong-co-trang-nay")
        staff_page = client.get(f"{hub.url}user/42000001/voila/render/cell.ipynb", follow_redirects=True)
    assert missing.status_code == 404 and t("hub.not_found_text") in _error_text(missing.text)
    assert "Not Found" not in missing.text and 'lang="vi"' in missing.text
    assert staff_page.status_code in (403, 404) and t("hub.not_found_text") in _error_text(staff_page.text)
    with httpx.Client() as client:
        assert login(client, hub.url, "42000001", DEMO_PASSWORD).status_code == 200
        stopped = client.get(f"{hub.url}user/42000001/voila/render/cell.ipynb", follow_redirects=True)
    assert t("hub.not_running_title") in _error_text(stopped.text) and t("hub.start") in _error_text(stopped.text)
    assert "Server not running" not in stopped.text and "Launch" not in stopped.text
    assert 'http-equiv="refresh" content="1;url=/hub/spawn/42000001' in stopped.text  # starts by itself


def test_the_starting_page_is_vietnamese_and_reloads_itself() -> None:
    """Is the page shown while a staff server starts Vietnamese, without script, and does it reload itself (the
    hub redirects a reload to the dashboard once the server is ready)?"""
    from pathlib import Path

    import jinja2

    from diemcau.i18n import load_catalogue

    templates = Path(__file__).resolve().parent.parent / "hub_config" / "templates"
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates)), autoescape=True)
    html = env.get_template("spawn_pending.html").render(msg=load_catalogue("vi"), base_url="/hub/")
    assert t("hub.starting_title") in html and 'http-equiv="refresh"' in html
    assert "<script" not in html and "Your server" not in html
