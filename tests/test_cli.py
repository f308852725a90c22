"""The real ``diemcau`` command line, run in-process on a data directory and content folders in tmp."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import NamedTuple

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner, Result

from diemcau.adapters.db.engine import make_engine, make_sessionmaker
from diemcau.adapters.db.models import MemberRow, RoleGrantRow
from diemcau.apps.cli import app
from diemcau.core.credentials import ACTIVATION_ALPHABET, ACTIVATION_CODE_LENGTH
from diemcau.demo.seed import DEMO_LOGINS, DEMO_PASSWORD, DEMO_UNACTIVATED
from tests.data_dirs import CHEAP, data_dir_environ, sqlite_url

SOURCE_TREE = Path(__file__).resolve().parents[1]


def env_for(root: Path) -> dict[str, str]:
    """Environment pointing the CLI at a data directory and content folders under ``root``."""
    return data_dir_environ(root, DIEMCAU_DATABASE__URL=sqlite_url(root))


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """Environment pointing the CLI at a fresh data directory and content folders in tmp."""
    return env_for(tmp_path)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def invoke(runner: CliRunner, env: dict[str, str], *args: str, code: int = 0) -> Result:
    """Run the CLI with ``args`` and check its exit code."""
    result = runner.invoke(app, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


# What `make demo` runs with: no DIEMCAU_* variable at all (None unsets one in CliRunner's environment).
NO_SETTINGS = {
    name: None
    for name in (
        "DIEMCAU_HOME",
        "DIEMCAU_CONFIG",
        "DIEMCAU_DATABASE__URL",
        "DIEMCAU_CONTENT__COURSES_DIR",
        "DIEMCAU_CONTENT__TRANSCRIPTS_DIR",
    )
}
# A source checkout, as far as the demo could write into it.
CHECKOUT = ("pyproject.toml", "Makefile", "src/diemcau/demo/seed.py", "courses/README.md", "transcripts/.gitkeep")


def files_outside_var(root: Path) -> set[str]:
    """Every file under ``root`` except those in its data directory ``var/``, relative to ``root``."""
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.relative_to(root).parts[0] != "var"}


class DemoInit(NamedTuple):
    root: Path  # the checkout, with the data directory in var/
    output: str  # what the first `init --demo` printed


@pytest.fixture(scope="module")
def demo_init(tmp_path_factory: pytest.TempPathFactory) -> DemoInit:
    """One `init --demo` per module (it publishes and transcribes the demo lecture: ~25 s), copied per test. It
    runs as `make demo` does: in a checkout (``CHECKOUT``), with no settings, so everything uses the defaults."""
    root = tmp_path_factory.mktemp("demo-template")
    for name in CHECKOUT:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("", encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        result = invoke(CliRunner(), NO_SETTINGS, "init", "--demo")  # type: ignore[arg-type]
    return DemoInit(root, result.output)


@pytest.fixture(scope="module")
def demo_template(demo_init: DemoInit) -> Path:
    """The checkout where the module's `init --demo` ran."""
    return demo_init.root


def demo_env(root: Path) -> dict[str, str]:
    """Environment for the demo data directory ``root/var``: content folders where the defaults put them."""
    var = root / "var"
    return env_for(root) | {
        "DIEMCAU_CONTENT__COURSES_DIR": str(var / "courses"),
        "DIEMCAU_CONTENT__TRANSCRIPTS_DIR": str(var / "transcripts"),
    }


@pytest.fixture
def demo(demo_template: Path, tmp_path: Path) -> dict[str, str]:
    """A data directory of this test's own with the demo province loaded (a copy of the module's template)."""
    shutil.copytree(demo_template / "var", tmp_path / "var", dirs_exist_ok=True)
    config = tmp_path / "var" / "diemcau.toml"
    if config.exists():
        config.write_text(
            config.read_text(encoding="utf-8").replace(str(demo_template), str(tmp_path)), encoding="utf-8"
        )
    return demo_env(tmp_path)


def members(env: dict[str, str]) -> dict[str, bool]:
    """card → active, read straight from the database the CLI wrote."""
    engine = make_engine(env["DIEMCAU_DATABASE__URL"])
    try:
        with make_sessionmaker(engine)() as session:
            return {card: active for card, active in session.execute(select(MemberRow.card_number, MemberRow.active))}
    finally:
        engine.dispose()


def command_paths(command, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:  # type: ignore[no-untyped-def]
    """Every command and group of the CLI, as argument paths, found by walking the command tree.

    Duck-typed on ``list_commands`` because typer may ship its own copy of click's classes.
    """
    paths = [prefix]
    if hasattr(command, "list_commands"):
        ctx = type(command).context_class(command)
        for name in command.list_commands(ctx):
            paths.extend(command_paths(command.get_command(ctx, name), (*prefix, name)))
    return paths


ALL_COMMANDS = command_paths(typer.main.get_command(app))


def test_the_walk_finds_the_known_commands() -> None:
    """Does walking the CLI find the commands operators rely on (so the --help test covers new ones too)?"""
    known = [("init",), ("hub",), ("org", "list"), ("roster", "import"), ("course", "create"), ("user", "grant")]
    assert set(known) <= set(ALL_COMMANDS)
    assert len(ALL_COMMANDS) >= 16


@pytest.mark.parametrize("path", ALL_COMMANDS, ids=lambda p: " ".join(p) or "diemcau")
def test_help_works_for_every_command(runner: CliRunner, env: dict[str, str], path: tuple[str, ...]) -> None:
    """Does ``--help`` work for every command and subcommand, printing its usage?"""
    result = invoke(runner, env, *path, "--help")
    assert "Usage:" in result.output
    assert not Path(env["DIEMCAU_HOME"]).exists()  # help touches nothing


def test_init_demo_is_idempotent_and_prints_logins(
    runner: CliRunner, demo_init: DemoInit, demo: dict[str, str]
) -> None:
    """Does ``init --demo`` succeed twice (the module's first run, then again on a copy of its data), print the demo
    logins and activation code, and add no duplicates?"""
    before = members(demo)
    second = invoke(runner, demo, "init", "--demo")
    for output in (demo_init.output, second.output):
        assert DEMO_PASSWORD in output
        for login in DEMO_LOGINS:
            assert login.username in output
        assert f"{DEMO_UNACTIVATED}" in output and "activation code" in output
        assert "Data directory ready" in output
    assert members(demo) == before
    assert {login.username for login in DEMO_LOGINS} | {DEMO_UNACTIVATED} <= set(before)
    assert (Path(demo["DIEMCAU_HOME"]) / "diemcau.toml").exists()
    assert not (Path(demo["DIEMCAU_CONTENT__COURSES_DIR"])).exists()


def test_the_demo_and_its_quiz_release_write_nothing_outside_the_data_directory(
    demo_template: Path, demo: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run from a checkout with no settings, does ``init --demo`` keep every file it makes (database, media,
    transcripts, nbgrader's course directory) in ./var, and does a trainer releasing the demo quiz from the studio
    (which saves the spec in the courses folder) write there too, not into the checkout's courses/?"""
    from diemcau.adapters.db.engine import make_engine, make_sessionmaker
    from diemcau.apps.api.app import create_app
    from diemcau.demo.seed import DEMO_DIR
    from diemcau.settings import load_settings
    from fastapi.testclient import TestClient
    from tests.fakes import StaticTokenIdentity

    assert files_outside_var(demo_template) == set(CHECKOUT)
    var = demo_template / "var"
    assert (var / "transcripts").is_dir() and (var / "nbgrader" / "nq-trung-uong-demo").is_dir()

    for name in CHECKOUT:  # the test's copy of the data directory, in a checkout of its own
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    settings = load_settings({})
    assert settings.home == tmp_path / "var" and str(settings.courses_dir) == demo["DIEMCAU_CONTENT__COURSES_DIR"]
    engine = make_engine(settings.database_url)
    trainer = next(login.username for login in DEMO_LOGINS if login.role.value == "trainer")
    app = create_app(settings, StaticTokenIdentity({"t": trainer}), session_factory=make_sessionmaker(engine))
    spec = (DEMO_DIR / "courses" / "nq-trung-uong-demo" / "quizzes" / "kiem-tra-nq57.yaml").read_text(encoding="utf-8")
    try:
        response = TestClient(app).post(
            "/services/diemcau/api/studio/quizzes/nq-trung-uong-demo/kiem-tra-nq57/release",
            json={"yaml": spec},
            headers={"Authorization": "Bearer t"},
        )
    finally:
        engine.dispose()
    assert response.status_code == 200, response.text
    assert (settings.courses_dir / response.json()["spec_file"]).read_text(encoding="utf-8") == spec
    assert files_outside_var(tmp_path) == set(CHECKOUT)


# The search examples of README.md and docs/search.md, each of which must find the demo lecture.
DOCUMENTED_SEARCHES = (
    "đảng viên",
    "dang vien",
    'đảng viên "nghị quyết" course:nq-trung-uong-demo speaker:"báo cáo viên" resolution:"57-NQ/TW" after:2026-01-01',
)


def test_the_demo_lecture_reads_as_vietnamese_and_its_search_examples_find_it(
    runner: CliRunner, demo: dict[str, str]
) -> None:
    """After ``init --demo``, is the demo lecture's transcript the talk's own text (reference captions timed by the
    speech, Whisper's transcript kept beside it), do the documented search examples find it, and does no caption
    of either hold U+FFFD?"""
    from diemcau.adapters.transcript_store import load_previous_transcript, load_transcript, lecture_dir
    from diemcau.demo.lecture import TEXT_FILE

    lectures = json.loads(invoke(runner, demo, "lecture", "list", "--json").output)
    (lecture_id,) = [row["id"] for row in lectures if row["course_id"] == "nq-trung-uong-demo"]
    transcripts = Path(demo["DIEMCAU_CONTENT__TRANSCRIPTS_DIR"])
    transcript, whisper = load_transcript(transcripts, lecture_id), load_previous_transcript(transcripts, lecture_id)
    assert transcript is not None and transcript.source == "captions"
    assert " ".join(s.text for s in transcript.segments) == " ".join(TEXT_FILE.read_text(encoding="utf-8").split())
    assert all(a.end <= b.start for a, b in zip(transcript.segments, transcript.segments[1:]))
    assert whisper is not None and whisper.source == "whisper" and whisper.segments
    for path in lecture_dir(transcripts, lecture_id).iterdir():
        if path.is_file():
            assert "\ufffd" not in path.read_text(encoding="utf-8"), path.name
    for query in DOCUMENTED_SEARCHES:
        hits = json.loads(invoke(runner, demo, "search", query, "--json").output)
        assert [h for h in hits if h["lecture_id"] == lecture_id and h["kind"] == "spoken"], query
        assert all("đảng viên" in h["text"] for h in hits), query
    invoke(runner, demo, "init", "--demo")  # seeding again keeps the imported captions
    assert load_transcript(transcripts, lecture_id) == transcript


def test_org_list(runner: CliRunner, demo: dict[str, str]) -> None:
    """Does ``org list`` show the demo tree indented by depth, and ``--json`` give its paths?"""
    result = invoke(runner, demo, "org", "list")
    assert "tinh-demo  Đảng bộ tỉnh Hà Tĩnh (demo)" in result.output
    assert "    cb-thon-dong  Chi bộ thôn Đông" in result.output
    units = json.loads(invoke(runner, demo, "org", "list", "--json").output)
    assert {u["code"]: u["path"] for u in units}["cb-thon-dong"] == "/tinh-demo/xa-thach-ha/cb-thon-dong/"


def test_roster_import_good_file(runner: CliRunner, demo: dict[str, str], tmp_path: Path) -> None:
    """Does a good roster import create the new members and report it?"""
    roster = tmp_path / "moi.csv"
    roster.write_text("Số thẻ đảng viên,Họ và tên,Chi bộ\n43000001,Võ Thị Mới,cb-thon-tay\n", encoding="utf-8")
    result = invoke(runner, demo, "roster", "import", str(roster))
    assert "created=1" in result.output
    assert members(demo)["43000001"] is True


def test_roster_import_bad_file_imports_nothing(runner: CliRunner, demo: dict[str, str], tmp_path: Path) -> None:
    """Does a roster with a bad row exit 1 with a Vietnamese message placing the error, importing no row?"""
    roster = tmp_path / "loi.csv"
    lines = ["Số thẻ đảng viên,Họ và tên,Chi bộ", "43000001,Võ Thị Mới,cb-thon-tay"]
    lines.append("43000002,Đinh Văn Sai,chi-bo-khong-co")
    roster.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = members(demo)
    result = invoke(runner, demo, "roster", "import", str(roster), code=1)
    assert "Nothing was imported" in result.stderr
    assert "Dòng 3, cột «Chi bộ»" in result.stderr
    assert "không có tổ chức đảng «chi-bo-khong-co» trong hệ thống" in result.stderr
    assert members(demo) == before


def test_course_create_then_list(runner: CliRunner, demo: dict[str, str]) -> None:
    """Does ``course create`` write course.yaml into the configured folder and show in ``course list --json``?"""
    invoke(
        runner,
        demo,
        "course",
        "create",
        "nq-18",
        "--title",
        "Học tập Nghị quyết 18-NQ/TW",
        "--deadline",
        "2026-12-31",
        "--resolution",
        "18-NQ/TW",
        "--audience",
        "xa-thach-ha",
        "--audience",
        "cb-thon-bac",
    )
    courses = {c["id"]: c for c in json.loads(invoke(runner, demo, "course", "list", "--json").output)}
    assert courses["nq-18"]["title"] == "Học tập Nghị quyết 18-NQ/TW"
    assert courses["nq-18"]["deadline"] == "2026-12-31"
    assert sorted(courses["nq-18"]["audience"]) == ["cb-thon-bac", "xa-thach-ha"]
    assert courses["nq-18"]["resolutions"] == ["18-NQ/TW"]
    assert "nq-trung-uong-demo" in courses

    written = Path(demo["DIEMCAU_CONTENT__COURSES_DIR"]) / "nq-18" / "course.yaml"
    assert "Nghị quyết 18-NQ/TW" in written.read_text(encoding="utf-8")
    assert not (SOURCE_TREE / "courses" / "nq-18").exists()
    # The file is the source of truth: a later sync loads it again without complaint.
    assert "1 course(s) loaded" in invoke(runner, demo, "course", "sync").output


def test_course_create_with_invalid_deadline(runner: CliRunner, demo: dict[str, str]) -> None:
    """Is a deadline not in YYYY-MM-DD refused with an example, writing no file?"""
    result = invoke(runner, demo, "course", "create", "nq-18", "--title", "X", "--deadline", "31/12/2026", code=1)
    assert "Invalid deadline '31/12/2026': use YYYY-MM-DD" in result.stderr
    assert not (Path(demo["DIEMCAU_CONTENT__COURSES_DIR"]) / "nq-18").exists()


def test_course_create_with_invalid_id_or_unknown_audience(runner: CliRunner, demo: dict[str, str]) -> None:
    """Are a bad course id and an unknown audience unit refused, named in the message, writing nothing?"""
    result = invoke(runner, demo, "course", "create", "NQ 18", "--title", "X", code=1)
    assert "Invalid course id 'NQ 18'" in result.stderr
    result = invoke(runner, demo, "course", "create", "nq-18", "--title", "X", "--audience", "khong-co", code=1)
    assert "khong-co" in result.stderr
    assert not (Path(demo["DIEMCAU_CONTENT__COURSES_DIR"]) / "nq-18").exists()
    courses = json.loads(invoke(runner, demo, "course", "list", "--json").output)
    assert "nq-18" not in [c["id"] for c in courses]


def test_user_activation_code(runner: CliRunner, demo: dict[str, str]) -> None:
    """Does ``user activation-code`` print an 8-character code and how long it is valid?"""
    result = invoke(runner, demo, "user", "activation-code", "42000003")
    code, rest = result.output.split(maxsplit=1)
    assert len(code) == ACTIVATION_CODE_LENGTH and set(code) <= set(ACTIVATION_ALPHABET)
    assert "valid 14 days" in rest


def test_user_grant(runner: CliRunner, demo: dict[str, str]) -> None:
    """Does ``user grant`` store the grant (once, when repeated) and confirm it?"""
    for _ in range(2):
        result = invoke(runner, demo, "user", "grant", "42000003", "secretary", "--org", "cb-thon-dong")
        assert "42000003: secretary over cb-thon-dong" in result.output
    engine = make_engine(demo["DIEMCAU_DATABASE__URL"])
    with make_sessionmaker(engine)() as session:
        roles = session.scalars(
            select(RoleGrantRow.role).join(MemberRow).where(MemberRow.card_number == "42000003")
        ).all()
    engine.dispose()
    assert roles == ["secretary"]


def test_user_commands_on_unknown_card(runner: CliRunner, demo: dict[str, str]) -> None:
    """Do user commands on a card nobody holds exit 1 with a message saying to check the card number?"""
    for args in (("activation-code", "99999999"), ("grant", "99999999", "admin"), ("unlock", "99999999")):
        result = invoke(runner, demo, "user", *args, code=1)
        assert "unknown user: check the card number" in result.stderr


def test_user_grant_over_unknown_org_unit(runner: CliRunner, demo: dict[str, str]) -> None:
    """Is a grant over an org unit that does not exist refused with a clear message?"""
    result = invoke(runner, demo, "user", "grant", "42000003", "secretary", "--org", "khong-co", code=1)
    assert "unknown org unit" in result.stderr


def test_malformed_settings_file(runner: CliRunner, env: dict[str, str]) -> None:
    """Does a settings file with broken TOML make commands exit 1 naming the file and the problem?"""
    settings_file = Path(env["DIEMCAU_HOME"]) / "diemcau.toml"
    settings_file.parent.mkdir(parents=True)
    settings_file.write_text("[hub\nport = 8000\n", encoding="utf-8")
    for args in (("init",), ("org", "list"), ("course", "list")):
        result = invoke(runner, env, *args, code=1)
        assert str(settings_file) in result.stderr
        assert "not valid TOML" in result.stderr


def test_invalid_setting_value(runner: CliRunner, env: dict[str, str]) -> None:
    """Does a well-formed settings file with a wrong value exit 1 naming the key?"""
    settings_file = Path(env["DIEMCAU_HOME"]) / "diemcau.toml"
    settings_file.parent.mkdir(parents=True)
    settings_file.write_text("[hub]\nport = 99999999\n", encoding="utf-8")
    result = invoke(runner, env, "init", code=1)
    assert "'hub.port'" in result.stderr


def test_seeding_the_demo_again_keeps_what_people_did(session_factory) -> None:  # type: ignore[no-untyped-def]
    """Restarting ``make demo`` seeds again: does it keep the password of the member who activated their account
    (and of a demo login whose password was changed), instead of resetting them and printing a new code?"""
    from sqlalchemy import select

    from diemcau.adapters.db import accounts
    from diemcau.adapters.db.models import MemberRow
    from diemcau.demo.seed import seed_demo

    code = seed_demo(session_factory, verifier=CHEAP)
    assert code is not None
    from diemcau.core.credentials import ThrottlePolicy

    accounts.activate(
        session_factory,
        DEMO_UNACTIVATED,
        code,
        "mat-khau-rieng-1",
        8,
        address="127.0.0.1",
        policy=ThrottlePolicy(),
        verifier=CHEAP,
    )
    accounts.set_password(session_factory, DEMO_LOGINS[0].username, "mat-khau-rieng-2", verifier=CHEAP)

    def hashes() -> dict[str, str | None]:
        with session_factory() as session:
            rows = session.execute(select(MemberRow.card_number, MemberRow.password_hash)).all()
        return {card: hashed for card, hashed in rows}

    before = hashes()
    assert seed_demo(session_factory, verifier=CHEAP) is None
    after = hashes()
    assert after[DEMO_UNACTIVATED] == before[DEMO_UNACTIVATED] is not None
    assert after[DEMO_LOGINS[0].username] == before[DEMO_LOGINS[0].username]


def test_demo_report_pdf_is_signed_and_verifies(runner: CliRunner, demo: dict[str, str], tmp_path: Path) -> None:
    """After ``init --demo``, is the commune committee's PDF report signed with the demo's self-signed
    certificate (kept 0600), does ``report verify`` print the signer and VALID, and does it say NOT VALID for a
    tampered copy and 'not signed' for a cell's report?"""
    import stat

    signing = Path(demo["DIEMCAU_HOME"]) / "signing"
    assert stat.S_IMODE((signing / "xa-thach-ha.p12").stat().st_mode) == 0o600
    assert stat.S_IMODE((signing / "xa-thach-ha.pass").stat().st_mode) == 0o600
    pdf = tmp_path / "xa.pdf"
    made = invoke(
        runner, demo, "report", "make", "xa-thach-ha", "nq-trung-uong-demo", "--format", "pdf", "--output", str(pdf)
    )
    assert "Signed by Đảng ủy xã Thạch Hà (demo)" in made.output
    verified = invoke(runner, demo, "report", "verify", str(pdf))
    assert "Signature 1: Đảng ủy xã Thạch Hà (demo), signed 20" in verified.output
    assert "intact: yes; covers the whole document: yes; signer trusted: yes" in verified.output
    assert verified.output.rstrip().endswith("VALID") and "NOT VALID" not in verified.output
    tampered = tmp_path / "tampered.pdf"
    data = bytearray(pdf.read_bytes())
    data[data.index(b"/Title") + 8] ^= 0x01
    tampered.write_bytes(bytes(data))
    assert "intact: NO" in invoke(runner, demo, "report", "verify", str(tampered), code=1).output
    cell = tmp_path / "cell.pdf"
    invoke(
        runner, demo, "report", "make", "cb-thon-dong", "nq-trung-uong-demo", "--format", "pdf", "--output", str(cell)
    )
    assert "not signed" in invoke(runner, demo, "report", "verify", str(cell), code=1).output
