"""The nightly job: summaries, bands, band history and alerts, in set-based SQL.

``pupils_reclassify(as_of=…, school_ids=None)`` is the one entry point (the management command,
the Celery beat task and the post-import refresh all call it). One PostgreSQL transaction holds
a transaction-scoped advisory lock: two runs never overlap, a crash leaves the previous state
untouched, and a rerun for the same date changes nothing.

How the figures are computed (docs/nightly.md):
- counts: attendance_markcount (sessions per pupil, school, year and code) and
  attendance_weeklyattendance (per week) are kept exact by triggers on the marks (migration
  0006), so a run never scans the year's marks; it takes away the few marks dated after
  ``as_of``. First and last marked dates come from attendance_markspan (migration 0011, the
  same triggers); only a span ending after ``as_of`` is looked up in the marks.
- year to date: every mark from 1 September of the academic year containing ``as_of`` up to
  ``as_of``; possible/attended/authorised/unauthorised from ``AttendanceCode``'s flags; for a
  pupil and school with no marks at all, that school's summary rows (totals) inside the period.
- recent: the same over the last four school weeks (``schools.calendar.recent_window_start``).
- projected band at the end of term: the year-to-date counts plus the sessions left in the
  term, attended at the recent rate: band of (attended·rp + left·ra) / ((possible + left)·rp),
  with rp/ra the recent possible/attended; no recent sessions, no projection beyond today's band.
- city-wide (school empty): all of a pupil's schools together; band history and the
  social-worker alerts follow the city-wide band, because the LA record follows the child.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from alerts.models import Rule
from alerts.services import alerts_insert_from_select
from attendance.bands import band_sql
from attendance.summary_models import ReclassificationRun
from schools import calendar
from schools.models import AcademicYear

LOCK_KEY = 7_240_001  # pg advisory lock id for the reclassification
# Session counts (column s.sessions, codes joined as c) → the four figures.
_FIGURES = """
    coalesce(sum(s.sessions) FILTER (WHERE c.counts_as_possible), 0) AS possible,
    coalesce(sum(s.sessions) FILTER (WHERE c.counts_as_attended), 0) AS attended,
    coalesce(sum(s.sessions) FILTER (WHERE c.category = 'authorised'), 0) AS authorised,
    coalesce(sum(s.sessions) FILTER (WHERE c.category = 'unauthorised'), 0) AS unauthorised"""


class ReclassificationBusy(Exception):
    """Another reclassification holds the lock."""


@dataclass
class ReclassifyResult:
    as_of: date
    pupils: int
    changed: int
    alerts_raised: int
    seconds: float
    alert_ids: list[int]
    # The run's two parts: summaries, bands and band history; then the alert rules.
    summaries_seconds: float = 0.0
    alerts_seconds: float = 0.0

    def as_dict(self) -> dict:
        return {"as_of": self.as_of.isoformat(), "pupils": self.pupils, "changed": self.changed,
                "alerts_raised": self.alerts_raised, "seconds": round(self.seconds, 3),
                "summaries_seconds": round(self.summaries_seconds, 3),
                "alerts_seconds": round(self.alerts_seconds, 3)}


def mark_counts_rebuild() -> None:
    """Recount attendance_markcount, attendance_weeklyattendance and attendance_markspan from
    the marks. The triggers keep them exact; this is the repair (marks written with the
    triggers disabled, an AttendanceCode's flags changed)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE attendance_sessionmark IN SHARE MODE")
        cursor.execute("""
            CREATE TEMP TABLE _sessions ON COMMIT DROP AS
            SELECT extract(year FROM m.date)::int - (extract(month FROM m.date) < 9)::int
                       AS academic_year,
                   m.pupil_id, m.school_id,
                   m.date - (extract(isodow FROM m.date)::int - 1) AS week_start,
                   x.code, count(*) AS sessions, min(m.date) AS first_day,
                   max(m.date) AS last_day
            FROM attendance_sessionmark m CROSS JOIN LATERAL (VALUES (m.am), (m.pm)) AS x(code)
            WHERE x.code IS NOT NULL
            GROUP BY 1, 2, 3, 4, 5
        """)
        cursor.execute("DELETE FROM attendance_markcount")
        cursor.execute("""
            INSERT INTO attendance_markcount (academic_year, pupil_id, school_id, code, sessions)
            SELECT academic_year, pupil_id, school_id, code, sum(sessions)
            FROM _sessions GROUP BY 1, 2, 3, 4
        """)
        cursor.execute("DELETE FROM attendance_weeklyattendance")
        cursor.execute(f"""
            INSERT INTO attendance_weeklyattendance (pupil_id, school_id, academic_year,
                week_start, possible, attended, authorised, unauthorised)
            SELECT s.pupil_id, s.school_id, s.academic_year, s.week_start, {_FIGURES}
            FROM _sessions s LEFT JOIN attendance_attendancecode c ON c.code = s.code
            GROUP BY 1, 2, 3, 4
        """)
        cursor.execute("DELETE FROM attendance_markspan")
        cursor.execute("""
            INSERT INTO attendance_markspan (pupil_id, school_id, academic_year, first_marked,
                last_marked)
            SELECT pupil_id, school_id, academic_year, min(first_day), max(last_day)
            FROM _sessions GROUP BY 1, 2, 3
        """)
        cursor.execute("DROP TABLE _sessions")


def _params(as_of: date) -> dict:
    year = AcademicYear.start_year_for(as_of)
    recent_start = calendar.recent_window_start(as_of=as_of)
    return {
        "as_of": as_of,
        "year": year,
        "year_start": date(year, 9, 1),
        "year_end": date(year + 1, 8, 31),
        "week": calendar.week_start(as_of),
        "recent_start": recent_start,
        "recent_week": calendar.week_start(recent_start),
        "left": calendar.remaining_sessions_in_term(as_of=as_of),
    }


def _scope_sql(school_ids: list[int] | None, column: str = "m.pupil_id") -> str:
    """Pupils in scope: all, or those in _scope (marks or an enrolment at the given schools)."""
    return "TRUE" if school_ids is None else f"{column} IN (SELECT pupil_id FROM _scope)"


def _build_scope(cursor, params: dict, school_ids: list[int] | None) -> None:
    if school_ids is None:
        return
    cursor.execute("""
        CREATE TEMP TABLE _scope ON COMMIT DROP AS
        SELECT pupil_id FROM attendance_markcount
        WHERE academic_year = %(year)s AND school_id = ANY(%(school_ids)s)
        UNION SELECT pupil_id FROM pupils_enrolment WHERE school_id = ANY(%(school_ids)s)
    """, params)
    cursor.execute("ALTER TABLE _scope ADD PRIMARY KEY (pupil_id)")
    cursor.execute("ANALYZE _scope")


def _marks_between(cursor, table: str, params: dict, school_ids: list[int] | None,
                   first: str, last: str) -> None:
    """Sessions per pupil, school, week and code of the marks dated ``first``..``last`` (SQL
    expressions), read through an index: the few marks the counts hold but a run must leave
    out (after ``as_of``; before the recent window's first day in its first week)."""
    # The marks of those days through the (school, date) index, every school (a pupil in scope
    # may have marks at another), and only then the scope: joined to the scope at once, the
    # planner walked the whole (pupil, date) index (seconds at 6,000 pupils).
    scope = "TRUE" if school_ids is None else "m.pupil_id IN (SELECT pupil_id FROM _scope)"
    cursor.execute(f"""
        CREATE TEMP TABLE {table} ON COMMIT DROP AS
        WITH days AS MATERIALIZED (
            SELECT m.pupil_id, m.school_id, m.date, m.am, m.pm
            FROM attendance_sessionmark m
            WHERE m.school_id = ANY(ARRAY(SELECT id FROM schools_school))
              AND m.date BETWEEN {first} AND {last}
        )
        SELECT m.pupil_id, m.school_id, m.date - (extract(isodow FROM m.date)::int - 1)
                   AS week_start, x.code, count(*) AS sessions
        FROM days m CROSS JOIN LATERAL (VALUES (m.am), (m.pm)) AS x(code)
        WHERE {scope} AND x.code IS NOT NULL
        GROUP BY 1, 2, 3, 4
    """, params)


def _build_summaries(cursor, params: dict, school_ids: list[int] | None) -> None:
    """The year's counts come from attendance_markcount (per pupil, school and code) and the
    recent window's from attendance_weeklyattendance, both kept exact by triggers as marks are
    written; only the marks those tables hold beyond the run's dates are read, to take away."""
    # Marks after as_of in this academic year: none in a nightly run for today.
    _marks_between(cursor, "_after", params, school_ids, "%(as_of)s::date + 1", "%(year_end)s")
    # The recent window starts on a Monday, except where there are no school weeks at all.
    _marks_between(cursor, "_before_recent", params, school_ids,
                   "greatest(%(recent_week)s, %(year_start)s)", "%(recent_start)s::date - 1")
    scope = _scope_sql(school_ids, "k.pupil_id")
    cursor.execute(f"""
        CREATE TEMP TABLE _code_counts ON COMMIT DROP AS
        SELECT k.pupil_id, k.school_id, k.code, k.sessions - coalesce(a.sessions, 0) AS n
        FROM attendance_markcount k
        LEFT JOIN (SELECT pupil_id, school_id, code, sum(sessions) AS sessions FROM _after
                   GROUP BY 1, 2, 3) a
          ON a.pupil_id = k.pupil_id AND a.school_id = k.school_id AND a.code = k.code
        WHERE k.academic_year = %(year)s AND {scope} AND k.sessions > coalesce(a.sessions, 0)
    """, params)
    cursor.execute("ANALYZE _code_counts")
    cursor.execute(f"""
        CREATE TEMP TABLE _recent ON COMMIT DROP AS
        SELECT pupil_id, school_id, sum(possible) AS recent_possible,
               sum(attended) AS recent_attended
        FROM (
            SELECT k.pupil_id, k.school_id, k.possible, k.attended
            FROM attendance_weeklyattendance k
            WHERE k.academic_year = %(year)s AND k.week_start BETWEEN %(recent_week)s AND %(week)s
              AND {scope}
            UNION ALL
            SELECT s.pupil_id, s.school_id,
                   -coalesce(sum(s.sessions) FILTER (WHERE c.counts_as_possible), 0),
                   -coalesce(sum(s.sessions) FILTER (WHERE c.counts_as_attended), 0)
            FROM (SELECT * FROM _after WHERE week_start <= %(week)s
                  UNION ALL SELECT * FROM _before_recent) s
            LEFT JOIN attendance_attendancecode c ON c.code = s.code
            GROUP BY 1, 2
        ) t
        GROUP BY pupil_id, school_id
    """, params)
    cursor.execute("CREATE INDEX ON _recent (pupil_id, school_id)")
    cursor.execute("ANALYZE _recent")
    counts = """
        coalesce(sum(cc.n) FILTER (WHERE c.counts_as_possible), 0) AS possible,
        coalesce(sum(cc.n) FILTER (WHERE c.counts_as_attended), 0) AS attended,
        coalesce(sum(cc.n) FILTER (WHERE c.category = 'authorised'), 0) AS authorised,
        coalesce(sum(cc.n) FILTER (WHERE c.category = 'unauthorised'), 0) AS unauthorised
    """
    # First and last marked dates from attendance_markspan (the whole year's, kept by the
    # triggers); a descent of the (pupil, date, school) index only where the span is missing
    # or its last day is after as_of (COALESCE and CASE evaluate the subquery only then).
    marked = """(SELECT m.date FROM attendance_sessionmark m
                 WHERE m.pupil_id = t.pupil_id AND m.school_id = t.school_id
                   AND m.date BETWEEN %(year_start)s AND %(as_of)s ORDER BY m.date {} LIMIT 1)"""
    first_marked = f"coalesce(g.first_marked, {marked.format('ASC')})"
    last_marked = (f"CASE WHEN g.last_marked <= %(as_of)s THEN g.last_marked "
                   f"ELSE {marked.format('DESC')} END")
    summary_scope = _scope_sql(school_ids, "r.pupil_id")
    cursor.execute(f"""
        CREATE TEMP TABLE _per_school ON COMMIT DROP AS
        SELECT t.pupil_id, t.school_id, t.possible, t.attended, t.authorised, t.unauthorised,
               coalesce(r.recent_possible, 0) AS recent_possible,
               coalesce(r.recent_attended, 0) AS recent_attended,
               {first_marked} AS first_marked, {last_marked} AS last_marked,
               t.code_counts, FALSE AS from_summary_rows
        FROM (SELECT cc.pupil_id, cc.school_id, {counts},
                     jsonb_object_agg(cc.code, cc.n) AS code_counts
              FROM _code_counts cc
              LEFT JOIN attendance_attendancecode c ON c.code = cc.code
              GROUP BY cc.pupil_id, cc.school_id) t
        LEFT JOIN _recent r ON r.pupil_id = t.pupil_id AND r.school_id = t.school_id
        LEFT JOIN attendance_markspan g ON g.pupil_id = t.pupil_id AND g.school_id = t.school_id
         AND g.academic_year = %(year)s
        UNION ALL
        SELECT r.pupil_id, r.school_id, sum(r.possible), sum(r.attended), sum(r.authorised),
               sum(r.unauthorised), 0, 0, min(r.date_from), max(r.date_to),
               '{{}}'::jsonb, TRUE
        FROM attendance_summaryrecord r
        WHERE r.date_from >= %(year_start)s AND r.date_to <= %(as_of)s AND {summary_scope}
          AND NOT EXISTS (SELECT 1 FROM _code_counts cc
                          WHERE cc.pupil_id = r.pupil_id AND cc.school_id = r.school_id)
        GROUP BY r.pupil_id, r.school_id
    """, params)
    # City-wide code counts: a pupil with marks at one school has that school's; only the
    # few at two or more schools are added up again.
    cursor.execute("""
        CREATE TEMP TABLE _city_codes ON COMMIT DROP AS
        SELECT pupil_id, jsonb_object_agg(code, n) AS code_counts
        FROM (SELECT pupil_id, code, sum(n) AS n FROM _code_counts
              WHERE pupil_id IN (SELECT pupil_id FROM _per_school WHERE NOT from_summary_rows
                                 GROUP BY pupil_id HAVING count(*) > 1)
              GROUP BY pupil_id, code) t
        GROUP BY pupil_id
    """)
    band = band_sql("attended", "possible")
    recent = band_sql("recent_attended", "recent_possible")
    projected = band_sql(
        "(attended::bigint * recent_possible + %(left)s::bigint * recent_attended)",
        "((possible + %(left)s)::bigint * recent_possible)",
    )
    cursor.execute(f"""
        CREATE TEMP TABLE _summaries ON COMMIT DROP AS
        SELECT *, {band} AS band, {recent} AS recent_band,
               CASE WHEN recent_possible = 0 THEN {band} ELSE {projected} END AS projected_band
        FROM (
            SELECT pupil_id, school_id, possible, attended, authorised, unauthorised,
                   recent_possible, recent_attended, first_marked, last_marked, code_counts,
                   from_summary_rows
            FROM _per_school
            UNION ALL
            SELECT s.pupil_id, NULL, sum(s.possible), sum(s.attended), sum(s.authorised),
                   sum(s.unauthorised), sum(s.recent_possible), sum(s.recent_attended),
                   min(s.first_marked), max(s.last_marked),
                   coalesce((array_agg(s.code_counts) FILTER (WHERE NOT s.from_summary_rows)
                             )[1], '{{}}'::jsonb),
                   bool_and(s.from_summary_rows)
            FROM _per_school s
            GROUP BY s.pupil_id
        ) t
    """, params)
    cursor.execute("""
        UPDATE _summaries s SET code_counts = cc.code_counts FROM _city_codes cc
        WHERE s.school_id IS NULL AND s.pupil_id = cc.pupil_id
    """)
    # Temporary tables have no statistics until analysed; without them PostgreSQL picks
    # nested loops over 80,000-row tables (minutes instead of seconds).
    cursor.execute("CREATE INDEX ON _summaries (pupil_id)")
    cursor.execute("ANALYZE _summaries (pupil_id, school_id, band)")


def _references_lock(cursor) -> bool:
    """Check and lock (FOR KEY SHARE, to commit) every pupil and school the summaries name, in
    two set-based statements, so the summary and band-history writes may skip the per-row
    foreign-key triggers (session_replication_role = replica, as the importer does: ~120,000
    rows, two checks each, on a city's first run). False when the role may not do that."""
    cursor.execute("SELECT has_parameter_privilege(current_user, 'session_replication_role', "
                   "'SET')")
    if not cursor.fetchone()[0]:
        return False
    for table, column in (("pupils_pupil", "pupil_id"), ("schools_school", "school_id")):
        cursor.execute(f"""
            SELECT (SELECT count(DISTINCT {column}) FROM _summaries), count(*)
            FROM (SELECT 1 FROM {table} WHERE id IN (SELECT {column} FROM _summaries)
                  FOR KEY SHARE) AS locked
        """)
        wanted, found = cursor.fetchone()
        if wanted != found:
            raise IntegrityError(f"{wanted - found} {column} values of the summaries have no "
                                 f"row in {table}; nothing was written.")
    return True


def _write_summaries(cursor, params: dict, school_ids: list[int] | None) -> int:
    columns = ("possible, attended, authorised, unauthorised, code_counts, first_marked, "
               "last_marked, from_summary_rows, band, recent_possible, recent_attended, "
               "recent_band, projected_band")
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns.split(", "))
    old = ", ".join(f"attendance_pupilsummary.{c}" for c in columns.split(", "))
    new = ", ".join(f"EXCLUDED.{c}" for c in columns.split(", "))
    cursor.execute(f"""
        INSERT INTO attendance_pupilsummary
            (pupil_id, school_id, academic_year, as_of, {columns})
        SELECT pupil_id, school_id, %(year)s, %(as_of)s, {columns} FROM _summaries
        ON CONFLICT (pupil_id, academic_year, school_id) DO UPDATE
            SET as_of = EXCLUDED.as_of, {updates}
            WHERE ({old}) IS DISTINCT FROM ({new})
    """, params)
    written = cursor.rowcount
    # Rows in scope that no longer have any data (marks withdrawn) go.
    scope = "TRUE" if school_ids is None else (
        "pupil_id IN (SELECT pupil_id FROM _summaries)"
        " OR school_id = ANY(%(school_ids)s)"
    )
    cursor.execute(f"""
        DELETE FROM attendance_pupilsummary p
        WHERE p.academic_year = %(year)s AND ({scope})
          AND NOT EXISTS (SELECT 1 FROM _summaries s WHERE s.pupil_id = p.pupil_id
                          AND coalesce(s.school_id, 0) = coalesce(p.school_id, 0))
    """, params)
    return written + cursor.rowcount


def _record_band_changes(cursor, params: dict) -> None:
    """Band history: a row wherever the city-wide band differs from the last one recorded."""
    cursor.execute("""
        CREATE TEMP TABLE _changes (id bigint, pupil_id bigint, from_band smallint,
            to_band smallint, possible integer, attended integer) ON COMMIT DROP
    """)
    cursor.execute("""
        WITH latest AS (
            SELECT DISTINCT ON (pupil_id) pupil_id, to_band
            FROM attendance_bandhistory
            WHERE academic_year = %(year)s AND changed_on < %(as_of)s
            ORDER BY pupil_id, changed_on DESC
        ), written AS (
            INSERT INTO attendance_bandhistory
                (pupil_id, academic_year, changed_on, from_band, to_band, possible, attended)
            SELECT s.pupil_id, %(year)s, %(as_of)s, l.to_band, s.band, s.possible, s.attended
            FROM _summaries s LEFT JOIN latest l USING (pupil_id)
            WHERE s.school_id IS NULL
              AND (l.to_band IS DISTINCT FROM s.band)
              AND NOT (l.pupil_id IS NULL AND s.band IS NULL)
            ON CONFLICT (pupil_id, academic_year, changed_on) DO UPDATE
                SET to_band = EXCLUDED.to_band, possible = EXCLUDED.possible,
                    attended = EXCLUDED.attended
                WHERE (attendance_bandhistory.to_band, attendance_bandhistory.possible,
                       attendance_bandhistory.attended)
                      IS DISTINCT FROM (EXCLUDED.to_band, EXCLUDED.possible, EXCLUDED.attended)
            RETURNING id, pupil_id, from_band, to_band, possible, attended
        )
        INSERT INTO _changes SELECT * FROM written
    """, params)
    # A same-day change that went back to the band before it is no change at all.
    cursor.execute("""
        DELETE FROM attendance_bandhistory h
        WHERE h.academic_year = %(year)s AND h.changed_on = %(as_of)s
          AND EXISTS (SELECT 1 FROM _summaries s
                      WHERE s.school_id IS NULL AND s.pupil_id = h.pupil_id
                        AND coalesce(s.band, 0) = coalesce(h.from_band, 0))
    """, params)


def _caseload_join(pupil_column: str) -> str:
    """Join the social workers allocated to that pupil on the run's date."""
    return (f"JOIN pupils_socialworkerallocation a ON a.pupil_id = {pupil_column} "
            "AND a.start_date <= %(as_of)s AND (a.end_date IS NULL OR a.end_date >= %(as_of)s)")


def _rate(a: str, p: str) -> str:
    return f"to_char(round(100.0 * {a} / nullif({p}, 0), 1), 'FM990.0') || '%%'"


def _raise_alerts(cursor, params: dict, *, city_wide: bool = True) -> list[int]:
    """Rules 1–2 follow this run's pupils; 3–5 look at whole schools and the rolling penalty
    window, so they run in the nightly (city-wide) run only."""
    ids: list[int] = []
    # 1. A caseload pupil's band got worse: one alert per change, the most specific rule.
    ids += alerts_insert_from_select(select_sql=f"""
        SELECT a.social_worker_id, ch.pupil_id, NULL::bigint,
               CASE WHEN ch.to_band = 5 THEN '{Rule.ENTERED_SA}'
                    WHEN ch.to_band >= 3 AND ch.from_band < 3 THEN '{Rule.ENTERED_PA}'
                    ELSE '{Rule.WORSE_BAND}' END,
               'Attendance ' || {_rate('ch.attended', 'ch.possible')} || ' this year: band '
                   || ch.from_band || ' to band ' || ch.to_band,
               jsonb_build_object('attendance', {_rate('ch.attended', 'ch.possible')},
                                  'sessions attended', ch.attended,
                                  'possible sessions', ch.possible,
                                  'band before', ch.from_band, 'band now', ch.to_band,
                                  'as of', %(as_of)s::text),
               'band:' || ch.id
        FROM _changes ch {_caseload_join("ch.pupil_id")}
        WHERE ch.from_band IS NOT NULL AND ch.to_band > ch.from_band
    """, params=params)

    # 2. A caseload pupil has N or more consecutive unexplained (N, O) sessions.
    run_params = {**params, "run": settings.ALERT_UNEXPLAINED_RUN}
    ids += alerts_insert_from_select(select_sql=f"""
        WITH candidates AS MATERIALIZED (
            -- caseload pupils whose year holds at least the run's length of N and O sessions
            SELECT k.pupil_id FROM attendance_markcount k
            WHERE k.academic_year = %(year)s AND k.code IN ('N', 'O')
              AND k.pupil_id IN (
                  SELECT a.pupil_id FROM pupils_socialworkerallocation a
                  WHERE a.start_date <= %(as_of)s
                    AND (a.end_date IS NULL OR a.end_date >= %(as_of)s))
              AND {"TRUE" if city_wide else "k.pupil_id IN (SELECT pupil_id FROM _scope)"}
            GROUP BY k.pupil_id HAVING sum(k.sessions) >= %(run)s
        ), sessions AS (
            -- LATERAL: each candidate's year through the (pupil, date) index, never a scan
            SELECT p.pupil_id, m.date, x.half, x.code
            FROM candidates p
            CROSS JOIN LATERAL (
                SELECT m.date, m.am, m.pm FROM attendance_sessionmark m
                WHERE m.pupil_id = p.pupil_id AND m.date BETWEEN %(year_start)s AND %(as_of)s
            ) m
            CROSS JOIN LATERAL (VALUES (0, m.am), (1, m.pm)) AS x(half, code)
            JOIN attendance_attendancecode c ON c.code = x.code AND c.counts_as_possible
        ), numbered AS (
            SELECT *, row_number() OVER (PARTITION BY pupil_id ORDER BY date, half)
                    - row_number() OVER (PARTITION BY pupil_id, code IN ('N', 'O')
                                         ORDER BY date, half) AS island
            FROM sessions
        ), runs AS (
            SELECT pupil_id, island, count(*) AS n, min(date) AS first_day, max(date) AS last_day
            FROM numbered WHERE code IN ('N', 'O') GROUP BY pupil_id, island
            HAVING count(*) >= %(run)s
        )
        SELECT DISTINCT a.social_worker_id, r.pupil_id, NULL::bigint, '{Rule.UNEXPLAINED_RUN}',
               r.n || ' unexplained absences in a row (N or O) since '
                   || to_char(r.first_day, 'DD/MM/YYYY'),
               jsonb_build_object('sessions in a row', r.n,
                                  'from', to_char(r.first_day, 'DD/MM/YYYY'),
                                  'to', to_char(r.last_day, 'DD/MM/YYYY')),
               'run:' || r.pupil_id || ':' || r.first_day
        FROM runs r {_caseload_join("r.pupil_id")}
    """, params=run_params)

    if not city_wide:
        return ids
    # 3. N codes older than five school days: data quality, to the school's attendance leads.
    # The partial index sessionmark_n_marks (migration 0006) holds just the rows with an N.
    cutoff = calendar.school_days_before(as_of=params["as_of"], count=settings.ALERT_STALE_N_DAYS)
    if cutoff is not None:
        ids += alerts_insert_from_select(select_sql=f"""
            WITH stale AS (
                SELECT m.school_id, count(*) AS n, min(m.date) AS oldest
                FROM attendance_sessionmark m
                WHERE m.date BETWEEN %(year_start)s AND %(cutoff)s
                  AND (m.am = 'N' OR m.pm = 'N')
                GROUP BY m.school_id
            )
            SELECT u.id, NULL::bigint, s.school_id, '{Rule.STALE_N}',
                   s.n || ' register marks still N (reason not yet established) after five '
                       || 'school days; the oldest is from ' || to_char(s.oldest, 'DD/MM/YYYY'),
                   jsonb_build_object('days with an N mark', s.n,
                                      'oldest', to_char(s.oldest, 'DD/MM/YYYY')),
                   'stale_n:' || s.school_id || ':' || s.oldest
            FROM stale s JOIN accounts_user u ON u.school_id = s.school_id
             AND u.is_school_lead AND u.is_active
        """, params={**params, "cutoff": cutoff})

    silent_cutoff = calendar.school_days_before(as_of=params["as_of"],
                                                count=settings.ALERT_SILENT_DAYS)
    if silent_cutoff is not None:
        # 4. A school with pupils on roll sent no marks for five school days: its link officer.
        ids += alerts_insert_from_select(select_sql=f"""
            WITH last_marks AS (
                SELECT sc.id AS school_id, sc.link_officer_id,
                       (SELECT max(m.date) FROM attendance_sessionmark m
                        WHERE m.school_id = sc.id AND m.date <= %(as_of)s) AS last_day
                FROM schools_school sc
                WHERE sc.link_officer_id IS NOT NULL AND EXISTS (
                    SELECT 1 FROM pupils_enrolment e WHERE e.school_id = sc.id
                      AND e.start_date <= %(as_of)s
                      AND (e.end_date IS NULL OR e.end_date >= %(as_of)s))
            )
            SELECT link_officer_id, NULL::bigint, school_id, '{Rule.SCHOOL_SILENT}',
                   'No register marks received since '
                       || coalesce(to_char(last_day, 'DD/MM/YYYY'), 'the school joined'),
                   jsonb_build_object('last marks received',
                                      coalesce(to_char(last_day, 'DD/MM/YYYY'), 'never')),
                   'silent:' || school_id || ':' || coalesce(last_day::text, 'never')
            FROM last_marks WHERE last_day IS NULL OR last_day <= %(cutoff)s
        """, params={**params, "cutoff": silent_cutoff})

        # 6. A caseload pupil missing from the registers: on the roll of a school (since before
        # the five school days) whose marks kept arriving, but no mark at any school for five
        # school days. A pupil whose enrolments have all ended is not on any school's register
        # (no alert here); a school that sent nothing is rule 4's.
        ids += alerts_insert_from_select(select_sql=f"""
            WITH caseload AS (
                SELECT DISTINCT a.pupil_id FROM pupils_socialworkerallocation a
                WHERE a.start_date <= %(as_of)s
                  AND (a.end_date IS NULL OR a.end_date >= %(as_of)s)
            ), missing AS (
                SELECT c.pupil_id, last.day AS last_day
                FROM caseload c
                CROSS JOIN LATERAL (
                    SELECT max(m.date) AS day FROM attendance_sessionmark m
                    WHERE m.pupil_id = c.pupil_id AND m.date <= %(as_of)s) last
                WHERE last.day IS NULL OR last.day <= %(cutoff)s
            ), sending AS (
                SELECT DISTINCT ON (mi.pupil_id) mi.pupil_id, mi.last_day, e.school_id, sc.name,
                       sent.day AS school_last_day
                FROM missing mi
                JOIN pupils_enrolment e ON e.pupil_id = mi.pupil_id
                 AND e.start_date <= %(cutoff)s
                 AND (e.end_date IS NULL OR e.end_date >= %(as_of)s)
                JOIN schools_school sc ON sc.id = e.school_id
                CROSS JOIN LATERAL (
                    SELECT max(m.date) AS day FROM attendance_sessionmark m
                    WHERE m.school_id = e.school_id AND m.date <= %(as_of)s) sent
                WHERE sent.day > %(cutoff)s
                ORDER BY mi.pupil_id, e.registration, e.school_id
            )
            SELECT a.social_worker_id, s.pupil_id, s.school_id, '{Rule.MISSING_FROM_DATA}',
                   'Missing from school registers: no mark at any school for '
                       || %(days)s || ' school days (last marked '
                       || coalesce(to_char(s.last_day, 'DD/MM/YYYY'), 'never') || ') while '
                       || s.name || ' kept sending marks',
                   jsonb_build_object(
                       'last marked', coalesce(to_char(s.last_day, 'DD/MM/YYYY'), 'never'),
                       'school', s.name,
                       'school marks received up to', to_char(s.school_last_day, 'DD/MM/YYYY'),
                       'school days without a mark', %(days)s),
                   'missing:' || s.pupil_id || ':' || coalesce(s.last_day::text, 'never')
            FROM sending s {_caseload_join("s.pupil_id")}
        """, params={**params, "cutoff": silent_cutoff, "days": settings.ALERT_SILENT_DAYS})

    # 5. Reached the penalty notice threshold: the link officer, to consider (never to issue).
    from interventions.services import penalty_threshold_alerts_raise

    ids += penalty_threshold_alerts_raise(as_of=params["as_of"])
    return ids


def pupils_reclassify(*, as_of: date, school_ids: list[int] | None = None,
                      notify: bool = True) -> ReclassifyResult:
    """Recompute summaries, bands, band history and alerts as of ``as_of``; idempotent.

    ``notify=False`` raises alerts without emailing them (building the demo's past)."""
    started = time.monotonic()
    params = {**_params(as_of), "school_ids": school_ids}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [LOCK_KEY])
        if not cursor.fetchone()[0]:
            raise ReclassificationBusy("Another reclassification is running; try again later.")
        # Room for the run's hash aggregates in memory (this transaction only): at 4 MB they
        # spill to disk. No JIT: compiling costs more than it saves on these queries.
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL jit = off")
        # ON COMMIT DROP is not enough when called inside an outer transaction (after an import).
        cursor.execute("DROP TABLE IF EXISTS _scope, _after, _before_recent, _code_counts, "
                       "_recent, _per_school, _city_codes, _summaries, _changes")
        _build_scope(cursor, params, school_ids)
        _build_summaries(cursor, params, school_ids)
        cursor.execute("SELECT count(*) FROM _summaries WHERE school_id IS NULL")
        pupils = cursor.fetchone()[0]
        skip_row_triggers = _references_lock(cursor)
        if skip_row_triggers:
            cursor.execute("SET LOCAL session_replication_role = replica")
        _write_summaries(cursor, params, school_ids)
        _record_band_changes(cursor, params)
        if skip_row_triggers:
            cursor.execute("SET LOCAL session_replication_role = origin")
        cursor.execute("SELECT count(*) FROM _changes")
        changed = cursor.fetchone()[0]
        summaries_seconds = time.monotonic() - started
        alert_ids = _raise_alerts(cursor, params, city_wide=school_ids is None)
        seconds = time.monotonic() - started
        ReclassificationRun.objects.create(
            as_of=as_of, school_ids=school_ids, pupils=pupils, changed=changed,
            alerts_raised=len(alert_ids), seconds=seconds,
        )
        if alert_ids and notify:
            from alerts.tasks import email_new_alerts

            transaction.on_commit(lambda: email_new_alerts.delay(alert_ids))
    return ReclassifyResult(as_of=as_of, pupils=pupils, changed=changed,
                            alerts_raised=len(alert_ids), seconds=seconds, alert_ids=alert_ids,
                            summaries_seconds=summaries_seconds,
                            alerts_seconds=seconds - summaries_seconds)
