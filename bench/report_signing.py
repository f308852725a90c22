"""What signing adds to the official report's PDF: render, sign (PAdES B-B, pyHanko) and verify times, and bytes.

A commune of ``--members`` (default 2,500) in cells of 28, two thirds not done (so the PDF lists them, each with
its missing lecture and quiz titles). Pure: no database, no API. Medians of ``--reps``.

    .venv/bin/python bench/report_signing.py [--members 2500] [--reps 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

from diemcau.adapters.reports.pdf import render_pdf
from diemcau.adapters.reports.signing import certificate_der, sign_pdf, verify_pdf, write_self_signed
from diemcau.core.course import CourseStatus
from diemcau.core.orgtree import OrgUnit
from diemcau.core.report import MemberStatus, build_report, name_missing

TITLES = {"lecture:l1": "Đột phá phát triển khoa học, công nghệ", "quiz:q1": "Kiểm tra Nghị quyết 57"}


def _report(count: int):  # type: ignore[no-untyped-def]
    commune = OrgUnit("xa", "Đảng bộ xã Thạch Hà", "commune", "/tinh/xa/")
    cells = [OrgUnit(f"cb-{i}", f"Chi bộ thôn {i}", "cell", f"/tinh/xa/cb-{i}/") for i in range(count // 28 + 1)]
    statuses = (CourseStatus.COMPLETED, CourseStatus.IN_PROGRESS, CourseStatus.NOT_STARTED)
    members = [
        MemberStatus(
            f"{42000000 + n}",
            f"Đảng viên {n}",
            cells[n // 28],
            statuses[n % 3],
            () if n % 3 == 0 else name_missing(("lecture:l1", "quiz:q1", "essay"), TITLES),
        )
        for n in range(count)
    ]
    return build_report(commune, cells, "nq57", "Học tập Nghị quyết 57", None, members, dt.date(2026, 12, 7))


def _median(run, reps: int) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(reps):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=2500)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    report = _report(args.members)
    now = dt.datetime.now(dt.UTC)
    with tempfile.TemporaryDirectory() as folder:
        p12 = write_self_signed(Path(folder), "xa", "Đảng ủy xã Thạch Hà (bench)", now)[0]
        render, pdf = _median(lambda: render_pdf(report), args.reps)
        sign, (signed, _) = _median(lambda: sign_pdf(pdf, p12, "Đảng bộ xã Thạch Hà", now), args.reps)
        trusted = [certificate_der(p12)]
        verify, checks = _median(lambda: verify_pdf(signed, trusted), args.reps)
    assert checks[0].holds
    print(f"members {args.members}, not done {len(report.not_done)}")
    print(f"render {render * 1000:.0f} ms, {len(pdf) / 1024:.0f} KiB")
    print(f"sign   {sign * 1000:.0f} ms, +{(len(signed) - len(pdf)) / 1024:.1f} KiB")
    print(f"verify {verify * 1000:.0f} ms")


if __name__ == "__main__":
    main()
