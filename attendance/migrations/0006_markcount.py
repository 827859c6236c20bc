"""MarkCount (sessions per pupil, school, academic year and code) and WeeklyAttendance (per
week) become counts of the marks held, kept exact by statement-level triggers on
attendance_sessionmark, then filled from the marks already held.

Each trigger aggregates the statement's transition table set-based (one GROUP BY, one write
per table), so a 300,000-row import costs a few extra statements, not 300,000 row triggers.
The triggers are ENABLE ALWAYS: the importer runs its upsert with session_replication_role =
replica (to skip the per-row foreign-key triggers), and an ordinary trigger would not fire then.
"""

import django.db.models.deletion
from django.db import migrations, models

# A mark's academic year (from 1 September) and week (its Monday), on integers: no time zone.
YEAR = "(extract(year FROM m.date)::int - (extract(month FROM m.date) < 9)::int)"
WEEK = "(m.date - (extract(isodow FROM m.date)::int - 1))"
CODE_KEY = "academic_year, pupil_id, school_id, code"
WEEK_KEY = "pupil_id, school_id, academic_year, week_start"
FIGURES = ("possible", "attended", "authorised", "unauthorised")


def _sessions(table: str, sign: str = "") -> str:
    """A transition table's sessions per (year, pupil, school, week, code), signed."""
    return f"""
        SELECT {YEAR} AS academic_year, m.pupil_id, m.school_id, {WEEK} AS week_start, x.code,
               {sign}count(*) AS sessions
        FROM {table} m CROSS JOIN LATERAL (VALUES (m.am), (m.pm)) AS x(code)
        WHERE x.code IS NOT NULL
        GROUP BY 1, 2, 3, 4, 5"""


def _codes(source: str) -> str:
    return f"SELECT {CODE_KEY}, sum(sessions) AS sessions FROM {source} GROUP BY 1, 2, 3, 4"


def _weeks(source: str) -> str:
    """Per pupil, school and week: the four figures, through AttendanceCode's flags."""
    return f"""
        SELECT s.pupil_id, s.school_id, s.academic_year, s.week_start,
               coalesce(sum(s.sessions) FILTER (WHERE k.counts_as_possible), 0) AS possible,
               coalesce(sum(s.sessions) FILTER (WHERE k.counts_as_attended), 0) AS attended,
               coalesce(sum(s.sessions) FILTER (WHERE k.category = 'authorised'), 0)
                   AS authorised,
               coalesce(sum(s.sessions) FILTER (WHERE k.category = 'unauthorised'), 0)
                   AS unauthorised
        FROM {source} s LEFT JOIN attendance_attendancecode k ON k.code = s.code
        GROUP BY 1, 2, 3, 4"""


def _match(a: str, b: str, key: str) -> str:
    cols = [c.strip() for c in key.split(",")]
    return (f"({', '.join(f'{a}.{c}' for c in cols)}) = ({', '.join(f'{b}.{c}' for c in cols)})")


ADD_WEEKS = ", ".join(f"{f} = w.{f} + EXCLUDED.{f}" for f in FIGURES)
CHANGE_WEEKS = ", ".join(f"{f} = w.{f} + d.{f}" for f in FIGURES)
INSERT_CODES = f"""
    INSERT INTO attendance_markcount AS c ({CODE_KEY}, sessions)
    SELECT {CODE_KEY}, sessions FROM codes WHERE sessions > 0
    ON CONFLICT ({CODE_KEY}) DO UPDATE SET sessions = c.sessions + EXCLUDED.sessions"""
INSERT_WEEKS = f"""
    INSERT INTO attendance_weeklyattendance AS w ({WEEK_KEY}, {", ".join(FIGURES)})
    SELECT {WEEK_KEY}, {", ".join(FIGURES)} FROM weeks d {{where}}
    ON CONFLICT ({WEEK_KEY}) DO UPDATE SET {ADD_WEEKS}"""
# Subtractions always meet a row (the marks they remove were counted); the columns' checks
# (>= 0, attended <= possible) make a miscount fail loudly instead of going unnoticed.
SUBTRACT_CODES = f"""
    UPDATE attendance_markcount c SET sessions = c.sessions + d.sessions
    FROM codes d WHERE d.sessions < 0 AND {_match("c", "d", CODE_KEY)}"""
# A key that lost sessions may be empty now: a code row at 0 goes; a week goes when it has no
# possible session and no mark at all is left in it (a week of X marks keeps its row of zeros).
ADDABLE = ("d.possible >= 0 AND d.attended >= 0 AND d.authorised >= 0 AND d.unauthorised >= 0 "
           "AND d.attended <= d.possible")
MARKS_LEFT = """
          SELECT 1 FROM attendance_sessionmark m
          WHERE m.pupil_id = w.pupil_id AND m.school_id = w.school_id
            AND m.date BETWEEN greatest(w.week_start, make_date(w.academic_year, 9, 1))
                           AND least(w.week_start + 6, make_date(w.academic_year + 1, 8, 31))"""
OLD_CODE_KEYS = f"SELECT DISTINCT {CODE_KEY} FROM ({_sessions('old_marks')}) o"
OLD_WEEK_KEYS = f"SELECT DISTINCT {WEEK_KEY} FROM ({_sessions('old_marks')}) o"
DROP_EMPTY = f"""
    DELETE FROM attendance_markcount c USING ({OLD_CODE_KEYS}) d
    WHERE c.sessions = 0 AND {_match("c", "d", CODE_KEY)};
    DELETE FROM attendance_weeklyattendance w USING ({OLD_WEEK_KEYS}) d
    WHERE w.possible = 0 AND {_match("w", "d", WEEK_KEY)}
      AND NOT EXISTS ({MARKS_LEFT});
"""

# The counts tables are reached through their indexes, never scanned: without statistics (a
# table filled in the same transaction) PostgreSQL could otherwise pick a nested loop over a
# scan, quadratic for a large change. The importer turns hash and merge joins off for its
# upsert; they are allowed again here.
JOINS = "SET enable_seqscan = off SET enable_hashjoin = on SET enable_mergejoin = on"

TRIGGERS_SQL = f"""
CREATE OR REPLACE FUNCTION attendance_markcount_insert() RETURNS trigger LANGUAGE plpgsql
{JOINS} AS $$
BEGIN
    WITH s AS MATERIALIZED ({_sessions("new_marks")}),
    codes AS ({_codes("s")}),
    weeks AS ({_weeks("s")}),
    counted AS ({INSERT_CODES})
    {INSERT_WEEKS.format(where="")};
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION attendance_markcount_update() RETURNS trigger LANGUAGE plpgsql
{JOINS} AS $$
BEGIN
    -- One net change per key. Codes that lose sessions are updated and codes that gain them
    -- upserted; a week whose change could not stand as a row on its own (a figure falls, or
    -- attended rises alone: I → /) is updated (it is held), any other is upserted. Disjoint
    -- keys, so one statement.
    WITH s AS MATERIALIZED (
        SELECT academic_year, pupil_id, school_id, week_start, code, sum(sessions) AS sessions
        FROM ({_sessions("new_marks")} UNION ALL {_sessions("old_marks", "-")}) t
        GROUP BY 1, 2, 3, 4, 5 HAVING sum(sessions) <> 0),
    codes AS MATERIALIZED ({_codes("s")}),
    weeks AS MATERIALIZED ({_weeks("s")}),
    subtracted AS ({SUBTRACT_CODES}),
    counted AS ({INSERT_CODES}),
    changed AS (
        UPDATE attendance_weeklyattendance w SET {CHANGE_WEEKS}
        FROM weeks d WHERE NOT ({ADDABLE}) AND {_match("w", "d", WEEK_KEY)})
    {INSERT_WEEKS.format(where="WHERE " + ADDABLE)};
    -- Code rows at 0 go; a week goes when its marks moved elsewhere (a key column changed)
    -- and none is left in it.
    DELETE FROM attendance_markcount c
    USING ({_codes("(" + _sessions("old_marks") + ") o")}) d
    WHERE c.sessions = 0 AND {_match("c", "d", CODE_KEY)};
    DELETE FROM attendance_weeklyattendance w
    USING (SELECT {WEEK_KEY} FROM ({_sessions("old_marks")}) o
           EXCEPT SELECT {WEEK_KEY} FROM ({_sessions("new_marks")}) n) d
    WHERE w.possible = 0 AND {_match("w", "d", WEEK_KEY)} AND NOT EXISTS ({MARKS_LEFT});
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION attendance_markcount_delete() RETURNS trigger LANGUAGE plpgsql
{JOINS} AS $$
BEGIN
    WITH s AS MATERIALIZED ({_sessions("old_marks", "-")}),
    codes AS ({_codes("s")}),
    weeks AS ({_weeks("s")}),
    subtracted AS ({SUBTRACT_CODES})
    UPDATE attendance_weeklyattendance w SET {CHANGE_WEEKS}
    FROM weeks d WHERE {_match("w", "d", WEEK_KEY)};
{DROP_EMPTY}
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION attendance_markcount_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- DELETE, not TRUNCATE: the tables may be in the same TRUNCATE (a CASCADE from pupils, a
    -- test flush), and TRUNCATE refuses a table the running statement holds.
    DELETE FROM attendance_markcount;
    DELETE FROM attendance_weeklyattendance;
    RETURN NULL;
END $$;

CREATE TRIGGER attendance_markcount_on_insert AFTER INSERT ON attendance_sessionmark
    REFERENCING NEW TABLE AS new_marks
    FOR EACH STATEMENT EXECUTE FUNCTION attendance_markcount_insert();
CREATE TRIGGER attendance_markcount_on_update AFTER UPDATE ON attendance_sessionmark
    REFERENCING OLD TABLE AS old_marks NEW TABLE AS new_marks
    FOR EACH STATEMENT EXECUTE FUNCTION attendance_markcount_update();
CREATE TRIGGER attendance_markcount_on_delete AFTER DELETE ON attendance_sessionmark
    REFERENCING OLD TABLE AS old_marks
    FOR EACH STATEMENT EXECUTE FUNCTION attendance_markcount_delete();
CREATE TRIGGER attendance_markcount_on_truncate AFTER TRUNCATE ON attendance_sessionmark
    FOR EACH STATEMENT EXECUTE FUNCTION attendance_markcount_truncate();
ALTER TABLE attendance_sessionmark ENABLE ALWAYS TRIGGER attendance_markcount_on_insert,
    ENABLE ALWAYS TRIGGER attendance_markcount_on_update,
    ENABLE ALWAYS TRIGGER attendance_markcount_on_delete,
    ENABLE ALWAYS TRIGGER attendance_markcount_on_truncate;
"""

DROP_SQL = """
DROP TRIGGER IF EXISTS attendance_markcount_on_insert ON attendance_sessionmark;
DROP TRIGGER IF EXISTS attendance_markcount_on_update ON attendance_sessionmark;
DROP TRIGGER IF EXISTS attendance_markcount_on_delete ON attendance_sessionmark;
DROP TRIGGER IF EXISTS attendance_markcount_on_truncate ON attendance_sessionmark;
DROP FUNCTION IF EXISTS attendance_markcount_insert(), attendance_markcount_update(),
    attendance_markcount_delete(), attendance_markcount_truncate();
"""

# The marks already held: counted once. The weeks the nightly job wrote are replaced by the
# weeks of every mark held (the same figures, now for every week, not only up to its as_of).
BACKFILL_SQL = f"""
-- Room in each page for the triggers' updates to stay HOT (no index entries written):
-- imports update these rows all the time, and WeeklyAttendance has four indexes.
ALTER TABLE attendance_markcount SET (fillfactor = 70);
ALTER TABLE attendance_weeklyattendance SET (fillfactor = 70);
CREATE TEMP TABLE attendance_backfill_sessions ON COMMIT DROP AS
{_sessions("attendance_sessionmark")};
INSERT INTO attendance_markcount ({CODE_KEY}, sessions)
{_codes("attendance_backfill_sessions")};
DELETE FROM attendance_weeklyattendance;
INSERT INTO attendance_weeklyattendance ({WEEK_KEY}, {", ".join(FIGURES)})
{_weeks("attendance_backfill_sessions")};
DROP TABLE attendance_backfill_sessions;
ANALYZE attendance_markcount;
ANALYZE attendance_weeklyattendance;
"""


class Migration(migrations.Migration):

    dependencies = [
        ('attendance', '0005_weeklyattendance'),
        ('pupils', '0001_initial'),
        ('schools', '0002_dfe_number_unique_when_open'),
    ]

    operations = [
        migrations.CreateModel(
            name='MarkCount',
            fields=[
                ('pk', models.CompositePrimaryKey(
                    'academic_year', 'pupil', 'school', 'code', blank=True, editable=False,
                    primary_key=True, serialize=False)),
                ('academic_year', models.PositiveSmallIntegerField()),
                ('code', models.CharField(max_length=2)),
                ('sessions', models.PositiveIntegerField()),
                ('pupil', models.ForeignKey(
                    db_constraint=False, db_index=False,
                    on_delete=django.db.models.deletion.DO_NOTHING, related_name='+',
                    to='pupils.pupil')),
                ('school', models.ForeignKey(
                    db_constraint=False, db_index=False,
                    on_delete=django.db.models.deletion.DO_NOTHING, related_name='+',
                    to='schools.school')),
            ],
        ),
        migrations.RunSQL(TRIGGERS_SQL, reverse_sql=DROP_SQL),
        migrations.RunSQL(BACKFILL_SQL, reverse_sql=migrations.RunSQL.noop),
    ]
