"""The scale-out search backend: PostgreSQL full text in the application database.

Tables (created by ``ensure_index``; the index is derived data, so no Alembic migration): ``search_lectures``
(metadata) and ``search_segments`` (one row per segment or document passage) with two ``tsvector`` columns
on the 'simple' configuration (no stemming, no stop words — Vietnamese has neither in PostgreSQL):

* ``exact_tsv`` — our NFC lowercase tokens, diacritics kept;
* ``folded_tsv`` — the same tokens through ``diemcau_fold()``: an IMMUTABLE SQL function wrapping ``unaccent``
  (with its dictionary named, which is what makes it safe to call immutable) plus an explicit đ→d.

Both have GIN indexes. Queries fold on the server with the same function, so index and query always agree.
Phrases use ``phraseto_tsquery`` (``<->`` between adjacent words) on bound parameters — a query is never
spliced into SQL or into tsquery syntax, so no input can break it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from diemcau.adapters.db.engine import make_engine
from diemcau.core.search_match import EXACT, Tier
from diemcau.core.search_query import SearchQuery
from diemcau.core.search_results import DOCUMENT, SPOKEN, SegmentMatch
from diemcau.core.search_text import exact_form
from diemcau.core.transcript import Segment
from diemcau.search.index import (
    DEFAULT_PREFIX,
    LectureMeta,
    LectureNotIndexed,
    TieredSearch,
    lecture_conditions,
    meta_row,
    passages,
)

FOLD_FUNCTION = """CREATE OR REPLACE FUNCTION diemcau_fold(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT translate({schema}.unaccent('{schema}.unaccent'::regdictionary, $1), 'đĐ', 'dd') $$"""

SEGMENTS_TABLE = """CREATE TABLE IF NOT EXISTS search_segments (
    id bigserial PRIMARY KEY, lecture_id varchar(64) NOT NULL, course_id text NOT NULL, kind text NOT NULL,
    doc_name text NOT NULL DEFAULT '', page integer, start double precision, "end" double precision,
    text text NOT NULL, exact_tsv tsvector NOT NULL, folded_tsv tsvector NOT NULL)"""

SEGMENT_INDEXES = (  # (name, definition): made by ensure_index, and by a rebuild after its bulk load
    ("search_segments_exact", "USING gin (exact_tsv)"),
    ("search_segments_folded", "USING gin (folded_tsv)"),
    ("search_segments_lecture", "(lecture_id, kind, doc_name)"),
    ("search_segments_course_id", "(course_id, id)"),  # a viewer's courses, each walked newest first
)
SUPERSEDED_INDEXES = ("search_segments_course",)  # (course_id), before the walk per course: dropped

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS search_lectures (
        lecture_id varchar(64) PRIMARY KEY, title text NOT NULL, course_id text NOT NULL, speaker text NOT NULL,
        resolution text NOT NULL, speaker_folded text NOT NULL, resolution_folded text NOT NULL, created_on text)""",
    SEGMENTS_TABLE,
    *(f"CREATE INDEX IF NOT EXISTS {name} ON search_segments {definition}" for name, definition in SEGMENT_INDEXES),
    *(f"DROP INDEX IF EXISTS {name}" for name in SUPERSEDED_INDEXES),
)

# The two indexed forms of a row's exact tokens: one rule for inserts and rebuilds (queries fold the same way).
EXACT_TSV = "to_tsvector('simple', {})"
FOLDED_TSV = "to_tsvector('simple', diemcau_fold({}))"
ROW_COLUMNS = 'lecture_id, course_id, kind, doc_name, page, start, "end", text'

INSERT = text(
    f"INSERT INTO search_segments ({ROW_COLUMNS}, exact_tsv, folded_tsv) VALUES (:lecture_id, :course_id, :kind, "
    f":doc_name, :page, :start, :end, :text, {EXACT_TSV.format(':exact')}, {FOLDED_TSV.format(':exact')})"
)

BUILD_TABLE = "search_segments_build"  # a rebuild fills this, indexes it, then swaps it in
LOAD_TABLE = "search_segments_load"  # a rebuild's staging (temporary): rows and their exact tokens, no tsvector
REBUILD_MAINTENANCE_MEMORY = "256MB"  # for the index builds after the load (the server's default 64MB is slow)
# For this transaction: no JIT (the GIN branches' estimates cross jit_above_cost on a large index, and compiling
# the plan then costs 30+ ms, more than running it), and a plan made for the query's own words each time (the
# driver prepares a statement run often; a generic plan, blind to which words are common, walked the wrong way).
SEARCH_SETTINGS = "SELECT set_config('jit', 'off', true), set_config('plan_cache_mode', 'force_custom_plan', true)"
STATS_SECONDS = 300.0  # how long a process trusts the word frequencies it read from pg_stats
NEWEST_WINDOW = 30_000  # rows a tier walks newest first before it turns to the GIN index (see tier_sql)
COURSE_WALK_MOST = 10  # a viewer with at most this many courses walks their rows, not the whole table's
LAST_ID = 2**63 - 1  # above every id: the cut of an empty walk (everything is left to GIN)


def tsquery_sql(tier: Tier, prefix: str = "") -> tuple[str, dict[str, str]]:
    """The tsquery of a tier as SQL over bound parameters: each group a ``phraseto_tsquery``, ANDed (pure)."""
    fold = "{}" if tier.column == EXACT else "diemcau_fold({})"
    parts, params = [], {}
    for i, group in enumerate(tier.groups):
        params[f"{prefix}g{i}"] = " ".join(group)
        parts.append(f"phraseto_tsquery('simple', {fold.format(f':{prefix}g{i}')})")
    return " && ".join(parts), params


def course_window_sql(courses: int, columns: str) -> str:
    """The newest ``:window`` rows of the courses ``:c0``, ``:c1``…, newest first, as a subquery (pure).

    One backward walk of the ``(course_id, id)`` index per course, merged (a Merge Append): rows are read only
    as the query above asks for them, so a walk that finds its pool early stops early.
    """
    walks = " UNION ALL ".join(
        f"(SELECT {columns} FROM search_segments WHERE course_id = :c{k} ORDER BY id DESC LIMIT :window)"
        for k in range(courses)
    )
    return f"(SELECT {columns} FROM ({walks}) merged ORDER BY id DESC LIMIT :window)"


def tier_sql(
    tier: Tier, filters: str, walk: bool = True, courses: int = 0, lecture_filter: str = ""
) -> tuple[str, dict[str, str]]:
    """The ids of up to ``:pool`` rows matching ``tier`` (and ``filters``), newest first (pure).

    Two branches, and the second runs only when the first found fewer than ``:pool`` rows:

    * (``walk``) the newest ``:window`` rows, walked backwards on the primary key with the match as a *filter*
      (``ts_match_vq`` is ``@@`` as a function, which the GIN index cannot serve): a common word stops after a
      few hundred rows instead of reading its whole posting list and sorting every match. With ``courses``
      (a viewer limited to that many courses, ``:c0``…), the newest ``:window`` rows *of those courses*
      (``course_window_sql``), only ``lecture_filter`` left to check, and ``ccut`` the oldest id walked;
    * the older rows through the GIN index, every match sorted (``id + 0``: the primary key must not be walked
      here, or a rare term would be looked for row by row): cheap, since what is left to find is rare there.

    Without ``walk`` (a tier with a word too rare to fill the pool there) only the GIN branch runs, on every row.
    """
    tsquery, params = tsquery_sql(tier, f"t{tier.rank}")
    column = f"{tier.column}_tsv"
    cut = " AND id < (SELECT v FROM ccut)" if courses else " AND id <= (SELECT v FROM cut)"
    older = (
        f"SELECT id FROM search_segments WHERE {column} @@ ({tsquery}){cut if walk else ''}{filters} "
        "ORDER BY id + 0 DESC LIMIT :pool"
    )
    if not walk:
        return f"({older})", params
    if courses:
        rows = course_window_sql(courses, f"id, lecture_id, {column}")
        newest = (
            f"SELECT id FROM {rows} w WHERE ts_match_vq({column}, ({tsquery})){lecture_filter} "
            "ORDER BY id DESC LIMIT :pool"
        )
    else:
        newest = (
            f"SELECT id FROM search_segments WHERE id > (SELECT v FROM cut) AND ts_match_vq({column}, ({tsquery}))"
            f"{filters} ORDER BY id DESC LIMIT :pool"
        )
    return f"(({newest}) UNION ALL ({older}) LIMIT :pool)", params


def search_sql(
    tiers: Sequence[Tier], filters: str, walks: Sequence[bool] = (), courses: int = 0, lecture_filter: str = ""
) -> tuple[str, dict[str, str]]:
    """One statement for a whole search: the tiers' pool, then the rows' places, texts and titles (pure).

    Each tier runs only while the tiers before it found fewer than ``:pool`` distinct rows (a one-time
    filter: PostgreSQL skips a gated branch without starting it), and a row keeps the best tier it matched.
    ``courses``, ``lecture_filter``: a walk of the viewer's courses (see ``tier_sql``).
    """
    params: dict[str, str] = {}
    ctes = ["cut AS (SELECT coalesce(max(id), 0) - :window AS v FROM search_segments)"]
    if courses:  # computed only if a GIN branch asks for it (CTEs are evaluated on first use)
        ctes = [f"ccut AS (SELECT coalesce(min(id), {LAST_ID}) AS v FROM {course_window_sql(courses, 'id')} w)"]
    for i, tier in enumerate(tiers):
        sql, tier_params = tier_sql(tier, filters, walks[i] if walks else True, courses, lecture_filter)
        params.update(tier_params)
        gate = ""
        if i:
            seen = " UNION ".join(f"SELECT id FROM t{j}" for j in range(i))
            gate = f" WHERE (SELECT count(*) FROM ({seen}) seen) < :pool"
        ctes.append(f"t{i} AS (SELECT id, {tier.rank} AS tier FROM {sql} found{gate})")
    found = " UNION ALL ".join(f"SELECT id, tier FROM t{i}" for i in range(len(tiers)))
    ctes.append(f"ranked AS (SELECT id, min(tier) AS tier FROM ({found}) found GROUP BY id)")
    return (
        f"WITH {', '.join(ctes)} "
        'SELECT s.id, s.lecture_id, l.title, l.course_id, s.kind, s.start, s."end", s.text, s.doc_name, s.page, '
        "r.tier FROM ranked r JOIN search_segments s ON s.id = r.id JOIN search_lectures l ON l.lecture_id = s.lecture_id"
    ), params


class PostgresSearchIndex(TieredSearch):
    """Search on PostgreSQL full text, in the database at ``url`` (or on ``engine``).

    ``newest_window``: how many of the newest rows a tier walks in id order before it asks the GIN index.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        engine: Engine | None = None,
        prefix: str = DEFAULT_PREFIX,
        newest_window: int = NEWEST_WINDOW,
    ) -> None:
        if engine is None and url is None:
            raise ValueError("PostgresSearchIndex needs a database URL or an engine")
        self._owns_engine = engine is None
        self.engine = engine if engine is not None else make_engine(url)  # type: ignore[arg-type]
        self.prefix = prefix
        self.newest_window = newest_window
        self._stats: tuple[float, dict[tuple[str, str], float]] = (-STATS_SECONDS, {})
        self.ensure_index()

    def close(self) -> None:
        """Dispose of the engine if this index created it."""
        if self._owns_engine:
            self.engine.dispose()

    def ensure_index(self) -> None:
        """Create the unaccent extension, the fold function, tables and indexes (idempotent).

        An index made by older code gets the indexes added since (``CREATE INDEX``: writes wait meanwhile,
        searches do not) and loses the superseded ones.
        """
        with self.engine.connect() as db:
            ready = db.execute(
                text(
                    "SELECT to_regclass('search_segments') IS NOT NULL AND "
                    "EXISTS (SELECT 1 FROM pg_proc WHERE proname = 'diemcau_fold')"
                    + "".join(f" AND to_regclass('{name}') IS NOT NULL" for name, _ in SEGMENT_INDEXES)
                    + "".join(f" AND to_regclass('{name}') IS NULL" for name in SUPERSEDED_INDEXES)
                )
            ).scalar()
        if ready:
            return
        with self.engine.begin() as db:
            # Two API workers starting on a fresh database would race on CREATE FUNCTION/TABLE: one at a time.
            db.execute(text("SELECT pg_advisory_xact_lock(hashtext('diemcau_search_schema'))"))
            db.execute(text("CREATE EXTENSION IF NOT EXISTS unaccent"))
            if db.execute(text("SELECT 1 FROM pg_proc WHERE proname = 'diemcau_fold'")).first() is None:
                schema = db.execute(
                    text(
                        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
                        "WHERE e.extname = 'unaccent'"
                    )
                ).scalar_one()
                db.execute(text(FOLD_FUNCTION.format(schema=f'"{schema}"')))
            for statement in SCHEMA:
                db.execute(text(statement))

    def _delete_rows(
        self, db: Connection, lecture_id: str, kind: str | None = None, doc_name: str | None = None
    ) -> None:
        sql, params = "DELETE FROM search_segments WHERE lecture_id = :l", {"l": lecture_id}
        if kind is not None:
            sql, params = sql + " AND kind = :k AND doc_name = :d", {**params, "k": kind, "d": doc_name}
        db.execute(text(sql), params)

    def _insert_rows(self, db: Connection, lecture_id: str, course_id: str, rows: Iterable[tuple]) -> int:
        batch = [
            {
                "lecture_id": lecture_id,
                "course_id": course_id,
                "kind": kind,
                "doc_name": doc_name,
                "page": page,
                "start": start,
                "end": end,
                "text": body,
                "exact": exact_form(body),
            }
            for kind, doc_name, page, start, end, body in rows
        ]
        if batch:
            db.execute(INSERT, batch)
        return len(batch)

    def _store_lecture(self, db: Connection, meta: LectureMeta, segments: Iterable[Segment]) -> int:
        self._delete_rows(db, meta.lecture_id, SPOKEN, "")
        row = meta_row(meta)
        updates = ", ".join(f"{key} = EXCLUDED.{key}" for key in row if key != "lecture_id")
        db.execute(
            text(
                f"INSERT INTO search_lectures ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)}) "
                f"ON CONFLICT (lecture_id) DO UPDATE SET {updates}"
            ),
            row,
        )
        db.execute(
            text("UPDATE search_segments SET course_id = :c WHERE lecture_id = :l"),
            {"c": meta.course_id, "l": meta.lecture_id},
        )
        spoken = ((SPOKEN, "", None, s.start, s.end, s.text) for s in segments if s.text.strip())
        return self._insert_rows(db, meta.lecture_id, meta.course_id, spoken)

    def index_lecture(self, meta: LectureMeta, segments: Iterable[Segment]) -> int:
        """Replace a lecture's metadata and spoken segments, keeping its documents; returns segments indexed."""
        with self.engine.begin() as db:
            return self._store_lecture(db, meta, segments)

    def index_document(self, lecture_id: str, doc_name: str, text_pages: Sequence[str]) -> int:
        """Replace one document of an indexed lecture; raises ``LectureNotIndexed`` for an unknown lecture."""
        with self.engine.begin() as db:
            course = db.execute(
                text("SELECT course_id FROM search_lectures WHERE lecture_id = :l"), {"l": lecture_id}
            ).scalar()
            if course is None:
                raise LectureNotIndexed(lecture_id)
            self._delete_rows(db, lecture_id, DOCUMENT, doc_name)
            rows = ((DOCUMENT, doc_name, page, None, None, body) for page, body in passages(text_pages))
            return self._insert_rows(db, lecture_id, course, rows)

    def remove_lecture(self, lecture_id: str) -> bool:
        """Forget a lecture, its segments and its documents; returns whether it was indexed."""
        with self.engine.begin() as db:
            self._delete_rows(db, lecture_id)
            result = db.execute(text("DELETE FROM search_lectures WHERE lecture_id = :l"), {"l": lecture_id})
            return result.rowcount > 0

    def rebuild(self, lectures: Iterable[tuple[LectureMeta, Iterable[Segment]]]) -> int:
        """Index ``lectures`` into a new table and swap it for the old one, in one transaction.

        A bulk load: rows stream with COPY into a temporary staging table, one ``INSERT … SELECT`` computes every
        tsvector (the server's parser and ``unaccent``: half the time), the indexes are built once after the load,
        and the new table is fresh (no dead rows left behind, unlike deleting and re-inserting in place). Searches
        read the old table until the swap at the very end, which waits for the searches in flight and holds new
        ones back only for the swap itself. Needs free disk for a second copy of the index meanwhile.
        """
        with self.engine.begin() as db:
            db.execute(text(f"SET LOCAL maintenance_work_mem = '{REBUILD_MAINTENANCE_MEMORY}'"))
            db.execute(text(f"DROP TABLE IF EXISTS {BUILD_TABLE}"))
            db.execute(text(SEGMENTS_TABLE.replace("search_segments", BUILD_TABLE, 1)))
            db.execute(
                text(
                    f"CREATE TEMPORARY TABLE {LOAD_TABLE} (n bigint, ordinal integer, lecture_id text, course_id text, "
                    'start double precision, "end" double precision, text text, exact text) ON COMMIT DROP'
                )
            )
            metas, counts = self._copy_rows(db, lectures)
            kept = {ordinal for ordinal, _ in metas.values()}
            if len(kept) < len(counts):  # a lecture given twice: its last rows win, as in index_lecture
                db.execute(text(f"DELETE FROM {LOAD_TABLE} WHERE ordinal <> ALL(:kept)"), {"kept": sorted(kept)})
            db.execute(
                text(
                    f"INSERT INTO {BUILD_TABLE} (id, {ROW_COLUMNS}, exact_tsv, folded_tsv) "
                    f"SELECT n, lecture_id, course_id, :kind, '', NULL, start, \"end\", text, "
                    f"{EXACT_TSV.format('exact')}, {FOLDED_TSV.format('exact')} FROM {LOAD_TABLE}"
                ),
                {"kind": SPOKEN},
            )
            sequence = db.execute(text(f"SELECT pg_get_serial_sequence('{BUILD_TABLE}', 'id')")).scalar_one()
            db.execute(text("SELECT setval(:s, :next, false)"), {"s": sequence, "next": sum(counts) + 1})
            for name, definition in SEGMENT_INDEXES:
                db.execute(text(f"CREATE INDEX {name}_build ON {BUILD_TABLE} {definition}"))
            db.execute(text(f"ANALYZE {BUILD_TABLE}"))
            # The swap. Segments before lectures, the order index_lecture locks them in (no deadlock).
            db.execute(text("LOCK TABLE search_segments IN ACCESS EXCLUSIVE MODE"))
            db.execute(text("DELETE FROM search_lectures"))
            rows = [meta_row(meta) for _, meta in metas.values()]
            if rows:
                db.execute(
                    text(
                        f"INSERT INTO search_lectures ({', '.join(rows[0])}) VALUES ({', '.join(':' + k for k in rows[0])})"
                    ),
                    rows,
                )
            db.execute(text("DROP TABLE search_segments"))
            db.execute(text(f"ALTER TABLE {BUILD_TABLE} RENAME TO search_segments"))
            db.execute(text(f"ALTER INDEX {BUILD_TABLE}_pkey RENAME TO search_segments_pkey"))
            for name, _ in SEGMENT_INDEXES:
                db.execute(text(f"ALTER INDEX {name}_build RENAME TO {name}"))
            db.execute(text(f"ALTER SEQUENCE {sequence} RENAME TO search_segments_id_seq"))
            return sum(counts)  # rows written, a lecture given twice counted twice (as SqliteSearchIndex does)

    def _copy_rows(
        self, db: Connection, lectures: Iterable[tuple[LectureMeta, Iterable[Segment]]]
    ) -> tuple[dict[str, tuple[int, LectureMeta]], list[int]]:
        """COPY every spoken segment into the staging table, numbered in order (ids: newest last, as inserts).

        Returns each lecture's last ``(ordinal, meta)`` and the rows copied per ordinal.
        """
        metas: dict[str, tuple[int, LectureMeta]] = {}
        counts: list[int] = []
        n = 0
        cursor = db.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(
            f'COPY {LOAD_TABLE} (n, ordinal, lecture_id, course_id, start, "end", text, exact) FROM STDIN'
        ) as copy:
            for ordinal, (meta, segments) in enumerate(lectures):
                metas[meta.lecture_id] = (ordinal, meta)
                before = n
                for segment in segments:
                    if segment.text.strip():
                        n += 1
                        exact = exact_form(segment.text)
                        copy.write_row(
                            (
                                n,
                                ordinal,
                                meta.lecture_id,
                                meta.course_id,
                                segment.start,
                                segment.end,
                                segment.text,
                                exact,
                            )
                        )
                counts.append(n - before)
        return metas, counts

    def lecture_ids(self) -> set[str]:
        """The ids of every indexed lecture."""
        with self.engine.connect() as db:
            return set(db.execute(text("SELECT lecture_id FROM search_lectures")).scalars())

    def _matches(
        self, tiers: tuple[Tier, ...], courses: frozenset[str] | None, query: SearchQuery, pool: int
    ) -> list[SegmentMatch]:
        """The whole pool, with each row's place, text and title, in one statement (one round trip)."""
        filters, lecture_filter, params = "", "", {"pool": pool, "window": self.newest_window}
        walked = sorted(courses) if courses is not None and len(courses) <= COURSE_WALK_MOST else []
        if courses is not None:
            filters += " AND course_id = ANY(:courses)"
            params.update({"courses": sorted(courses), **{f"c{k}": course for k, course in enumerate(walked)}})
        conditions, lecture_params = lecture_conditions(query)
        if conditions:
            lecture_filter = (
                f" AND lecture_id IN (SELECT lecture_id FROM search_lectures WHERE {' AND '.join(conditions)})"
            )
            filters += lecture_filter
        share = self._shares()
        least = pool / max(self.newest_window, 1)  # a word in fewer rows cannot fill the pool in the window
        # (the whole table's shares stand for those in a viewer's courses: only the cost depends on them)
        walks = [
            all(share.get((tier.column, word), 0.0) >= least for group in tier.groups for word in group)
            for tier in tiers
        ]
        sql, tier_params = search_sql(tiers, filters, walks, len(walked), lecture_filter)
        try:
            with self.engine.begin() as db:  # a transaction, which the SET LOCAL ends with
                db.execute(text(SEARCH_SETTINGS))
                rows = db.execute(text(sql), {**params, **lecture_params, **tier_params}).all()
        except DBAPIError:  # defence in depth: the query is built from bound parameters only
            return []
        return [SegmentMatch(*row[:10], tier=row[10], score=float(-row[0])) for row in rows]

    def _shares(self) -> dict[tuple[str, str], float]:
        """``(column, word) → share of rows holding it`` for the common words, from ``pg_stats`` (re-read
        every ``STATS_SECONDS``). Only the cost of a search depends on it, never its hits; a word it does not
        list (no ANALYZE yet, or a rare word) sends a tier straight to the GIN index."""
        read_at, shares = self._stats
        if time.monotonic() - read_at < STATS_SECONDS:
            return shares
        with self.engine.connect() as db:
            rows = db.execute(
                text(
                    "SELECT attname, most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
                    "WHERE schemaname = current_schema() AND tablename = 'search_segments' "
                    "AND attname IN ('exact_tsv', 'folded_tsv')"
                )
            ).all()
        shares = {
            (name.removesuffix("_tsv"), word): share
            for name, words, freqs in rows
            if words
            for word, share in zip(words, freqs)
        }
        self._stats = (time.monotonic(), shares)
        return shares

    def _with_texts(self, groups: list[list[SegmentMatch]]) -> list[list[SegmentMatch]]:
        return groups  # _matches read them already
