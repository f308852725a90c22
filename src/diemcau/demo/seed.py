"""Load the demo province: org tree, roster, staff grants, passwords and the demo course (idempotent)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.course_files import load_courses
from diemcau.adapters.db import accounts
from diemcau.adapters.db.courses import upsert_course
from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.orgs import load_org_tree
from diemcau.adapters.db.roster_store import import_roster
from diemcau.adapters.passwords import SecretVerifier
from diemcau.adapters.storage import Stores
from diemcau.core.roles import Role

DEMO_DIR = Path(__file__).parent
DEMO_PASSWORD = "diemcau2026"


@dataclass(frozen=True)
class DemoLogin:
    """One demo account as printed for the person trying the platform."""

    username: str
    role: Role
    scope: str | None
    description: str


DEMO_LOGINS = (
    DemoLogin("42000002", Role.MEMBER, None, "Đảng viên, Chi bộ thôn Đông"),
    DemoLogin("42000001", Role.SECRETARY, "cb-thon-dong", "Bí thư Chi bộ thôn Đông"),
    DemoLogin("42000021", Role.COMMITTEE, "xa-thach-ha", "Cấp ủy xã Thạch Hà"),
    DemoLogin("42000022", Role.TRAINER, None, "Báo cáo viên tỉnh"),
    DemoLogin("42000023", Role.ADMIN, None, "Quản trị hệ thống"),
)
# Self-signed certificates made by `diemcau init --demo`, so the committees' PDF reports come signed.
DEMO_SIGNERS = (("xa-thach-ha", "Đảng ủy xã Thạch Hà (demo)"), ("tinh-demo", "Tỉnh ủy Hà Tĩnh (demo)"))
# Left without a password, so the activation flow can be tried with the code that seeding prints.
DEMO_UNACTIVATED = "42000020"


def _has_password(factory: sessionmaker[Session], username: str) -> bool:
    with factory() as session:
        member = accounts.find_member(session, username)
        return member is not None and member.password_hash is not None


def seed_demo(factory: sessionmaker[Session], activation_days: int = 14, *, verifier: SecretVerifier) -> str | None:
    """Load everything the demo needs; returns a fresh activation code for ``DEMO_UNACTIVATED``, or ``None`` once
    someone has activated it. Idempotent, and it keeps what people did: a password set by activation or changed
    since is never reset by seeding again (only an account without one gets the demo password). Hashes with
    ``verifier`` (``SecretVerifier.from_settings(settings.auth)``)."""
    import datetime as dt

    load_org_tree(factory, DEMO_DIR / "orgs.yaml")
    import_roster(factory, DEMO_DIR / "roster.csv")
    for login in DEMO_LOGINS:
        if login.role != Role.MEMBER:
            accounts.grant_role(factory, login.username, login.role, login.scope)
        if not _has_password(factory, login.username):
            accounts.set_password(factory, login.username, DEMO_PASSWORD, verifier=verifier)
    with transaction(factory) as session:
        for course in load_courses(DEMO_DIR / "courses"):
            upsert_course(session, course)
    if _has_password(factory, DEMO_UNACTIVATED):
        return None
    return accounts.issue_activation_code(
        factory, DEMO_UNACTIVATED, dt.timedelta(days=activation_days), verifier=verifier
    )


def make_demo_certificates(folder: Path) -> list[Path]:
    """The demo committees' self-signed signing certificates in ``folder`` (idempotent); returns those made now."""
    import datetime as dt

    from diemcau.adapters.reports.signing import write_self_signed

    made = [write_self_signed(folder, code, name, dt.datetime.now(dt.UTC)) for code, name in DEMO_SIGNERS]
    return [path for path, created in made if created]


def publish_demo_lecture(settings, factory: sessionmaker[Session], stores: Stores, on_progress=lambda record: None):  # type: ignore[no-untyped-def]
    """Synthesise, publish and transcribe the demo lecture (runs the jobs here; idempotent: the same media is
    recognised by its hash and reused), then import its reference captions (``import_reference_captions``),
    on the caller's ``stores`` (the CLI command's). Returns the lecture's record."""
    from diemcau.adapters.db.lectures import PublishRequest
    from diemcau.demo.lecture import SPEAKER, TITLE, synthesize_demo_lecture
    from diemcau.jobs.context import install
    from diemcau.jobs.publish import publish, wait_for

    install(settings)
    lecture = synthesize_demo_lecture(settings.home / "demo")
    course = load_courses(DEMO_DIR / "courses")[0]
    request = PublishRequest(str(lecture.video), course.id, TITLE, SPEAKER, course.resolutions[0], True, "demo")
    published = publish(settings, factory, stores.media, request)
    record = wait_for(settings, factory, stores, published.lecture_id, on_progress)
    if record.status == "ready":
        import_reference_captions(settings, factory, stores, record.id, lecture.captions)
    return record


def import_reference_captions(  # type: ignore[no-untyped-def]
    settings, factory: sessionmaker[Session], stores: Stores, lecture_id: str, captions: Path
) -> bool:
    """Make the talk's own text (WebVTT timed by the speech) the lecture's transcript, as a trainer would with
    ``diemcau transcript import``; Whisper's transcript stays beside it as ``transcript.prev.json``. Returns
    whether it imported: captions already imported, or a transcript a trainer corrected since, are kept."""
    from diemcau.adapters.transcript_edits import CorrectedTranscriptError
    from diemcau.adapters.transcript_import import import_captions
    from diemcau.adapters.transcript_store import load_transcript
    from diemcau.search.content import content_changed

    current = load_transcript(stores.transcripts, lecture_id)
    if current is not None and current.source != "whisper":
        return False
    try:
        import_captions(factory, stores.transcripts, lecture_id, captions)
    except CorrectedTranscriptError:
        return False
    content_changed(settings, factory, stores, lecture_id)
    return True
