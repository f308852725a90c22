"""The official report's PDF signed with the committee's certificate (PAdES B-B, pyHanko), and checked.

*Ký số* is how documents travel upward in the provinces. A deployment keeps one PKCS#12 file per org unit that
signs its reports, ``<org unit code>.p12``, in the folder ``reports.certificates_dir`` (docs/reports.md), with its
passphrase in ``<org unit code>.pass`` beside it. A unit signs only with its own certificate: a cell's report is
never signed with its commune's, since the signature says who issued the document.

Failures a deployment can cause (a missing or unreadable file, a wrong passphrase, an expired certificate) raise
``SigningFailed`` with a sentence for the operator's log; the caller decides what the user gets.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

SIGNING_REASON = "Báo cáo kết quả học tập nghị quyết"
FIELD_NAME = "KySoBaoCao"


class SigningFailed(RuntimeError):
    """A configured certificate could not sign; the message is for the operator."""


def certificate_path(folder: Path, unit_code: str) -> Path | None:
    """The unit's own PKCS#12 file, when the deployment configured one."""
    path = folder / f"{unit_code}.p12"
    return path if path.is_file() else None


def _passphrase(p12: Path) -> bytes | None:
    pass_file = p12.with_suffix(".pass")
    try:
        return pass_file.read_bytes().rstrip(b"\r\n") if pass_file.exists() else None
    except OSError as error:
        raise SigningFailed(f"cannot read the passphrase file {pass_file}: {error.strerror}") from None


def load_signer(p12: Path, now: dt.datetime):  # type: ignore[no-untyped-def]
    """A pyHanko signer from ``p12`` and its passphrase file; ``SigningFailed`` if it cannot sign at ``now``."""
    from pyhanko.sign.signers import SimpleSigner

    try:
        data = p12.read_bytes()
    except OSError as error:
        raise SigningFailed(f"cannot read the certificate file {p12}: {error.strerror}") from None
    try:
        signer = SimpleSigner.load_pkcs12_data(data, (), passphrase=_passphrase(p12))
    except ValueError:
        raise SigningFailed(
            f"{p12}: wrong passphrase (see {p12.with_suffix('.pass').name}) or not a PKCS#12 file with a private key"
        ) from None
    validity = signer.signing_cert["tbs_certificate"]["validity"]
    not_before, not_after = validity["not_before"].native, validity["not_after"].native
    if not not_before <= now <= not_after:
        raise SigningFailed(
            f"{p12}: the certificate is valid from {not_before:%Y-%m-%d} to {not_after:%Y-%m-%d}, "
            f"not on {now:%Y-%m-%d}: renew it"
        )
    return signer


def signer_name(signer) -> str:  # type: ignore[no-untyped-def]
    """The signer's common name (or the whole subject when it has none)."""
    return _common_name(signer.signing_cert)


def _common_name(cert) -> str:  # type: ignore[no-untyped-def]
    """A certificate's common name, or its whole subject when it has none."""
    return cert.subject.native.get("common_name") or cert.subject.human_friendly


def sign_pdf(pdf: bytes, p12: Path, unit_name: str, now: dt.datetime) -> tuple[bytes, str]:
    """``pdf`` signed (PAdES B-B, SHA-256) with the certificate in ``p12``, the reason and the unit recorded in the
    signature; returns the signed bytes and the signer's name."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    signer = load_signer(p12, now)
    name = signer_name(signer)
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        reason=SIGNING_REASON,
        location=unit_name,
        name=name,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
    )
    try:
        signed = signers.sign_pdf(IncrementalPdfFileWriter(BytesIO(pdf)), meta, signer=signer)
    except Exception as error:  # pyHanko raises several kinds (SigningError, PdfWriteError, ValueError)
        raise SigningFailed(f"{p12}: pyHanko could not sign: {error}") from error
    return signed.getvalue(), name


@dataclass(frozen=True)
class SignatureCheck:
    """What a signature in a PDF says, and whether it holds."""

    signer: str
    signed_at: dt.datetime | None
    reason: str
    location: str
    intact: bool  # the signed bytes are unchanged and the signature over them is valid
    whole_document: bool  # nothing was added after the signature
    trusted: bool  # the signer is one of the trusted certificates (or chains to one)
    fingerprint: str  # SHA-256 of the signer's certificate

    @property
    def holds(self) -> bool:
        return self.intact and self.whole_document and self.trusted


def certificate_der(p12: Path) -> bytes:
    """The DER certificate inside ``p12`` (read with its passphrase file), to trust when verifying."""
    from cryptography.hazmat.primitives.serialization import Encoding, pkcs12

    try:
        loaded = pkcs12.load_pkcs12(p12.read_bytes(), _passphrase(p12))
    except (OSError, ValueError) as error:
        raise SigningFailed(f"{p12}: cannot read the certificate ({error})") from None
    if loaded.cert is None:
        raise SigningFailed(f"{p12}: holds no certificate")
    return loaded.cert.certificate.public_bytes(Encoding.DER)


def verify_pdf(pdf: bytes, trusted: Iterable[bytes] = ()) -> list[SignatureCheck]:
    """Every signature in ``pdf``, checked with pyHanko against the ``trusted`` DER certificates (no network).
    ``ValueError`` when the bytes are not a readable PDF."""
    from asn1crypto import x509
    from pyhanko.pdf_utils.misc import PdfReadError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    roots = [x509.Certificate.load(der) for der in trusted]
    try:
        signatures = PdfFileReader(BytesIO(pdf), strict=False).embedded_signatures
    except (PdfReadError, ValueError, KeyError, IndexError) as error:
        raise ValueError(f"not a readable PDF: {error}") from None
    checks = []
    for signature in signatures:
        status = validate_pdf_signature(signature, ValidationContext(trust_roots=roots, allow_fetching=False))
        cert = status.signing_cert
        checks.append(
            SignatureCheck(
                signer=_common_name(cert),
                signed_at=status.signer_reported_dt,
                reason=str(signature.sig_object.get("/Reason", "")),
                location=str(signature.sig_object.get("/Location", "")),
                intact=bool(status.intact and status.valid),
                whole_document=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
                trusted=bool(status.trusted),
                fingerprint=hashlib.sha256(cert.dump()).hexdigest(),
            )
        )
    return checks


def _write_private(path: Path, data: bytes) -> None:
    """Create ``path`` readable by its owner only (0600); never overwrites."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def write_self_signed(
    folder: Path, unit_code: str, common_name: str, now: dt.datetime, days: int = 3650
) -> tuple[Path, bool]:
    """A self-signed signing certificate for ``unit_code`` in ``folder`` (``<code>.p12`` and ``<code>.pass``, 0600,
    the folder 0700), for the demo and for tests; idempotent: returns the file and whether it was created now."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
    from cryptography.x509.oid import NameOID

    p12 = folder / f"{unit_code}.p12"
    if p12.exists():
        return p12, False
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Điểm Cầu (demo)"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        ]
    )
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=True,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .sign(key, hashes.SHA256())
    )
    passphrase = secrets.token_urlsafe(24).encode()
    p12.with_suffix(".pass").unlink(missing_ok=True)  # left by an interrupted run; the .p12 is written last
    _write_private(p12.with_suffix(".pass"), passphrase + b"\n")
    _write_private(
        p12,
        pkcs12.serialize_key_and_certificates(unit_code.encode(), key, cert, None, BestAvailableEncryption(passphrase)),
    )
    return p12, True
