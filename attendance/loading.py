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
from django.db import connection

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


def marks_upsert(cursor, *, codes: list[str]) -> LoadCounts:
    """Merge the staging table into attendance_sessionmark (one statement)."""
    cursor.execute(f"ANALYZE {STAGE}")
    # Probing the unique index per staged row beats hashing the whole marks table.
    cursor.execute("SET LOCAL enable_hashjoin = off")
    cursor.execute("SET LOCAL enable_mergejoin = off")
    cursor.execute(UPSERT_SQL, {"epoch": EPOCH, "codes": [c or None for c in codes[1:]]})
    written, inserted, updated, unchanged = cursor.fetchone()
    cursor.execute("RESET enable_hashjoin")
    cursor.execute("RESET enable_mergejoin")
    return LoadCounts(rows_written=written, inserted=inserted, updated=updated,
                      unchanged=unchanged)


def schools_lock(cursor, school_ids) -> None:
    """Serialise writers per school (imports and demo loads), in id order to avoid deadlock."""
    for school_id in sorted({int(s) for s in school_ids}):
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ADVISORY_NAMESPACE, school_id])


def marks_load(*, pupil_id, school_id, day, am, pm, codes: list[str]) -> LoadCounts:
    """COPY + upsert of one batch of mark rows; call inside ``transaction.atomic()``."""
    if not connection.in_atomic_block:
        raise RuntimeError("marks_load must run inside transaction.atomic()")
    if not len(pupil_id):
        return LoadCounts()
    with connection.cursor() as cursor:
        schools_lock(cursor, np.unique(school_id))
        stage_create(cursor)
        stage_copy(cursor, pupil_id=pupil_id, school_id=school_id, day=day, am=am, pm=pm)
        return marks_upsert(cursor, codes=codes)
