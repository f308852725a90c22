"""Server time of the staff home (``GET /staff``) on a synthetic province, for a cell secretary, a commune
committee and the province committee, against the units route (``GET /completion/units``, what the committee
dashboard asks for the same scope) in the same run.

    .venv/bin/python bench/staff_home_render.py [--members 100000] [--communes 40] [--reps 3]

Data: ``bench/synthetic_province.py`` seeded straight into SQLite. The app runs in-process (Starlette's test
client, no network): the figure is the server's work for one page, the median of ``--reps`` after a warm-up,
and the page's size gzipped.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient  # noqa: E402
from synthetic_province import COURSE, seed_synthetic  # noqa: E402

from diemcau.adapters.db.engine import ensure_schema, make_engine, make_sessionmaker  # noqa: E402
from diemcau.apps.api.app import create_app  # noqa: E402
from diemcau.settings import load_settings  # noqa: E402
from tests.data_dirs import data_dir_environ  # noqa: E402
from tests.fakes import StaticTokenIdentity  # noqa: E402

TODAY = dt.date(2026, 3, 10)
PREFIX = "/services/diemcau"


def timed(client: TestClient, url: str, token: str, reps: int) -> tuple[float, int]:
    """Median seconds of ``reps`` GETs after a warm-up, and the gzipped size of the answer."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/html"}
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.text[:300]
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        client.get(url, headers=headers)
        times.append(time.perf_counter() - start)
    return statistics.median(times), len(gzip.compress(response.content))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--communes", type=int, default=40)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        engine = make_engine(f"sqlite:///{root / 'bench.db'}")
        ensure_schema(engine)
        factory = make_sessionmaker(engine)
        started = time.perf_counter()
        seeded = seed_synthetic(factory, args.members, args.communes, dt.date(2026, 3, 31))
        print(f"seeded {seeded.members:,} members in {time.perf_counter() - started:.1f} s")
        tokens = {
            "t-cell": seeded.secretary,
            "t-commune": seeded.commune_committee,
            "t-province": seeded.province_committee,
        }
        settings = load_settings(data_dir_environ(root))
        app = create_app(settings, StaticTokenIdentity(tokens), session_factory=factory, today=lambda: TODAY)
        client = TestClient(app)
        for label, token in (
            ("cell secretary", "t-cell"),
            ("commune committee", "t-commune"),
            ("province committee", "t-province"),
        ):
            page, size = timed(client, f"{PREFIX}/staff?course={COURSE}", token, args.reps)
            units, _ = timed(client, f"{PREFIX}/api/courses/{COURSE}/completion/units", token, args.reps)
            print(
                f"{label:20s} staff home {page * 1000:8.0f} ms ({size / 1000:.1f} KB gzipped)"
                f"   baseline /completion/units {units * 1000:8.0f} ms"
            )
        engine.dispose()


if __name__ == "__main__":
    main()
