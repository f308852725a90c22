"""Schemathesis against the service's own OpenAPI description: no input a member, a secretary or a trainer can
send gets a 5xx, and every answer matches the schema (timestamps with their offset included).

The app runs in-process (ASGI) on the small province with a ready lecture, its transcript, media, a quiz, two
questions and a material (the world of ``test_api_authz``), so generated requests reach real records where a
path names one of the seeded ids: valid input names them (``test_api_authz.TARGET``), invalid input
generates its own. Bounded: ``EXAMPLES`` per operation and role, no deadline per example (a
shared, noisy machine). Whether an operation has invalid input at all is the same for every role and is read from
the schema before any example (``_has_invalid_input``): left to Hypothesis, finding that out costs ~2 s per
operation that has none (459 rejected examples before it gives up), ~55 s for the 29 such operations.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.schemas import BaseSchema
from schemathesis.specs.openapi._hypothesis import _draw_negated_locations
from schemathesis.specs.openapi.checks import response_schema_conformance

from diemcau.apps.api.app import create_app
from diemcau.adapters.db.engine import ensure_schema, make_engine, make_sessionmaker
from diemcau.settings import load_settings
from tests.apiclient import PREFIX, auth, token_of
from tests.data_dirs import data_dir_environ
from tests.fakes import StaticTokenIdentity
from tests.seed import TODAY, seed_small_province
from tests.test_api_authz import TARGET, seed_authz_world

EXAMPLES = 8
CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BaseSchema]:
    """The service's OpenAPI description, loaded from the app itself (with a token: the description needs one)."""
    root = tmp_path_factory.mktemp("fuzz")
    settings_ = load_settings(data_dir_environ(root))
    engine = make_engine(f"sqlite:///{root / 'app.sqlite'}")
    ensure_schema(engine)
    factory = make_sessionmaker(engine)
    users = seed_small_province(factory)["users"]
    seed_authz_world(settings_, factory)
    identity = StaticTokenIdentity({token_of(role): name for role, name in users.items()})
    app = create_app(settings_, identity, session_factory=factory, today=lambda: TODAY)
    yield schemathesis.openapi.from_asgi(f"{PREFIX}/openapi.json", app, headers=auth("member"))
    engine.dispose()


def _fixed_query(operation) -> dict[str, int] | None:  # type: ignore[no-untyped-def]
    """No waiting for a grade that no worker here will give (``?wait=`` up to 30 s on a submission)."""
    return {"wait": 0} if any(p.name == "wait" for p in operation.query) else None


def _has_invalid_input(operation) -> bool:  # type: ignore[no-untyped-def]
    """Can schemathesis make invalid input for ``operation`` at all: a path, header, cookie or query parameter
    (the fixed ``wait`` aside) or a body with a constraint it can break? Asked of schemathesis's own choice of the
    locations a negative case breaks, which finds none exactly where every negative example would be rejected
    (the same 29 operations as Hypothesis's ``Unsatisfiable``, compared when this was written)."""
    explicit = dict.fromkeys((ParameterLocation.PATH, ParameterLocation.HEADER, ParameterLocation.COOKIE))
    explicit[ParameterLocation.QUERY] = _fixed_query(operation)
    negatable = _draw_negated_locations(
        lambda _strategy: True, operation, GenerationMode.NEGATIVE, explicit=explicit, body_is_generated=True
    )
    return negatable is not None


def _fuzz(operation, mode: GenerationMode, role: str) -> str | None:  # type: ignore[no-untyped-def]
    """What went wrong when ``role`` sent ``EXAMPLES`` generated requests (``mode``: valid or invalid input) to
    ``operation``, or ``None``."""
    if not mode.is_positive and not _has_invalid_input(operation):
        return None

    # Valid input names the seeded records (so answers reach the response schemas); invalid input is free.
    known = {name: TARGET[name] for name in re.findall(r"{(\w+)}", operation.path)} if mode.is_positive else None
    query = _fixed_query(operation)

    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=known or None, query=query))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
    )  # no shrinking: the first failure is reported
    def fuzz(case) -> None:  # type: ignore[no-untyped-def]
        case.call_and_validate(headers=auth(role), checks=CHECKS)

    try:
        fuzz()
    except Unsatisfiable:  # no invalid input found after all (``_has_invalid_input`` is the quick answer)
        return None
    except Exception as failure:  # every operation runs; the test reports them all
        return f"{operation.label} ({mode.value}, {role}): {str(failure).strip()[:1500]}"
    return None


def test_no_generated_input_gets_a_server_error(api_schema) -> None:  # type: ignore[no-untyped-def]
    """Does every operation, fed generated valid and invalid input by a member, a secretary and a trainer, answer
    below 500 and as its schema describes?"""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 50
    failures = [
        found
        for role in ("member", "secretary", "trainer")
        for operation in operations
        for mode in GenerationMode
        if (found := _fuzz(operation, mode, role)) is not None
    ]
    assert not failures, "\n\n".join(failures)
