"""MarkSpan: each pupil's first and last marked date per school and academic year, kept by the
count triggers. The nightly job read them with two index descents into the marks per pupil and
school (≈ 75,000 a night for the demo city, its largest single cost); now it reads a row.

The functions of 0009 are recreated with the span statements added after 0009's own
(``UPDATE_STATEMENTS``, ``DELETE_STATEMENTS``; the insert function's one statement gains a CTE):
- insert: the span widens to the statement's first and last day (least/greatest), from the
  same grouped rows that feed the counts;
- update and delete: where the rows taken away include a span's first or last day, the span
  is looked up again in the marks (the AFTER trigger sees the statement's result); a span with
  no mark left goes. An update that moves a mark (a key column) also widens the new key's span.
"""

from importlib import import_module

import django.db.models.deletion
from django.db import migrations, models

counts = import_module("attendance.migrations.0009_counts_by_code_pair")
_codes, _weeks, _match, _function = counts._codes, counts._weeks, counts._match, counts._function
_pairs, YEAR = counts._pairs, counts.YEAR
DAYS = ", min(m.date) AS first_day, max(m.date) AS last_day"
SPAN_KEY = "pupil_id, school_id, academic_year"


def _days(table: str) -> str:
    """A transition table's first and last day per pupil, school and academic year."""
    return f"""
        SELECT {YEAR} AS academic_year, m.pupil_id, m.school_id,
               min(m.date) AS first_day, max(m.date) AS last_day
        FROM {table} m
        GROUP BY 1, 2, 3"""


def _widen(source: str) -> str:
    return f"""
    INSERT INTO attendance_markspan AS r ({SPAN_KEY}, first_marked, last_marked)
    SELECT {SPAN_KEY}, min(first_day), max(last_day) FROM {source} GROUP BY 1, 2, 3
    ON CONFLICT ({SPAN_KEY}) DO UPDATE
        SET first_marked = least(r.first_marked, EXCLUDED.first_marked),
            last_marked = greatest(r.last_marked, EXCLUDED.last_marked)
        WHERE EXCLUDED.first_marked < r.first_marked OR EXCLUDED.last_marked > r.last_marked"""


def _marked(order: str) -> str:
    return f"""(SELECT m.date FROM attendance_sessionmark m
                WHERE m.pupil_id = r.pupil_id AND m.school_id = r.school_id
                  AND m.date BETWEEN make_date(r.academic_year, 9, 1)
                                 AND make_date(r.academic_year + 1, 8, 31)
                ORDER BY m.date {order} LIMIT 1)"""


def _narrow(table: str) -> str:
    """Spans whose first or last day the statement took away: looked up again."""
    return f"""WITH d AS ({_days(table)}),
    fresh AS MATERIALIZED (
        SELECT r.pupil_id, r.school_id, r.academic_year,
               {_marked("ASC")} AS first_marked, {_marked("DESC")} AS last_marked
        FROM attendance_markspan r JOIN d ON {_match("r", "d", SPAN_KEY)}
        WHERE d.first_day <= r.first_marked OR d.last_day >= r.last_marked),
    emptied AS (
        DELETE FROM attendance_markspan r USING fresh f
        WHERE {_match("r", "f", SPAN_KEY)} AND f.first_marked IS NULL)
    UPDATE attendance_markspan r SET first_marked = f.first_marked, last_marked = f.last_marked
    FROM fresh f
    WHERE {_match("r", "f", SPAN_KEY)} AND f.first_marked IS NOT NULL
      AND (r.first_marked, r.last_marked) IS DISTINCT FROM (f.first_marked, f.last_marked)"""


TRUNCATE = """
CREATE OR REPLACE FUNCTION attendance_markcount_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- DELETE, not TRUNCATE: the tables may be in the same TRUNCATE (a CASCADE from pupils, a
    -- test flush), and TRUNCATE refuses a table the running statement holds.
    DELETE FROM attendance_markcount;
    DELETE FROM attendance_weeklyattendance;{spans}
    RETURN NULL;
END $$;
"""

TRIGGERS_SQL = _function(
    "attendance_markcount_insert",
    f"""WITH s AS MATERIALIZED ({_pairs("new_marks", more=DAYS)}),
    codes AS ({_codes("s")}),
    weeks AS ({_weeks("s")}),
    counted AS ({counts.INSERT_CODES}),
    spanned AS ({_widen("s")})
    {counts.INSERT_WEEKS.format(where="")}""",
) + _function(
    "attendance_markcount_update",
    *counts.UPDATE_STATEMENTS,
    f"""WITH d AS ({_days("new_marks")}) {_widen("d")}""",
    _narrow("old_marks"),
) + _function(
    "attendance_markcount_delete",
    *counts.DELETE_STATEMENTS,
    _narrow("old_marks"),
) + TRUNCATE.format(spans="\n    DELETE FROM attendance_markspan;")

# The marks already held.
BACKFILL = f"""
LOCK TABLE attendance_sessionmark IN SHARE MODE;
INSERT INTO attendance_markspan ({SPAN_KEY}, first_marked, last_marked)
SELECT pupil_id, school_id, academic_year, min(first_day), max(last_day)
FROM ({_days("attendance_sessionmark")}) d
GROUP BY 1, 2, 3;
"""


class Migration(migrations.Migration):

    dependencies = [
        ('attendance', '0010_summary_fk_indexes'),
        ('pupils', '0001_initial'),
        ('schools', '0002_dfe_number_unique_when_open'),
    ]

    operations = [
        migrations.CreateModel(
            name="MarkSpan",
            fields=[
                ("pk", models.CompositePrimaryKey(
                    "pupil", "school", "academic_year", blank=True, editable=False,
                    primary_key=True, serialize=False)),
                ("academic_year", models.PositiveSmallIntegerField()),
                ("first_marked", models.DateField()),
                ("last_marked", models.DateField()),
                ("pupil", models.ForeignKey(
                    db_constraint=False, db_index=False,
                    on_delete=django.db.models.deletion.DO_NOTHING, related_name="+",
                    to="pupils.pupil")),
                ("school", models.ForeignKey(
                    db_constraint=False, db_index=False,
                    on_delete=django.db.models.deletion.DO_NOTHING, related_name="+",
                    to="schools.school")),
            ],
            options={
                "constraints": [models.CheckConstraint(
                    condition=models.Q(("first_marked__lte", models.F("last_marked"))),
                    name="mark_span_in_order")],
            },
        ),
        migrations.RunSQL(TRIGGERS_SQL + BACKFILL,
                          reverse_sql=counts.TRIGGERS_SQL + TRUNCATE.format(spans="")),
    ]
