"""Bulk writes of session marks: binary COPY, then (when marks are already held) ONE upsert.

    marks_load(pupil_id=, school_id=, day=, am=, pm=, codes=) -> LoadCounts

must run inside a transaction (the caller's ``transaction.atomic()``): the staging table is
dropped at commit, and a failure anywhere rolls back every row. Used by register imports and by
the demo generator, so both go through the same path.

Two ways in, chosen per load after the schools' advisory lock is taken:
- nothing held yet for these schools in the file's date range (a first import, the demo year):
  binary COPY straight into attendance_sessionmark (``binary_copy_marks``);
- otherwise: binary COPY into a TEMP staging table, then ONE ``INSERT … ON CONFLICT … DO UPDATE
  … WHERE`` that writes only the marks that change (``marks_upsert``).

Counts are of marks (sessions), not rows: ``inserted`` marks the portal did not hold,
``updated`` marks whose code changed, ``unchanged`` marks already held with the same code.
A session the file leaves blank never clears a mark the portal holds.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from django.db import DatabaseError, IntegrityError, connection

from attendance.importers.formats import EPOCH

STAGE = "attendance_mark_stage"
COPY_BATCH_ROWS = 1_000_000
MARK_COPY_BATCH_ROWS = 250_000  # binary_copy_marks holds about 100 bytes a row while building
ADVISORY_NAMESPACE = 4_242_001  # pg_advisory_xact_lock(namespace, school_id)

_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
_TRAILER = (-1).to_bytes(2, "big", signed=True)
_ROW = np.dtype([
    ("n", ">i2"),
    ("l_pupil", ">i4"), ("pupil", ">i8"),
    ("l_school", ">i4"), ("school", ">i8"),
    ("l_day", ">i4"), ("day", ">i4"),
    ("l_am", ">i4"), ("am", ">i2"),
    ("l_pm", ">i4"), ("pm", ">i2"),
])


@dataclass
class LoadCounts:
    rows_written: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __iadd__(self, other: LoadCounts) -> LoadCounts:
        self.rows_written += other.rows_written
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        return self


def binary_copy_rows(pupil_id, school_id, day, am, pm) -> bytes:
    """PostgreSQL binary COPY rows (no signature/trailer), built by numpy without a Python loop.

    Codes travel as small integers (0 = no mark) and the date as days since 2000-01-01: every
    field has a fixed width, so the whole batch is one structured array.
    """
    rows = np.empty(len(pupil_id), dtype=_ROW)
    rows["n"] = 5
    rows["l_pupil"], rows["pupil"] = 8, pupil_id
    rows["l_school"], rows["school"] = 8, school_id
    rows["l_day"], rows["day"] = 4, day
    rows["l_am"], rows["am"] = 2, am
    rows["l_pm"], rows["pm"] = 2, pm
    return rows.tobytes()


# A mark row as attendance_sessionmark takes it in binary COPY: five fields, each a length and
# the value; the AM and PM codes are text of 0 (NULL, length -1), 1 or 2 bytes.
_MARK_ROW = np.dtype([
    ("n", ">i2"),
    ("l_pupil", ">i4"), ("pupil", ">i8"),
    ("l_school", ">i4"), ("school", ">i8"),
    ("l_day", ">i4"), ("day", ">i4"),
    ("l_am", ">i4"), ("am", "S2"),
    ("l_pm", ">i4"), ("pm", "S2"),
])
_AM_BYTES = _MARK_ROW.fields["am"][1]
_PM_BYTES = _MARK_ROW.fields["pm"][1]


def binary_copy_marks(pupil_id, school_id, day, am, pm, codes: list[str]) -> bytes:
    """Binary COPY rows (pupil_id, school_id, date, am, pm) for attendance_sessionmark itself.

    Every row is first laid out with room for two-byte codes (a structured array, as in
    ``binary_copy_rows``); a byte mask then drops the unused code bytes of one-byte codes and
    NULLs, which leaves the rows back to back in their original order. No Python loop per row.
    """
    text = np.array([c.encode("ascii") for c in codes], dtype="S2")
    length = np.array([len(c) if c else -1 for c in codes], dtype=np.int32)
    n = len(pupil_id)
    rows = np.empty(n, dtype=_MARK_ROW)
    rows["n"] = 5
    rows["l_pupil"], rows["pupil"] = 8, pupil_id
    rows["l_school"], rows["school"] = 8, school_id
    rows["l_day"], rows["day"] = 4, day
    rows["l_am"], rows["am"] = length[am], text[am]
    rows["l_pm"], rows["pm"] = length[pm], text[pm]
    keep = np.ones((n, _MARK_ROW.itemsize), dtype=bool)
    for offset, session in ((_AM_BYTES, am), (_PM_BYTES, pm)):
        width = length[session]
        keep[:, offset] = width >= 1
        keep[:, offset + 1] = width >= 2
    return rows.view(np.uint8).reshape(n, _MARK_ROW.itemsize)[keep].tobytes()


def marks_copy(cursor, *, pupil_id, school_id, day, am, pm, codes: list[str]) -> int:
    """COPY the rows straight into attendance_sessionmark in batches; returns the row count."""
    raw = cursor.cursor
    total = len(pupil_id)
    with raw.copy("COPY attendance_sessionmark (pupil_id, school_id, date, am, pm) FROM STDIN "
                  "(FORMAT BINARY)") as copy:
        copy.write(_SIGNATURE)
        for start in range(0, total, MARK_COPY_BATCH_ROWS):
            end = start + MARK_COPY_BATCH_ROWS
            copy.write(binary_copy_marks(pupil_id[start:end], school_id[start:end],
                                         day[start:end], am[start:end], pm[start:end], codes))
        copy.write(_TRAILER)
    return total


def stage_create(cursor) -> None:
    cursor.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} (pupil_id bigint NOT NULL, "
        "school_id bigint NOT NULL, day integer NOT NULL, am smallint NOT NULL, "
        "pm smallint NOT NULL) ON COMMIT DROP"
    )
    cursor.execute(f"TRUNCATE {STAGE}")


def stage_copy(cursor, *, pupil_id, school_id, day, am, pm) -> int:
    """COPY the rows into the staging table in batches; returns the number of rows."""
    raw = cursor.cursor  # psycopg 3 cursor under Django's wrapper
    total = len(pupil_id)
    with raw.copy(f"COPY {STAGE} (pupil_id, school_id, day, am, pm) FROM STDIN "
                  "(FORMAT BINARY)") as copy:
        copy.write(_SIGNATURE)
        for start in range(0, total, COPY_BATCH_ROWS):
            end = start + COPY_BATCH_ROWS
            copy.write(binary_copy_rows(pupil_id[start:end], school_id[start:end],
                                        day[start:end], am[start:end], pm[start:end]))
        copy.write(_TRAILER)
    return total


# One statement: compare with what is held, then INSERT … ON CONFLICT only the rows where
# something changes. Only the changed rows are materialised (none on a re-import), and the counts
# are taken from them: every other staged mark is unchanged. The held marks are read as one
# range of the (school, date) index, the schools and days the file covers, so PostgreSQL may
# hash them against the staging table instead of probing the primary key once per row (the
# planner still chooses: a small file against a large year is probed by key). The ON CONFLICT …
# WHERE keeps it correct even if a concurrent writer got there first; imports of one school are
# serialised by an advisory lock anyway.
UPSERT_SQL = f"""
WITH changed AS MATERIALIZED (
    SELECT s.pupil_id, s.school_id, %(epoch)s::date + s.day AS date,
           (%(codes)s::text[])[s.am] AS am, (%(codes)s::text[])[s.pm] AS pm,
           m.am AS old_am, m.pm AS old_pm
    FROM {STAGE} s
    LEFT JOIN (
        SELECT pupil_id, date, school_id, am, pm FROM attendance_sessionmark
        WHERE school_id = ANY(%(schools)s::bigint[])
          AND date BETWEEN %(epoch)s::date + %(first)s AND %(epoch)s::date + %(last)s
    ) m ON m.pupil_id = s.pupil_id AND m.date = %(epoch)s::date + s.day
       AND m.school_id = s.school_id
    WHERE m.pupil_id IS NULL
       OR (m.am, m.pm) IS DISTINCT FROM (COALESCE((%(codes)s::text[])[s.am], m.am),
                                         COALESCE((%(codes)s::text[])[s.pm], m.pm))
), written AS (
    INSERT INTO attendance_sessionmark AS t (pupil_id, school_id, date, am, pm)
    SELECT pupil_id, school_id, date, am, pm FROM changed
    ON CONFLICT (pupil_id, date, school_id) DO UPDATE
       SET am = COALESCE(EXCLUDED.am, t.am), pm = COALESCE(EXCLUDED.pm, t.pm)
     WHERE (t.am, t.pm) IS DISTINCT FROM (COALESCE(EXCLUDED.am, t.am), COALESCE(EXCLUDED.pm, t.pm))
    RETURNING 1
)
SELECT (SELECT count(*) FROM written),
       count(*) FILTER (WHERE am IS NOT NULL AND old_am IS NULL)
         + count(*) FILTER (WHERE pm IS NOT NULL AND old_pm IS NULL),
       count(*) FILTER (WHERE am <> old_am) + count(*) FILTER (WHERE pm <> old_pm)
FROM changed
"""


# When the portal holds no mark at all for these schools in the staged date range (a first
# import of a period, the demo year) there is nothing to compare or update: the rows are COPYed
# straight into attendance_sessionmark, without a staging table and without INSERT … ON
# CONFLICT's speculative insertion (about half the cost). It is safe: the schools' advisory lock
# keeps other imports out, and the primary key still guards; a stray concurrent writer would
# make the COPY fail (and the import roll back whole), never write a duplicate.
# Set FRESH_PLAIN_INSERT = False to always stage and upsert.
FRESH_PLAIN_INSERT = True


@dataclass
class Staged:
    """What the staged rows hold, taken from the arrays that were copied (no scan of the
    staging table): the schools, the first and last day, the number of marks."""

    school_ids: list[int]
    first_day: int
    last_day: int
    marks: int

    @classmethod
    def of(cls, *, school_id, day, am, pm) -> Staged:
        return cls(school_ids=[int(s) for s in np.unique(school_id)], first_day=int(day.min()),
                   last_day=int(day.max()),
                   marks=int(np.count_nonzero(am) + np.count_nonzero(pm)))


# Planner settings for the upsert, this transaction only: work_mem holds the hash of the held
# marks (≈ 60 bytes a row, a school's year is ≈ 300,000 rows) in memory instead of batching it
# to disk; Memoize never hits (every staged key is distinct) and would only add a probe per row.
UPSERT_SETTINGS = {"enable_memoize": "off", "work_mem": "64MB"}


# For a straight COPY: the statement's rows are kept for the count triggers (a transition
# table), in memory up to work_mem and spilled to disk beyond it.
COPY_SETTINGS = {"work_mem": "64MB"}


@contextmanager
def local_settings(cursor, settings: dict[str, str]):
    """Planner/memory settings for the statements inside, then back to what they were."""
    names = list(settings)
    cursor.execute("SELECT " + ", ".join(f"current_setting('{name}')" for name in names))
    before = cursor.fetchone()
    settings_sql = "SELECT " + ", ".join(f"set_config('{name}', %s, true)" for name in names)
    cursor.execute(settings_sql, [settings[name] for name in names])
    yield
    cursor.execute(settings_sql, list(before))


def marks_held(cursor, staged: Staged) -> bool:
    """Does the portal hold any mark for these schools between the first and last day?"""
    cursor.execute(
        "SELECT EXISTS (SELECT 1 FROM attendance_sessionmark WHERE school_id = ANY(%s) "
        "AND date BETWEEN %s::date + %s AND %s::date + %s)",
        [staged.school_ids, EPOCH, staged.first_day, EPOCH, staged.last_day])
    return cursor.fetchone()[0]


def marks_write(cursor, *, pupil_id, school_id, day, am, pm, codes: list[str],
                staged: Staged) -> LoadCounts:
    """Write one batch: a straight COPY when nothing overlaps, else staging + ``marks_upsert``."""
    if FRESH_PLAIN_INSERT and not marks_held(cursor, staged):
        with local_settings(cursor, COPY_SETTINGS):
            rows = marks_copy(cursor, pupil_id=pupil_id, school_id=school_id, day=day, am=am,
                              pm=pm, codes=codes)
        return LoadCounts(rows_written=rows, inserted=staged.marks)
    stage_create(cursor)
    stage_copy(cursor, pupil_id=pupil_id, school_id=school_id, day=day, am=am, pm=pm)
    return marks_upsert(cursor, codes=codes, staged=staged)


def marks_upsert(cursor, *, codes: list[str], staged: Staged) -> LoadCounts:
    """Merge the staging table into attendance_sessionmark: ONE INSERT … ON CONFLICT … DO UPDATE
    … WHERE (am, pm) IS DISTINCT FROM …, writing only the rows where a code changes."""
    params = {"epoch": EPOCH, "codes": [c or None for c in codes[1:]],
              "schools": staged.school_ids, "first": staged.first_day, "last": staged.last_day}
    # No ANALYZE of the staging table: the planner sizes it from its pages, which is enough to
    # choose between hashing the held range and probing the key.
    with local_settings(cursor, UPSERT_SETTINGS):
        cursor.execute(UPSERT_SQL, params)
        written, inserted, updated = cursor.fetchone()
    return LoadCounts(rows_written=written, inserted=inserted, updated=updated,
                      unchanged=staged.marks - inserted - updated)


def schools_lock(cursor, school_ids) -> None:
    """Serialise writers per school (imports and demo loads), in id order to avoid deadlock."""
    for school_id in sorted({int(s) for s in school_ids}):
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ADVISORY_NAMESPACE, school_id])


def _can_skip_row_triggers(cursor) -> bool:
    if connection.pg_version >= 150000:
        cursor.execute("SELECT has_parameter_privilege(current_user, 'session_replication_role', "
                       "'SET')")
    else:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    row = cursor.fetchone()
    return bool(row and row[0])


def references_lock(cursor, *, pupil_ids, school_ids) -> None:
    """Do set-based what the foreign-key triggers would do row by row: check that every staged
    pupil and school exists and lock them FOR KEY SHARE until commit, so neither can be deleted
    under the new marks. Once per pupil instead of twice per mark row.

    ``pupil_ids``/``school_ids``: the distinct values of the arrays that were staged (the same
    rows, so no scan of the staging table is needed to list them)."""
    from pupils.models import Pupil
    from schools.models import School

    for table, column, ids in ((Pupil._meta.db_table, "pupil_id", pupil_ids),
                               (School._meta.db_table, "school_id", school_ids)):
        wanted = [int(i) for i in ids]
        cursor.execute(f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE id = ANY(%s) "
                       "FOR KEY SHARE) AS locked", [wanted])
        found = cursor.fetchone()[0]
        if len(wanted) != found:
            raise IntegrityError(f"{len(wanted) - found} staged {column} values have no row in "
                                 f"{table}; nothing was written.")


def _distinct(values: np.ndarray) -> np.ndarray:
    """Distinct values; the import hands rows over sorted by pupil, so usually without a sort."""
    if len(values) > 1 and (values[1:] >= values[:-1]).all():
        return values[np.concatenate(([True], values[1:] != values[:-1]))]
    return np.unique(values)


def marks_load(*, pupil_id, school_id, day, am, pm, codes: list[str]) -> LoadCounts:
    """Write one batch of mark rows (COPY, or COPY + upsert); inside ``transaction.atomic()``.

    Foreign keys: Django's FK constraints on attendance_sessionmark are deferred triggers that
    run per inserted row at commit (two lookups and row locks per row: ~40% of a large import).
    When the database role may set ``session_replication_role``, the write runs with it set to
    ``replica`` (SET LOCAL: this transaction only, reset straight after), after
    ``references_lock`` has checked and locked every referenced pupil and school once. The
    guarantee is the same; the constraints stay declared. Without the privilege the triggers run
    as usual.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("marks_load must run inside transaction.atomic()")
    if not len(pupil_id):
        return LoadCounts()
    staged = Staged.of(school_id=school_id, day=day, am=am, pm=pm)
    with connection.cursor() as cursor:
        schools_lock(cursor, staged.school_ids)
        skip_triggers = _can_skip_row_triggers(cursor)
        if skip_triggers:
            references_lock(cursor, pupil_ids=_distinct(pupil_id), school_ids=staged.school_ids)
            cursor.execute("SET LOCAL session_replication_role = replica")
        try:
            return marks_write(cursor, pupil_id=pupil_id, school_id=school_id, day=day, am=am,
                               pm=pm, codes=codes, staged=staged)
        finally:
            if skip_triggers and not connection.needs_rollback:
                try:
                    cursor.execute("SET LOCAL session_replication_role = origin")
                except DatabaseError:
                    pass  # the transaction is already failing; it rolls back as a whole
