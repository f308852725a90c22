"""The org tree in the database: load it from a YAML file, find and list units.

The file nests units under ``units:``, each with ``code``, ``name``, ``kind`` and optional ``children``, to any
depth. Loading is an idempotent upsert by code in one transaction: a renamed unit is renamed, a unit placed
under another parent is moved and its whole subtree's paths rewritten. Units in the database that the file
does not mention are left alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.models import OrgUnitRow
from diemcau.core.orgtree import OrgUnit, child_path, is_valid_code
from diemcau.core.roster import name_key, normalise_name

UNIT_FIELDS = ("code", "name", "kind")
ALLOWED_KEYS = (*UNIT_FIELDS, "children")


class OrgTreeError(Exception):
    """An org tree file is wrong; names the file, the line (1-based) when known, and the field."""

    def __init__(self, source: str, line: int | None, field: str | None, problem: str) -> None:
        self.source, self.line, self.field, self.problem = source, line, field, problem
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {f'{field}: ' if field else ''}{problem}")


@dataclass(frozen=True)
class OrgNode:
    """One unit as the file declares it, with its parent's code (``None`` for a root)."""

    code: str
    name: str
    kind: str
    parent_code: str | None
    line: int


@dataclass(frozen=True)
class OrgTreeReport:
    """What loading a tree did, in unit counts."""

    created: int = 0
    updated: int = 0
    moved: int = 0
    unchanged: int = 0


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _walk(seq: yaml.Node, parent: str | None, source: str) -> Iterator[OrgNode]:
    if isinstance(seq, yaml.ScalarNode) and seq.tag.endswith(":null"):
        return
    if not isinstance(seq, yaml.SequenceNode):
        raise OrgTreeError(source, _line(seq), "children" if parent else "units", "must be a list of units")
    for item in seq.value:
        if not isinstance(item, yaml.MappingNode):
            raise OrgTreeError(source, _line(item), None, "each unit must be a mapping with code, name, kind")
        fields: dict[str, yaml.Node] = {}
        for key, value in item.value:
            if key.value not in ALLOWED_KEYS:
                raise OrgTreeError(source, _line(key), str(key.value), f"unknown key; use {', '.join(ALLOWED_KEYS)}")
            fields[key.value] = value
        values = {}
        for name in UNIT_FIELDS:
            node = fields.get(name)
            text = node.value.strip() if isinstance(node, yaml.ScalarNode) and node.value else ""
            if not text:
                raise OrgTreeError(source, _line(node or item), name, "missing or empty")
            values[name] = normalise_name(text)
        if not is_valid_code(values["code"]):
            problem = f"invalid code {values['code']!r}: use lowercase letters, digits, '-' or '_'"
            raise OrgTreeError(source, _line(fields["code"]), "code", problem)
        yield OrgNode(values["code"], values["name"], values["kind"], parent, _line(item))
        if "children" in fields:
            yield from _walk(fields["children"], values["code"], source)


def parse_org_tree(text: str, source: str = "<org tree>") -> list[OrgNode]:
    """The units declared in YAML ``text``, parents before children; raises ``OrgTreeError`` on any fault."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise OrgTreeError(source, mark.line + 1 if mark else None, None, f"not valid YAML ({exc})") from None
    units = None
    if isinstance(root, yaml.MappingNode):
        units = next((value for key, value in root.value if key.value == "units"), None)
    if units is None:
        raise OrgTreeError(source, None, "units", "the file must have a top-level 'units:' list")
    nodes = list(_walk(units, None, source))
    seen: dict[str, int] = {}
    for node in nodes:
        if node.code in seen:
            problem = f"duplicate code {node.code!r} (first on line {seen[node.code]})"
            raise OrgTreeError(source, node.line, "code", problem)
        seen[node.code] = node.line
    return nodes


def load_org_tree(factory: sessionmaker[Session], path: Path) -> OrgTreeReport:
    """Upsert the units of the YAML file at ``path`` in one transaction; nothing is written on error."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise OrgTreeError(str(path), None, None, f"cannot read the file ({exc})") from None
    nodes = parse_org_tree(text, str(path))
    with transaction(factory) as session:
        return _apply(session, nodes)


def _apply(session: Session, nodes: list[OrgNode]) -> OrgTreeReport:
    rows = list(session.scalars(select(OrgUnitRow)))
    by_code = {row.code: row for row in rows}
    created = updated = moved = unchanged = 0
    for node in nodes:
        parent = by_code[node.parent_code] if node.parent_code else None
        path = child_path(parent.path if parent else None, node.code)
        row = by_code.get(node.code)
        if row is None:
            parent_id = parent.id if parent else None
            row = OrgUnitRow(code=node.code, name=node.name, kind=node.kind, path=path, parent_id=parent_id)
            session.add(row)
            session.flush()  # children need its id
            by_code[node.code] = row
            rows.append(row)
            created += 1
            continue
        changed = (row.name, row.kind) != (node.name, node.kind)
        row.name, row.kind = node.name, node.kind
        if row.path != path:
            old = row.path
            for other in rows:
                if other.path.startswith(old):
                    other.path = path + other.path[len(old) :]
            row.parent_id = parent.id if parent else None
            moved += 1
        elif changed:
            updated += 1
        else:
            unchanged += 1
    return OrgTreeReport(created, updated, moved, unchanged)


def to_org_unit(row: OrgUnitRow) -> OrgUnit:
    """The core dataclass of a unit row."""
    return OrgUnit(code=row.code, name=row.name, kind=row.kind, path=row.path)


def list_units(session: Session, scope_path: str | None = None) -> list[OrgUnit]:
    """All units in path order, or only those in the subtree at ``scope_path``."""
    query = select(OrgUnitRow).order_by(OrgUnitRow.path)
    if scope_path is not None:
        query = query.where(OrgUnitRow.path.startswith(scope_path, autoescape=True))
    return [to_org_unit(row) for row in session.scalars(query)]


def find_unit(session: Session, code_or_name: str) -> OrgUnitRow | None:
    """The unit with this code (any case), else with this exact name; ``LookupError`` when the name is ambiguous."""
    row = session.scalar(select(OrgUnitRow).where(OrgUnitRow.code == code_or_name.strip().lower()))
    if row is not None:
        return row
    key = name_key(code_or_name)
    matches = [r for r in session.scalars(select(OrgUnitRow)) if name_key(r.name) == key]
    if len(matches) > 1:
        raise LookupError(f"several org units are named {code_or_name!r}: {', '.join(r.code for r in matches)}")
    return matches[0] if matches else None
