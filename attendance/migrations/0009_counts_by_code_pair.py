"""Cheaper count triggers: with them an import of a school's year spent about as long counting
as loading (issue 4's 150,000 marks/s was missed).

1. The triggers group a statement's rows once by (year, pupil, school, week, AM code, PM code)
   (a pupil's week is one or two such pairs) and derive the code counts and the week figures
   from those few rows, instead of first unfolding every row into two sessions and grouping
   twice as many rows.
2. WeeklyAttendance's key becomes its natural key (pupil, school, academic_year, week_start) as
   SessionMark's did in 0007: no ``id`` column and its index, no single-column pupil and school
   indexes (the key and ``weekly_school_year_week`` lead with them) and no foreign-key
   constraints (the marks counted hold them, as for MarkCount). Three indexes to maintain per
   week written instead of six, and no per-row foreign-key check.

Reversing restores the surrogate key (the table is rebuilt: development only on a large table)
and keeps these functions, which count the same with either key.
"""

import django.db.models.deletion
from django.db import migrations, models

TABLE = "attendance_weeklyattendance"
NEW_INDEX = "weekly_natural_pk_build"

YEAR = "(extract(year FROM m.date)::int - (extract(month FROM m.date) < 9)::int)"
WEEK = "(m.date - (extract(isodow FROM m.date)::int - 1))"
PAIR_KEY = "academic_year, pupil_id, school_id, week_start, am, pm"
CODE_KEY = "academic_year, pupil_id, school_id, code"
WEEK_KEY = "pupil_id, school_id, academic_year, week_start"
FIGURES = ("possible", "attended", "authorised", "unauthorised")


def _pairs(table: str, sign: str = "", more: str = "") -> str:
    """A transition table's days per (year, pupil, school, week, AM code, PM code), signed;
    ``more``: further aggregate columns (0011 adds each pair's first and last day)."""
    return f"""
        SELECT {YEAR} AS academic_year, m.pupil_id, m.school_id, {WEEK} AS week_start,
               m.am, m.pm, {sign}count(*) AS days{more}
        FROM {table} m
        GROUP BY 1, 2, 3, 4, 5, 6"""


def _codes(pairs: str) -> str:
    return f"""
        SELECT p.academic_year, p.pupil_id, p.school_id, x.code, sum(p.days) AS sessions
        FROM {pairs} p CROSS JOIN LATERAL (VALUES (p.am), (p.pm)) AS x(code)
        WHERE x.code IS NOT NULL
        GROUP BY 1, 2, 3, 4"""


def _flag(condition: str) -> str:
    """Sessions of a pair meeting a condition on the code's flags (a for AM, b for PM)."""
    return (f"sum(p.days * (({condition.format(k='a')}) IS TRUE)::int"
            f" + p.days * (({condition.format(k='b')}) IS TRUE)::int)")


def _weeks(pairs: str) -> str:
    """Per pupil, school and week: the four figures, through AttendanceCode's flags."""
    return f"""
        SELECT p.pupil_id, p.school_id, p.academic_year, p.week_start,
               {_flag("{k}.counts_as_possible")} AS possible,
               {_flag("{k}.counts_as_attended")} AS attended,
               {_flag("{k}.category = 'authorised'")} AS authorised,
               {_flag("{k}.category = 'unauthorised'")} AS unauthorised
        FROM {pairs} p
        LEFT JOIN attendance_attendancecode a ON a.code = p.am
        LEFT JOIN attendance_attendancecode b ON b.code = p.pm
        GROUP BY 1, 2, 3, 4"""


def _match(a: str, b: str, key: str) -> str:
    cols = [c.strip() for c in key.split(",")]
    return f"({', '.join(f'{a}.{c}' for c in cols)}) = ({', '.join(f'{b}.{c}' for c in cols)})"


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
ADDABLE = ("d.possible >= 0 AND d.attended >= 0 AND d.authorised >= 0 AND d.unauthorised >= 0 "
           "AND d.attended <= d.possible")
MARKS_LEFT = """
          SELECT 1 FROM attendance_sessionmark m
          WHERE m.pupil_id = w.pupil_id AND m.school_id = w.school_id
            AND m.date BETWEEN greatest(w.week_start, make_date(w.academic_year, 9, 1))
                           AND least(w.week_start + 6, make_date(w.academic_year + 1, 8, 31))"""
# A key that lost sessions may be empty now: a code row at 0 goes; a week goes when it has no
# possible session and no mark at all is left in it (a week of X marks keeps its row of zeros).
DROP_EMPTY_CODES = f"""
    DELETE FROM attendance_markcount c USING ({_codes("old")}) d
    WHERE c.sessions = 0 AND {_match("c", "d", CODE_KEY)}"""

JOINS = ("SET enable_seqscan = off SET enable_hashjoin = on SET enable_mergejoin = on "
         "SET work_mem = '64MB'")

def _function(name: str, *statements: str) -> str:
    """A trigger function running each statement with EXECUTE: planned afresh for every
    statement's transition table. A static statement in PL/pgSQL keeps the plan made for the
    first call in the session (a one-mark change: nested loops), and reused on a year of marks
    that plan is quadratic (seen: a 535,551-mark DELETE still running after ten minutes)."""
    body = "\n".join(f"    EXECUTE $q${statement}$q$;" for statement in statements)
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql
{JOINS} AS $$
BEGIN
{body}
    RETURN NULL;
END $$;
"""


# The update and delete functions' statements (0011 adds its own after them).
UPDATE_STATEMENTS = (
    # One net change per key. Codes that lose sessions are updated and codes that gain them
    # upserted; a week whose change could not stand as a row on its own (a figure falls, or
    # attended rises alone: I → /) is updated (it is held), any other is upserted. Disjoint
    # keys, so one statement.
    f"""WITH s AS MATERIALIZED (
        SELECT {PAIR_KEY}, sum(days) AS days
        FROM ({_pairs("new_marks")} UNION ALL {_pairs("old_marks", "-")}) t
        GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(days) <> 0),
    codes AS MATERIALIZED ({_codes("s")}),
    weeks AS MATERIALIZED ({_weeks("s")}),
    subtracted AS ({SUBTRACT_CODES}),
    counted AS ({INSERT_CODES}),
    changed AS (
        UPDATE attendance_weeklyattendance w SET {CHANGE_WEEKS}
        FROM weeks d WHERE NOT ({ADDABLE}) AND {_match("w", "d", WEEK_KEY)})
    {INSERT_WEEKS.format(where="WHERE " + ADDABLE)}""",
    # Code rows at 0 go; a week goes when its marks moved elsewhere (a key column changed)
    # and none is left in it.
    f"""WITH old AS ({_pairs("old_marks")})
    {DROP_EMPTY_CODES}""",
    f"""DELETE FROM attendance_weeklyattendance w
    USING (SELECT {WEEK_KEY} FROM ({_pairs("old_marks")}) o
           EXCEPT SELECT {WEEK_KEY} FROM ({_pairs("new_marks")}) n) d
    WHERE w.possible = 0 AND {_match("w", "d", WEEK_KEY)} AND NOT EXISTS ({MARKS_LEFT})""",
)
DELETE_STATEMENTS = (
    f"""WITH s AS MATERIALIZED ({_pairs("old_marks", "-")}),
    codes AS ({_codes("s")}),
    weeks AS ({_weeks("s")}),
    subtracted AS ({SUBTRACT_CODES})
    UPDATE attendance_weeklyattendance w SET {CHANGE_WEEKS}
    FROM weeks d WHERE {_match("w", "d", WEEK_KEY)}""",
    f"""WITH old AS ({_pairs("old_marks")})
    {DROP_EMPTY_CODES}""",
    f"""DELETE FROM attendance_weeklyattendance w
    USING (SELECT DISTINCT {WEEK_KEY} FROM ({_pairs("old_marks")}) o) d
    WHERE w.possible = 0 AND {_match("w", "d", WEEK_KEY)} AND NOT EXISTS ({MARKS_LEFT})""",
)

TRIGGERS_SQL = _function(
    "attendance_markcount_insert",
    f"""WITH s AS MATERIALIZED ({_pairs("new_marks")}),
    codes AS ({_codes("s")}),
    weeks AS ({_weeks("s")}),
    counted AS ({INSERT_CODES})
    {INSERT_WEEKS.format(where="")}""",
) + _function("attendance_markcount_update", *UPDATE_STATEMENTS) + _function(
    "attendance_markcount_delete", *DELETE_STATEMENTS)

KEY_INDEX = [
    f"DROP INDEX CONCURRENTLY IF EXISTS {NEW_INDEX}",
    f"CREATE UNIQUE INDEX CONCURRENTLY {NEW_INDEX} ON {TABLE} ({WEEK_KEY})",
]
KEY_SWAP = f"""
ALTER TABLE {TABLE}
    DROP CONSTRAINT weekly_one_row_per_pupil_school_week,
    DROP COLUMN id,
    ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY USING INDEX {NEW_INDEX}
"""
KEY_BACK = f"""
ALTER TABLE {TABLE}
    DROP CONSTRAINT {TABLE}_pkey,
    ADD CONSTRAINT weekly_one_row_per_pupil_school_week UNIQUE ({WEEK_KEY}),
    ADD COLUMN id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY
"""


def _fk(to: str, *, constraint: bool) -> models.ForeignKey:
    if constraint:
        return models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                 to=to)
    return models.ForeignKey(db_constraint=False, db_index=False,
                             on_delete=django.db.models.deletion.DO_NOTHING, related_name="+",
                             to=to)


class Migration(migrations.Migration):

    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ("attendance", "0008_sessionmark_n_marks"),
    ]

    operations = [
        migrations.RunSQL(TRIGGERS_SQL, reverse_sql=migrations.RunSQL.noop),
        migrations.AlterField(model_name="weeklyattendance", name="pupil",
                              field=_fk("pupils.pupil", constraint=False)),
        migrations.AlterField(model_name="weeklyattendance", name="school",
                              field=_fk("schools.school", constraint=False)),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(KEY_INDEX, reverse_sql=migrations.RunSQL.noop),
                migrations.RunSQL(KEY_SWAP, reverse_sql=KEY_BACK),
            ],
            state_operations=[
                migrations.RemoveConstraint(model_name="weeklyattendance",
                                            name="weekly_one_row_per_pupil_school_week"),
                migrations.RemoveField(model_name="weeklyattendance", name="id"),
                migrations.AddField(
                    model_name="weeklyattendance", name="pk",
                    field=models.CompositePrimaryKey(
                        "pupil", "school", "academic_year", "week_start", blank=True,
                        editable=False, primary_key=True, serialize=False),
                ),
            ],
        ),
    ]
