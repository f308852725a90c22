"""``python -m tests.cluster_api``: an API host's replica in the test cluster (``tests/test_cluster.py``).

It is ``python -m diemcau.apps.api`` (the same app, settings, bind address from ``JUPYTERHUB_SERVICE_URL``, prefix
and uvicorn options) with one thing changed at the edge: the seeded users' test tokens (``tests.apiclient.token_of``)
are known without asking the hub (``TokensThenHub``), so the tests that send them need no hub; every other
credential, a browser's login above all, goes to the real ``HubIdentity``, against the hub host once a test starts
it (``test_a_member_logs_in_at_the_hub_host_and_reaches_the_portal_and_an_api_host``).
"""

from __future__ import annotations

import os

import uvicorn

from diemcau.adapters.db.engine import make_engine, make_sessionmaker
from diemcau.apps.api.__main__ import GRACEFUL_SHUTDOWN_SECONDS, bind_address
from diemcau.apps.api.app import create_app
from diemcau.apps.api.plumbing.context import DEFAULT_PREFIX
from diemcau.apps.api.plumbing.identity import HubIdentity
from diemcau.settings import load_settings
from tests.apiclient import token_of
from tests.fakes import StaticTokenIdentity, TokensThenHub
from tests.seed import MEMBERS


def main() -> None:
    """Serve the app until signalled, as ``diemcau.apps.api`` does (the schema is ``diemcau init``'s)."""
    settings = load_settings()
    tokens = StaticTokenIdentity({token_of(key): card.lower() for key, card, *_ in MEMBERS})
    identity = TokensThenHub(tokens, HubIdentity())
    app = create_app(
        settings,
        identity,
        session_factory=make_sessionmaker(make_engine(settings.database_url)),
        prefix=os.environ.get("JUPYTERHUB_SERVICE_PREFIX", DEFAULT_PREFIX),
        hub_base_url=os.environ.get("JUPYTERHUB_BASE_URL", "/"),
    )
    host, port = bind_address(os.environ.get("JUPYTERHUB_SERVICE_URL"), settings.hub.api_port)
    uvicorn.run(app, host=host, port=port, timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS, proxy_headers=True)


if __name__ == "__main__":
    main()
