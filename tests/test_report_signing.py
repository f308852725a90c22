"""The official report's PDF signed (PAdES, pyHanko) with the unit's configured certificate, and verified:
intact, covering the whole document, by the configured signer; tampering, another signer, a bad passphrase, an
expired or unreadable certificate each caught, and the download route never answers 5xx for them."""

from __future__ import annotations

import datetime as dt
import logging
import stat
from io import BytesIO
from pathlib import Path
from urllib.parse import unquote

import pytest
from pypdf import PdfReader

from diemcau.adapters.reports.official import official_report
from diemcau.adapters.reports.pdf import render_pdf
from diemcau.adapters.reports.signing import (
    SIGNING_REASON,
    SigningFailed,
    certificate_der,
    sign_pdf,
    verify_pdf,
    write_self_signed,
)
from diemcau.demo.seed import make_demo_certificates
from tests.test_report import _counted_report

NOW = dt.datetime.now(dt.UTC)
COMMITTEE = "Đảng ủy xã Thạch Hà (thử)"


@pytest.fixture(scope="module")
def unsigned() -> bytes:
    return render_pdf(_counted_report())


@pytest.fixture
def p12(tmp_path: Path) -> Path:
    return write_self_signed(tmp_path / "signing", "xa-a", COMMITTEE, NOW)[0]


def test_a_signed_report_verifies_against_the_configured_certificate(unsigned: bytes, p12: Path) -> None:
    """Does the signed PDF verify as intact, covering the whole file, signed by the configured certificate with
    the reason and unit recorded, and still read as the same report?"""
    signed, signer = sign_pdf(unsigned, p12, "Đảng bộ xã Thạch Hà", NOW)
    assert signer == COMMITTEE
    [check] = verify_pdf(signed, [certificate_der(p12)])
    assert (check.intact, check.whole_document, check.trusted, check.holds) == (True, True, True, True)
    assert (check.signer, check.reason, check.location) == (COMMITTEE, SIGNING_REASON, "Đảng bộ xã Thạch Hà")
    assert check.signed_at is not None and abs(check.signed_at - NOW) < dt.timedelta(hours=1)
    assert "Đảng viên thuộc trực tiếp" in PdfReader(BytesIO(signed)).pages[0].extract_text()
    assert verify_pdf(unsigned) == []  # an unsigned report has no signature to trust


def test_a_tampered_report_fails(unsigned: bytes, p12: Path) -> None:
    """Is a signed PDF with one byte changed inside the signed range no longer intact, and one with content
    appended after the signature no longer covered as a whole?"""
    signed, _ = sign_pdf(unsigned, p12, "Đảng bộ xã Thạch Hà", NOW)
    trusted = [certificate_der(p12)]
    changed = bytearray(signed)
    at = signed.index(b"/Title")  # the document's title, in the signed range
    changed[at + 8] ^= 0x01
    [check] = verify_pdf(bytes(changed), trusted)
    assert not check.intact and not check.holds
    [check] = verify_pdf(signed + b"\n1 0 obj\n(added)\nendobj\n", trusted)
    assert check.intact and not check.whole_document and not check.holds


def test_another_signer_is_not_trusted(unsigned: bytes, p12: Path, tmp_path: Path) -> None:
    """Is a PDF signed by some other certificate (say, a forger's self-signed one with the same name) intact but
    not trusted against the configured certificate?"""
    forged = write_self_signed(tmp_path / "forger", "xa-a", COMMITTEE, NOW)[0]
    signed, _ = sign_pdf(unsigned, forged, "Đảng bộ xã Thạch Hà", NOW)
    [check] = verify_pdf(signed, [certificate_der(p12)])
    assert check.intact and not check.trusted and not check.holds


@pytest.mark.parametrize("problem", ["bad_passphrase", "expired", "not_pkcs12", "missing"])
def test_a_certificate_that_cannot_sign_says_why(unsigned: bytes, p12: Path, tmp_path: Path, problem: str) -> None:
    """Does a wrong passphrase, an expired certificate, a file that is not PKCS#12 or a missing one raise
    SigningFailed with a sentence that names the file and the cause?"""
    if problem == "bad_passphrase":
        p12.with_suffix(".pass").write_text("sai mật khẩu\n")
    elif problem == "expired":
        p12 = write_self_signed(tmp_path / "old", "xa-a", COMMITTEE, NOW - dt.timedelta(days=400), days=30)[0]
    elif problem == "not_pkcs12":
        p12.write_bytes(b"-----BEGIN CERTIFICATE-----\nnot really\n")
    else:
        p12.unlink()  # removed between the check for it and the signing
    with pytest.raises(SigningFailed) as failure:
        sign_pdf(unsigned, p12, "Đảng bộ xã Thạch Hà", NOW)
    expected = {
        "bad_passphrase": "wrong passphrase",
        "expired": "renew it",
        "not_pkcs12": "wrong passphrase",
        "missing": "cannot read",
    }[problem]
    assert str(p12) in str(failure.value) and expected in str(failure.value)


def test_demo_certificates_are_private_and_made_once(tmp_path: Path) -> None:
    """Does the demo make its committees' certificates 0600 in a 0700 folder, and leave them alone the second
    time (the same certificate, so PDFs signed earlier still verify)?"""
    folder = tmp_path / "var" / "signing"
    made = make_demo_certificates(folder)
    assert sorted(p.name for p in made) == ["tinh-demo.p12", "xa-thach-ha.p12"]
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    before = certificate_der(folder / "xa-thach-ha.p12")
    assert make_demo_certificates(folder) == []
    assert certificate_der(folder / "xa-thach-ha.p12") == before


def _seed_report(factory) -> None:  # type: ignore[no-untyped-def]
    from tests.transcript_fixtures import seed_lecture

    seed_lecture(factory, "nq-xa-a-l1", course_id="nq-xa-a", title="Đột phá khoa học, công nghệ")


def test_official_report_signs_only_with_the_units_own_certificate(  # type: ignore[no-untyped-def]
    sqlite_factory, tmp_path: Path, caplog
) -> None:
    """Is the commune's PDF signed with the commune's certificate, a cell's PDF (no certificate of its own) left
    unsigned rather than signed with its commune's, the XLSX never signed, and a broken certificate logged for
    the operator with the report served unsigned?"""
    from tests.seed import seed_small_province

    seed_small_province(sqlite_factory)
    _seed_report(sqlite_factory)
    folder = tmp_path / "signing"
    p12 = write_self_signed(folder, "xa-a", COMMITTEE, NOW)[0]
    today = dt.date(2026, 11, 22)
    commune = official_report(sqlite_factory, "xa-a", "nq-xa-a", "pdf", today, folder)
    assert (commune.signature, commune.signer) == ("signed", COMMITTEE)
    assert verify_pdf(commune.data, [certificate_der(p12)])[0].holds
    cell = official_report(sqlite_factory, "cb-a1", "nq-xa-a", "pdf", today, folder)
    assert cell.signature == "unsigned" and verify_pdf(cell.data) == []
    assert official_report(sqlite_factory, "xa-a", "nq-xa-a", "xlsx", today, folder).signature == "unsigned"
    p12.with_suffix(".pass").write_text("wrong\n")
    with caplog.at_level(logging.ERROR, logger="diemcau.adapters.reports.official"):
        broken = official_report(sqlite_factory, "xa-a", "nq-xa-a", "pdf", today, folder)
    assert broken.signature == "failed" and verify_pdf(broken.data) == []
    assert any("left unsigned" in r.getMessage() and "wrong passphrase" in r.getMessage() for r in caplog.records)


def test_the_download_route_says_whether_the_pdf_is_signed(  # type: ignore[no-untyped-def]
    settings, session_factory
) -> None:
    """Does GET …/report.pdf answer the committee with a signed PDF and 'X-Diemcau-Signature: signed', a
    secretary's cell report 'unsigned', and, with a broken certificate, still 200 with the unsigned PDF and a
    Vietnamese notice (never a 5xx), while another cell's secretary and a member are still refused?"""
    from tests.apiclient import PREFIX, auth, seeded_client

    client, _ = seeded_client(settings, session_factory)
    _seed_report(session_factory)
    p12 = write_self_signed(settings.certificates_dir, "xa-a", COMMITTEE, NOW)[0]
    url = f"{PREFIX}/api/courses/nq-xa-a/report.pdf"
    signed = client.get(url, headers=auth("committee"))
    assert signed.status_code == 200 and signed.headers["x-diemcau-signature"] == "signed"
    assert unquote(signed.headers["x-diemcau-signer"]) == COMMITTEE
    assert verify_pdf(signed.content, [certificate_der(p12)])[0].holds
    cell = client.get(url, headers=auth("secretary"))
    assert cell.status_code == 200 and cell.headers["x-diemcau-signature"] == "unsigned"
    assert client.get(url, params={"org": "xa-a"}, headers=auth("secretary")).status_code == 404
    assert client.get(url, headers=auth("member")).status_code == 403
    for hostile in ("../signing/xa-a", "xa-a.p12", "%00", "x" * 5000):  # no path of the caller's reaches the folder
        assert client.get(url, params={"org": hostile}, headers=auth("committee")).status_code == 404
    assert (
        client.get(f"{PREFIX}/api/courses/nq-xa-a/report.xlsx", headers=auth("committee")).headers[
            "x-diemcau-signature"
        ]
        == "unsigned"
    )
    p12.with_suffix(".pass").write_text("wrong\n")
    broken = client.get(url, headers=auth("committee"))
    assert broken.status_code == 200 and broken.headers["x-diemcau-signature"] == "failed"
    assert unquote(broken.headers["x-diemcau-signature-message"]).startswith("Không ký số được báo cáo")
    assert broken.content.startswith(b"%PDF") and verify_pdf(broken.content) == []
