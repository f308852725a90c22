"""The API service freezes its start-up heap out of the garbage collector's full passes (``apps.api.plumbing.heap``)."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from diemcau.apps.api import __main__ as service
from diemcau.apps.api.plumbing.heap import freeze_startup_heap


@pytest.fixture
def unfrozen():  # type: ignore[no-untyped-def]
    """Give the test process its heap back to the collector afterwards."""
    yield
    gc.unfreeze()


def test_freezing_moves_the_live_heap_out_of_collection(unfrozen) -> None:  # type: ignore[no-untyped-def]
    gc.unfreeze()
    freeze_startup_heap()
    assert gc.get_freeze_count() > 10_000  # the imported modules' objects, at least
    later = [[n] for n in range(10)]  # allocated afterwards: still the collector's to walk
    assert gc.get_freeze_count() > 10_000 and all(gc.is_tracked(x) for x in later)


def test_the_service_app_is_built_with_a_frozen_heap(unfrozen, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    gc.unfreeze()
    monkeypatch.setenv("DIEMCAU_HOME", str(tmp_path))
    monkeypatch.setenv("JUPYTERHUB_SERVICE_NAME", "diemcau")  # as the hub gives its services
    monkeypatch.setenv("DIEMCAU_DATABASE__URL", f"sqlite:///{tmp_path / 'api.sqlite'}")
    app = service.build_app()
    assert app.title and gc.get_freeze_count() > 10_000
