"""Run the real API app under uvicorn for benchmarks: ``api_server.py DB_URL PORT TOKENS_JSON HOME [TODAY]``.

``DIEMCAU_*`` settings in the environment apply (``DIEMCAU_PERF__...`` for baselines); ``DIEMCAU_BENCH_WORKERS=N``
runs N uvicorn worker processes.

Tokens map to usernames through ``tests.fakes.StaticTokenIdentity`` (the hub's token check is the one edge
left out); everything behind it — roster lookup, authorization, the database writes — is the real service.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import uvicorn  # noqa: E402
from tests.fakes import StaticTokenIdentity  # noqa: E402

from diemcau.adapters.db.engine import make_engine, make_sessionmaker  # noqa: E402
from diemcau.apps.api.app import create_app  # noqa: E402
from diemcau.apps.api.plumbing.heap import freeze_startup_heap  # noqa: E402
from diemcau.settings import load_settings  # noqa: E402


def build_app():  # type: ignore[no-untyped-def]
    """The app from the command line saved in ``DIEMCAU_BENCH_ARGV`` (each uvicorn worker process builds its own)."""
    url, _port, tokens, home, *rest = json.loads(os.environ["DIEMCAU_BENCH_ARGV"])
    today = dt.date.fromisoformat(rest[0]) if rest else dt.date.today()
    # Settings from the environment too (e.g. DIEMCAU_PERF__GROUP_COMMIT=false for a baseline).
    environ = {k: v for k, v in os.environ.items() if k.startswith("DIEMCAU_") and not k.startswith("DIEMCAU_BENCH")}
    settings = load_settings({**environ, "DIEMCAU_HOME": home, "DIEMCAU_DATABASE__URL": url})
    factory = make_sessionmaker(make_engine(url))
    identity = StaticTokenIdentity(json.loads(Path(tokens).read_text(encoding="utf-8")))
    app = create_app(settings, identity, session_factory=factory, today=lambda: today)
    if os.environ.get("DIEMCAU_BENCH_GC_FREEZE", "1") == "1":  # as the service's own build_app does
        freeze_startup_heap()
    return app


def main() -> None:
    os.environ["DIEMCAU_BENCH_ARGV"] = json.dumps(sys.argv[1:])
    port, workers = int(sys.argv[2]), int(os.environ.get("DIEMCAU_BENCH_WORKERS", "1"))
    if workers > 1:  # worker processes import the app by name
        uvicorn.run(
            "api_server:build_app",
            factory=True,
            workers=workers,
            app_dir=str(Path(__file__).parent),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            access_log=False,
        )
    else:
        uvicorn.run(build_app(), host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
