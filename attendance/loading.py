"""Bulk writes of session marks: binary COPY into a TEMP staging table, then ONE upsert.

    marks_load(pupil_id=, school_id=, day=, am=, pm=, codes=) -> LoadCounts

must run inside a transaction (the caller's ``transaction.atomic()``): the staging table is
dropped at commit, and a failure anywhere rolls back every row. Used by register imports and by
the demo generator, so both go through the same path.

Counts are of marks (sessions), not rows: ``inserted`` marks the portal did not hold,
``updated`` marks whose code changed, ``unchanged`` marks already held with the same code.
A session the file leaves blank never clears a mark the portal holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.db import DatabaseError, IntegrityError, connection

from attendance.importers.formats import EPOCH

STAGE = "attendance_mark_stage"
COPY_BATCH_ROWS = 1_000_000
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


# One statement: compare with what is held (for the counts), then INSERT … ON CONFLICT only the
# rows where something changes. The ON CONFLICT … WHERE keeps it correct even if a concurrent
# writer got there first; imports of one school are serialised by an advisory lock anyway.
UPSERT_SQL = f"""
WITH src AS MATERIALIZED (
    SELECT s.pupil_id, s.school_id, %(epoch)s::date + s.day AS date,
           (%(codes)s::text[])[s.am] AS am, (%(codes)s::text[])[s.pm] AS pm,
           m.am AS old_am, m.pm AS old_pm, m.id IS NOT NULL AS existed
    FROM {STAGE} s
    LEFT JOIN attendance_sessionmark m
      ON m.pupil_id = s.pupil_id AND m.date = %(epoch)s::date + s.day
     AND m.school_id = s.school_id
), written AS (
    INSERT INTO attendance_sessionmark AS t (pupil_id, school_id, date, am, pm)
    SELECT pupil_id, school_id, date, am, pm FROM src
    WHERE NOT existed
       OR (old_am, old_pm) IS DISTINCT FROM (COALESCE(am, old_am), COALESCE(pm, old_pm))
    ON CONFLICT (pupil_id, date, school_id) DO UPDATE
       SET am = COALESCE(EXCLUDED.am, t.am), pm = COALESCE(EXCLUDED.pm, t.pm)
     WHERE (t.am, t.pm) IS DISTINCT FROM (COALESCE(EXCLUDED.am, t.am), COALESCE(EXCLUDED.pm, t.pm))
    RETURNING 1
)
SELECT (SELECT count(*) FROM written),
       count(*) FILTER (WHERE am IS NOT NULL AND old_am IS NULL)
         + count(*) FILTER (WHERE pm IS NOT NULL AND old_pm IS NULL),
       count(*) FILTER (WHERE am <> old_am) + count(*) FILTER (WHERE pm <> old_pm),
       count(*) FILTER (WHERE am = old_am) + count(*) FILTER (WHERE pm = old_pm)
FROM src
"""


# When the portal holds no mark at all for these schools in the staged date range (a first
# import of a period, the demo year) there is nothing to compare or update: the rows go in with
# a plain INSERT, which costs about half of INSERT … ON CONFLICT (no speculative insertion).
# It is safe: the schools' advisory lock keeps other imports out, and the unique index still
# guards; a stray concurrent writer would make the INSERT fail (and the import roll back whole),
# never write a duplicate. Set FRESH_PLAIN_INSERT = False to always use UPSERT_SQL.
FRESH_PLAIN_INSERT = True
FRESH_SQL = f"""
INSERT INTO attendance_sessionmark (pupil_id, school_id, date, am, pm)
SELECT s.pupil_id, s.school_id, %(epoch)s::date + s.day,
       (%(codes)s::text[])[s.am], (%(codes)s::text[])[s.pm]
FROM {STAGE} s
"""


def marks_upsert(cursor, *, codes: list[str]) -> LoadCounts:
    """Merge the staging table into attendance_sessionmark: ONE INSERT … ON CONFLICT … DO UPDATE
    … WHERE (am, pm) IS DISTINCT FROM …, or a plain INSERT when nothing overlaps (see above)."""
    params = {"epoch": EPOCH, "codes": [c or None for c in codes[1:]]}
    cursor.execute(f"SELECT array_agg(DISTINCT school_id), min(day), max(day), "
                   f"count(*) FILTER (WHERE am > 0) + count(*) FILTER (WHERE pm > 0) FROM {STAGE}")
    school_ids, first, last, staged_marks = cursor.fetchone()
    cursor.execute(
        "SELECT EXISTS (SELECT 1 FROM attendance_sessionmark WHERE school_id = ANY(%s) "
        "AND date BETWEEN %s::date + %s AND %s::date + %s)",
        [school_ids, EPOCH, first, EPOCH, last])
    if not cursor.fetchone()[0] and FRESH_PLAIN_INSERT:
        cursor.execute(FRESH_SQL, params)
        return LoadCounts(rows_written=cursor.rowcount, inserted=staged_marks)
    cursor.execute(f"ANALYZE {STAGE}")
    # Probing the unique index per staged row beats hashing the whole marks table.
    cursor.execute("SET LOCAL enable_hashjoin = off")
    cursor.execute("SET LOCAL enable_mergejoin = off")
    cursor.execute(UPSERT_SQL, params)
    written, inserted, updated, unchanged = cursor.fetchone()
    cursor.execute("SET LOCAL enable_hashjoin = on")
    cursor.execute("SET LOCAL enable_mergejoin = on")
    return LoadCounts(rows_written=written, inserted=inserted, updated=updated,
                      unchanged=unchanged)


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


def references_lock(cursor) -> None:
    """Do set-based what the foreign-key triggers would do row by row: check that every staged
    pupil and school exists and lock them FOR KEY SHARE until commit, so neither can be deleted
    under the new marks. Once per pupil instead of twice per mark row."""
    from pupils.models import Pupil
    from schools.models import School

    for table, column in ((Pupil._meta.db_table, "pupil_id"),
                          (School._meta.db_table, "school_id")):
        cursor.execute(
            f"SELECT (SELECT count(DISTINCT {column}) FROM {STAGE}), count(*) FROM ("
            f"SELECT 1 FROM {table} WHERE id IN (SELECT {column} FROM {STAGE}) "
            "FOR KEY SHARE) AS locked")
        wanted, found = cursor.fetchone()
        if wanted != found:
            raise IntegrityError(f"{wanted - found} staged {column} values have no row in "
                                 f"{table}; nothing was written.")


def marks_load(*, pupil_id, school_id, day, am, pm, codes: list[str]) -> LoadCounts:
    """COPY + upsert of one batch of mark rows; call inside ``transaction.atomic()``.

    Foreign keys: Django's FK constraints on attendance_sessionmark are deferred triggers that
    run per inserted row at commit (two lookups and row locks per row: ~40% of a large import).
    When the database role may set ``session_replication_role``, the upsert runs with it set to
    ``replica`` for that one statement (SET LOCAL: this transaction only), after
    ``references_lock`` has checked and locked every referenced pupil and school once. The
    guarantee is the same; the constraints stay declared. Without the privilege the triggers run
    as usual.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("marks_load must run inside transaction.atomic()")
    if not len(pupil_id):
        return LoadCounts()
    with connection.cursor() as cursor:
        schools_lock(cursor, np.unique(school_id))
        stage_create(cursor)
        stage_copy(cursor, pupil_id=pupil_id, school_id=school_id, day=day, am=am, pm=pm)
        skip_triggers = _can_skip_row_triggers(cursor)
        if skip_triggers:
            references_lock(cursor)
            cursor.execute("SET LOCAL session_replication_role = replica")
        try:
            return marks_upsert(cursor, codes=codes)
        finally:
            if skip_triggers and not connection.needs_rollback:
                try:
                    cursor.execute("SET LOCAL session_replication_role = origin")
                except DatabaseError:
                    pass  # the transaction is already failing; it rolls back as a whole
