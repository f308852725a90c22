"""The embedded search backend: SQLite FTS5 in its own file in the data directory (``search.sqlite``).

Tables (created by ``ensure_index``; the index is derived data, so no Alembic migration):

* ``search_lectures`` — each indexed lecture's metadata (title, course, speaker, resolution, date);
* ``search_segments`` — one row per spoken segment or document passage: where it is and its original text;
* ``search_fts`` — a *contentless* FTS5 table (rowid = ``search_segments.id``) with three indexed columns:
  ``exact`` (NFC lowercase words, diacritics kept), ``folded`` (diacritics removed, đ→d) and ``tags`` (the
  course as one token, so a viewer's visible courses filter inside the index). Contentless keeps the text
  once; a row is deleted by replaying its indexed values, which are recomputed from the stored original text
  with the same pure functions. ``INDEX_FORMAT`` changes whenever those functions do, and ``ensure_index``
  then rebuilds the FTS table from ``search_segments`` by itself.

Its own file keeps the large, rebuildable index out of the application database's backups and its writes
off the application's write lock. Within a tier, the most recently indexed rows come first, and a tier's query
stops after ``limit`` rows, so a common word costs what a rare one does (see docs/search.md).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from diemcau.core.search_match import Tier, course_tag, fts5_expression
from diemcau.core.search_query import SearchQuery
from diemcau.core.search_results import DOCUMENT, SPOKEN, SegmentMatch
from diemcau.core.search_text import index_forms
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

INDEX_FORMAT = "1"

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS search_info (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS search_lectures (
        lecture_id TEXT PRIMARY KEY, title TEXT NOT NULL, course_id TEXT NOT NULL, speaker TEXT NOT NULL,
        resolution TEXT NOT NULL, speaker_folded TEXT NOT NULL, resolution_folded TEXT NOT NULL, created_on TEXT)""",
    """CREATE TABLE IF NOT EXISTS search_segments (
        id INTEGER PRIMARY KEY, lecture_id TEXT NOT NULL, kind TEXT NOT NULL, doc_name TEXT NOT NULL DEFAULT '',
        page INTEGER, start REAL, "end" REAL, text TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS search_segments_lecture ON search_segments (lecture_id, kind, doc_name)",
    """CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5 (
        exact, folded, tags, content='', tokenize='unicode61 remove_diacritics 0')""",
)


class SqliteSearchIndex(TieredSearch):
    """Search on SQLite FTS5 in the file ``path`` (created on first use)."""

    def __init__(self, path: Path | str, prefix: str = DEFAULT_PREFIX) -> None:
        self.path = Path(path)
        self.prefix = prefix
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self.ensure_index()

    # connections -----------------------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=10.0, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: every change commits together or none does."""
        connection = self._connection()
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def close(self) -> None:
        """Close every connection this index opened."""
        with self._lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()
        self._local = threading.local()

    # writes ----------------------------------------------------------------------------------------------

    def _is_current(self) -> bool:
        try:
            row = self._connection().execute("SELECT value FROM search_info WHERE key = 'format'").fetchone()
        except sqlite3.OperationalError:  # no tables yet
            return False
        return row is not None and row[0] == INDEX_FORMAT

    def ensure_index(self) -> None:
        """Create the tables (idempotent); after a change of ``INDEX_FORMAT``, rebuild the FTS table.

        A current index is only read, so opening it never waits for a writer (a rebuild in another process).
        """
        if self._is_current():
            return
        with self._write() as db:
            for statement in SCHEMA:
                db.execute(statement)
            row = db.execute("SELECT value FROM search_info WHERE key = 'format'").fetchone()
            if row is not None and row[0] != INDEX_FORMAT:
                db.execute("INSERT INTO search_fts (search_fts) VALUES ('delete-all')")
                self._refill_fts(db)
            db.execute("INSERT OR REPLACE INTO search_info VALUES ('format', ?)", (INDEX_FORMAT,))

    def _refill_fts(self, db: sqlite3.Connection) -> None:
        rows = db.execute(
            "SELECT s.id, s.text, l.course_id FROM search_segments s JOIN search_lectures l USING (lecture_id)"
        ).fetchall()
        db.executemany(
            "INSERT INTO search_fts (rowid, exact, folded, tags) VALUES (?, ?, ?, ?)",
            [(rid, *index_forms(text), course_tag(course)) for rid, text, course in rows],
        )

    def _delete_rows(self, db: sqlite3.Connection, lecture_id: str, where: str = "", params: tuple = ()) -> int:
        course = db.execute("SELECT course_id FROM search_lectures WHERE lecture_id = ?", (lecture_id,)).fetchone()
        rows = db.execute(f"SELECT id, text FROM search_segments WHERE lecture_id = ? {where}", (lecture_id, *params))
        doomed = [(rid, *index_forms(text), course_tag(course[0] if course else "")) for rid, text in rows]
        db.executemany(
            "INSERT INTO search_fts (search_fts, rowid, exact, folded, tags) VALUES ('delete', ?, ?, ?, ?)", doomed
        )
        db.execute(f"DELETE FROM search_segments WHERE lecture_id = ? {where}", (lecture_id, *params))
        return len(doomed)

    def _insert_rows(self, db: sqlite3.Connection, lecture_id: str, course_id: str, rows: Iterable[tuple]) -> int:
        """Insert ``(kind, doc_name, page, start, end, text)`` rows of one lecture into both tables.

        Ids count *down*: each batch takes the block just below the lowest id, in time order within it. FTS5
        walks a match list fastest in ascending rowid order, and that order is then newest first.
        """
        batch = list(rows)
        lowest = db.execute("SELECT coalesce(min(id), 1) FROM search_segments").fetchone()[0]
        first = min(lowest, 1) - len(batch)
        tag = course_tag(course_id)
        db.executemany(
            'INSERT INTO search_segments (id, lecture_id, kind, doc_name, page, start, "end", text) '
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(first + i, lecture_id, *row) for i, row in enumerate(batch)],
        )
        db.executemany(
            "INSERT INTO search_fts (rowid, exact, folded, tags) VALUES (?, ?, ?, ?)",
            [(first + i, *index_forms(row[-1]), tag) for i, row in enumerate(batch)],
        )
        return len(batch)

    def _store_lecture(self, db: sqlite3.Connection, meta: LectureMeta, segments: Iterable[Segment]) -> int:
        documents = db.execute(
            'SELECT kind, doc_name, page, start, "end", text FROM search_segments WHERE lecture_id = ? AND kind = ?',
            (meta.lecture_id, DOCUMENT),
        ).fetchall()
        self._delete_rows(db, meta.lecture_id)
        row = meta_row(meta)
        db.execute(
            f"INSERT OR REPLACE INTO search_lectures ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
            tuple(row.values()),
        )
        spoken = ((SPOKEN, "", None, s.start, s.end, s.text) for s in segments if s.text.strip())
        count = self._insert_rows(db, meta.lecture_id, meta.course_id, spoken)
        self._insert_rows(db, meta.lecture_id, meta.course_id, documents)  # re-tagged with the current course
        return count

    def index_lecture(self, meta: LectureMeta, segments: Iterable[Segment]) -> int:
        """Replace a lecture's metadata and spoken segments, keeping its documents; returns segments indexed."""
        with self._write() as db:
            return self._store_lecture(db, meta, segments)

    def index_document(self, lecture_id: str, doc_name: str, text_pages: Sequence[str]) -> int:
        """Replace one document of an indexed lecture; raises ``LectureNotIndexed`` for an unknown lecture."""
        with self._write() as db:
            course = db.execute("SELECT course_id FROM search_lectures WHERE lecture_id = ?", (lecture_id,)).fetchone()
            if course is None:
                raise LectureNotIndexed(lecture_id)
            self._delete_rows(db, lecture_id, "AND kind = ? AND doc_name = ?", (DOCUMENT, doc_name))
            rows = ((DOCUMENT, doc_name, page, None, None, text) for page, text in passages(text_pages))
            return self._insert_rows(db, lecture_id, course[0], rows)

    def remove_lecture(self, lecture_id: str) -> bool:
        """Forget a lecture, its segments and its documents; returns whether it was indexed."""
        with self._write() as db:
            self._delete_rows(db, lecture_id)
            return db.execute("DELETE FROM search_lectures WHERE lecture_id = ?", (lecture_id,)).rowcount > 0

    def rebuild(self, lectures: Iterable[tuple[LectureMeta, Iterable[Segment]]]) -> int:
        """Empty the index and index ``lectures`` in one transaction, then merge the FTS b-trees."""
        with self._write() as db:
            db.execute("INSERT INTO search_fts (search_fts) VALUES ('delete-all')")
            db.execute("DELETE FROM search_segments")
            db.execute("DELETE FROM search_lectures")
            count = sum(self._store_lecture(db, meta, segments) for meta, segments in lectures)
        self.optimize()
        return count

    def optimize(self) -> None:
        """Merge the FTS index into one b-tree (faster queries after a bulk load)."""
        with self._write() as db:
            db.execute("INSERT INTO search_fts (search_fts) VALUES ('optimize')")

    # reads -----------------------------------------------------------------------------------------------

    def lecture_ids(self) -> set[str]:
        """The ids of every indexed lecture."""
        return {row[0] for row in self._connection().execute("SELECT lecture_id FROM search_lectures")}

    def _candidates(
        self, tier: Tier, courses: frozenset[str] | None, query: SearchQuery, limit: int
    ) -> list[tuple[int, float]]:
        expression = fts5_expression(tier, tuple(course_tag(c) for c in sorted(courses)) if courses else ())
        conditions, params = lecture_conditions(query)
        # No bm25 here: FTS5 computes its IDF by reading every match of every term, which grows with the index.
        sql = "SELECT rowid, rowid FROM search_fts WHERE search_fts MATCH :match"
        if conditions:
            sql += (
                " AND rowid IN (SELECT id FROM search_segments WHERE lecture_id IN "
                f"(SELECT lecture_id FROM search_lectures WHERE {' AND '.join(conditions)}))"
            )
        sql += " ORDER BY rowid LIMIT :limit"  # ascending ids: newest first (see _insert_rows)
        try:
            return self._connection().execute(sql, {**params, "match": expression, "limit": limit}).fetchall()
        except sqlite3.OperationalError:  # defence in depth: the expression is built from quoted tokens only
            return []

    def _places(self, ranked: dict[int, tuple[int, float]]) -> list[SegmentMatch]:
        ids = list(ranked)
        rows = (
            self._connection()
            .execute(
                f'SELECT id, lecture_id, kind, start, "end", doc_name, page FROM search_segments WHERE id IN ({_marks(ids)})',
                ids,
            )
            .fetchall()
        )
        return [
            SegmentMatch(row[0], row[1], "", "", row[2], row[3], row[4], "", row[5], row[6], *ranked[row[0]])
            for row in rows
        ]

    def _texts(self, ids: list[int]) -> dict[int, tuple[str, str, str]]:
        rows = self._connection().execute(
            "SELECT s.id, l.title, l.course_id, s.text FROM search_segments s JOIN search_lectures l USING (lecture_id) "
            f"WHERE s.id IN ({_marks(ids)})",
            ids,
        )
        return {row[0]: row[1:] for row in rows}


def _marks(values: list) -> str:
    return ",".join("?" * len(values))
