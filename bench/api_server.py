"""Run the real API app under uvicorn for benchmarks: ``api_server.py DB_URL PORT TOKENS_JSON HOME [TODAY]``.

Tokens map to usernames through ``tests.fakes.StaticTokenIdentity`` (the hub's token check is the one edge
left out); everything behind it — roster lookup, authorization, the database writes — is the real service.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import uvicorn  # noqa: E402

from diemcau.adapters.db.engine import make_engine, make_sessionmaker  # noqa: E402
from diemcau.apps.api.app import create_app  # noqa: E402
from diemcau.settings import load_settings  # noqa: E402
from tests.fakes import StaticTokenIdentity  # noqa: E402


def main() -> None:
    url, port, tokens, home = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
    today = dt.date.fromisoformat(sys.argv[5]) if len(sys.argv) > 5 else dt.date.today()
    settings = load_settings({"DIEMCAU_HOME": home, "DIEMCAU_DATABASE__URL": url})
    factory = make_sessionmaker(make_engine(url))
    identity = StaticTokenIdentity(json.loads(tokens.read_text(encoding="utf-8")))
    app = create_app(settings, identity, session_factory=factory, today=lambda: today)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
