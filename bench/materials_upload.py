"""What a big PDF upload does to the API: ``python bench/materials_upload.py [PAGES]``.

In one process, the API app (in-process ASGI client, as in the tests) on a seeded province: a trainer uploads a
``PAGES``-page PDF (default 20,000 pages sharing one content stream, ``tests/material_fixtures.bomb_pdf``)
while a member's thread calls ``GET /api/me`` in a loop. Prints how long the upload took to answer and the
member's p50/p95 during the upload and the reading of its text (the job, here run in a worker process as
``diemcau worker`` would, since that is where the text is now read).

Baseline: the same script on code where the text is read inside the upload request, e.g. the commit before this
one: ``PYTHONPATH=/path/to/old/src python bench/materials_upload.py``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from diemcau.adapters.db.engine import ensure_schema, make_engine, make_sessionmaker  # noqa: E402
from diemcau.settings import load_settings  # noqa: E402
from tests.apiclient import PREFIX, auth, seeded_client  # noqa: E402
from tests.data_dirs import data_dir_environ  # noqa: E402
from tests.material_fixtures import bomb_pdf, text_ops  # noqa: E402
from tests.media_fixtures import seed_lecture_media  # noqa: E402
from tests.quiz_support import sharing_database  # noqa: E402
from tests.transcript_fixtures import LECTURE_ID, seed_lecture_transcript  # noqa: E402

DRAIN = (
    "from diemcau.jobs.publish import drain_queue; from diemcau.jobs import registry; import sys, json;"
    "from diemcau.settings import Settings; registry.load_tasks();"
    "drain_queue(Settings.model_validate_json(sys.stdin.read()), stop=lambda: False)"
)


def main() -> None:
    pages = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        settings = load_settings(data_dir_environ(root))
        engine = make_engine(f"sqlite:///{root / 'app.sqlite'}")
        ensure_schema(engine)
        factory = make_sessionmaker(engine)
        shared = sharing_database(settings, factory)
        client, _ = seeded_client(shared, factory)
        seed_lecture_transcript(shared.transcripts_dir, factory)
        seed_lecture_media(shared, factory)
        bomb = bomb_pdf(root / "nghi-quyet-dai.pdf", pages=pages, stream=text_ops(20))
        latencies: list[float] = []
        done = threading.Event()

        def member() -> None:
            while not done.is_set():
                start = time.perf_counter()
                assert client.get(f"{PREFIX}/api/me", headers=auth("member")).status_code == 200
                latencies.append(time.perf_counter() - start)
                time.sleep(0.02)

        for _ in range(20):  # warm
            client.get(f"{PREFIX}/api/me", headers=auth("member"))
        thread = threading.Thread(target=member)
        thread.start()
        time.sleep(0.5)
        before = len(latencies)
        start = time.perf_counter()
        files = {"file": (bomb.name, bomb.read_bytes(), "application/pdf")}
        answer = client.post(f"{PREFIX}/api/lectures/{LECTURE_ID}/materials", files=files, headers=auth("trainer"))
        answered = time.perf_counter() - start
        state = answer.json().get("state", "(read in the request)")
        if state == "processing":  # the job reads it, in a worker process beside the API
            subprocess.run([sys.executable, "-c", DRAIN], input=shared.model_dump_json(), text=True, check=True)
        total = time.perf_counter() - start
        done.set()
        listed = client.get(f"{PREFIX}/api/lectures/{LECTURE_ID}/materials", headers=auth("trainer")).json()
        final = listed[0].get("state", "ready") if listed else "(refused)"
        thread.join()
        during = sorted(latencies[before:])
        p95 = during[int(0.95 * (len(during) - 1))]
        print(
            f"{pages:,}-page PDF ({bomb.stat().st_size / 1e6:.1f} MB): upload answered {answer.status_code} in "
            f"{answered:.2f} s, state {state}; until read: {total:.1f} s ({final})"
        )
        print(
            f"member GET /api/me meanwhile: {len(during)} requests, p50 {statistics.median(during) * 1000:.0f} ms,"
            f" p95 {p95 * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
