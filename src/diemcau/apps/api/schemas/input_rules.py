"""What the API accepts from a client, in one place: bounded numbers, finite floats, sane JSON, UTF-8 text.

Every request model and route parameter takes its numbers from the types here, so a value the database or
the code after it cannot hold (an integer past PostgreSQL's ``integer``, ``NaN``, ``1e999``) is a 422 at the
schema, described as such in the OpenAPI document, and never an ``OverflowError`` deep inside a route.

Python's ``json`` accepts more than JSON (RFC 8259): ``NaN`` and ``Infinity``, numbers that overflow to
infinity, lone UTF-16 surrogates (``"\\ud800"``, text no database or UTF-8 encoder takes), and nesting deep
enough to exhaust the recursion limit. ``loads_strict`` is ``json.loads`` refusing all of that; the API's
request guard (``input_guard``) and the progress fast path both parse with it.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from typing import Annotated, Any

from annotated_types import Interval
from pydantic import AfterValidator, Field

# The database's INTEGER columns (ids, sequence numbers, counters) are 32-bit on PostgreSQL; SQLite's are
# 64-bit. Every integer a client sends is bounded by the smaller, whatever it is used for.
INT32_MAX = 2**31 - 1
# Longest media the player and progress accept, in seconds (a day: progress has always been bounded by it).
MAX_MEDIA_SECONDS = 86_400
MAX_JSON_DEPTH = 32  # the deepest request model (quiz answers) needs 4
MAX_JSON_BYTES = 4 * 2**20  # a quiz spec is at most 200,000 characters; an essay far less

Count = Annotated[int, Interval(ge=0, le=INT32_MAX)]
"""A non-negative integer a client sends: offsets, sequence numbers, indexes."""
RowId = Annotated[int, Interval(ge=1, le=INT32_MAX)]
"""A database row id in a path (a question's)."""
MediaSeconds = Annotated[float, Interval(ge=0, le=MAX_MEDIA_SECONDS), Field(allow_inf_nan=False)]
"""A moment of a lecture, in seconds from its start: finite (pydantic takes ``"nan"`` and ``"inf"`` as text
otherwise)."""
AskedSeconds = Annotated[float, Interval(ge=-MAX_MEDIA_SECONDS, le=MAX_MEDIA_SECONDS), Field(allow_inf_nan=False)]
"""A moment a member names (a question's): finite and bounded here, while the lecture's own length is checked by
the domain rule, whose Vietnamese message names the range (a bare schema refusal would not)."""


def _as_utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


UtcDateTime = Annotated[dt.datetime, AfterValidator(_as_utc)]
"""A timestamp in a response: the database stores naive UTC, clients get it with its offset (RFC 3339)."""


class HostileJson(ValueError):
    """A body ``json.loads`` would take but the API refuses; ``code`` names the rule (a key under ``input.``)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# A UTF-16 surrogate written as an escape; only such text can hold a lone one once the body decoded as UTF-8.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _refuse_constant(name: str) -> Any:
    raise HostileJson("not_finite")  # NaN, Infinity, -Infinity


def loads_strict(body: bytes | str) -> Any:
    """The JSON value of ``body``; ``HostileJson`` for what JSON does not allow or the API will not hold, and
    ``json.JSONDecodeError`` (a ``ValueError`` too) for what is not JSON at all."""
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
    except UnicodeDecodeError:
        raise HostileJson("not_utf8") from None
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise HostileJson("too_deep") from None
    _check(value, texts=_SURROGATE_ESCAPE.search(text) is not None)
    return value


def _check(value: Any, texts: bool) -> None:
    """Refuse nesting past ``MAX_JSON_DEPTH``, floats that overflowed, and (``texts``) strings not UTF-8."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            if depth > MAX_JSON_DEPTH:
                raise HostileJson("too_deep")
            if texts:
                _check_texts(item.keys())
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            if depth > MAX_JSON_DEPTH:
                raise HostileJson("too_deep")
            stack.extend((v, depth + 1) for v in item)
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise HostileJson("not_finite")  # 1e999
        elif texts and isinstance(item, str):
            _check_texts((item,))


def _check_texts(texts: Any) -> None:
    for text in texts:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise HostileJson("not_utf8") from None
