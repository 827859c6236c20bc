"""Reads for casework, scoped to the requesting user: the who-sees-which-case rule lives here.

Cases: managers see every case. LA officers see the cases of pupils on the roll (this academic
year) of the schools they are link officer for; school leads those of their own school's pupils;
social workers those of the pupils on their current caseload (read only, plus agreeing or
declining legal steps). Everyone else sees none, so every case URL is a 404 for them.
Officers, school leads and managers may add to the cases they see; social workers may not.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import connection
from django.db.models import Case as SqlCase
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery, When
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from attendance.bands import RECOMMENDED_ACTIONS, Band
from attendance.models import MarkCount, PupilSummary
from interventions.models import (
    Case,
    Intervention,
    InterventionReview,
    InterventionType,
    PenaltyNotice,
)
from pupils.models import Enrolment, Pupil
from pupils.selectors import caseload_allocations
from schools import calendar
from schools.models import AcademicYear, School

THRESHOLD_SESSIONS = 10
THRESHOLD_WEEKS = 10


def _year_start(today: date) -> date:
    return date(AcademicYear.start_year_for(today), 9, 1)


def has_casework_role(user) -> bool:
    return bool(user.is_authenticated and user.is_active and (
        user.is_manager or user.is_la_officer or user.is_school_lead or user.is_social_worker))


def _school_pupils(user, today: date) -> Q | None:
    """Pupils on the roll this academic year of the schools the user works with."""
    schools = Q(pk__in=[])
    if user.is_la_officer:
        schools |= Q(link_officer=user)
    if user.is_school_lead and user.school_id:
        schools |= Q(pk=user.school_id)
    if not (user.is_la_officer or user.is_school_lead):
        return None
    on_roll = Enrolment.objects.filter(
        pupil=OuterRef("pk"), school__in=School.objects.filter(schools)
    ).filter(Q(end_date__isnull=True) | Q(end_date__gte=_year_start(today)))
    return Q(Exists(on_roll))


def casework_pupils(*, user, today: date | None = None, editable: bool = False) -> QuerySet[Pupil]:
    """Pupils whose cases the user may read (or, with ``editable``, add to)."""
    if not has_casework_role(user):
        return Pupil.objects.none()
    if user.is_manager:
        return Pupil.objects.all()
    today = today or timezone.localdate()
    condition = Q(pk__in=[])
    schools = _school_pupils(user, today)
    if schools is not None:
        condition |= schools
    if user.is_social_worker and not editable:
        condition |= Q(Exists(caseload_allocations(user=user, today=today)
                              .filter(pupil=OuterRef("pk"))))
    return Pupil.objects.filter(condition)


def city_pupils(*, user, today: date | None = None) -> QuerySet[Pupil]:
    """City lists (under 20%, possibly missing education): LA officers and managers see the whole
    city (DOMAIN.md: officers see their schools and city lists); others their own scope."""
    if has_casework_role(user) and (user.is_manager or user.is_la_officer):
        return Pupil.objects.all()
    return casework_pupils(user=user, today=today)


def case_list(*, user, today: date | None = None) -> QuerySet[Case]:
    return Case.objects.filter(pupil__in=casework_pupils(user=user, today=today))


def case_get(*, user, pk: int) -> Case:
    return get_object_or_404(case_list(user=user).select_related("pupil", "owner", "family"),
                             pk=pk)


def case_editable_list(*, user, today: date | None = None) -> QuerySet[Case]:
    return Case.objects.filter(pupil__in=casework_pupils(user=user, today=today, editable=True))


def case_get_editable(*, user, pk: int) -> Case:
    """A case the user may add to; 404 for a case they cannot see *or* only read."""
    return get_object_or_404(
        case_editable_list(user=user).select_related("pupil", "owner", "family"), pk=pk
    )


def case_can_edit(*, user, case: Case) -> bool:
    return case_editable_list(user=user).filter(pk=case.pk).exists()


def pupil_get_for_casework(*, user, upn: str, editable: bool = False) -> Pupil:
    return get_object_or_404(casework_pupils(user=user, editable=editable), upn=upn)


def pupil_cases(*, user, pupil: Pupil) -> QuerySet[Case]:
    return case_list(user=user).filter(pupil=pupil).select_related("owner")


def social_worker_cases(*, user, today: date | None = None) -> QuerySet[Case]:
    """Live cases of the social worker's current caseload (the page marks CIN/CP ones)."""
    if not (user.is_authenticated and user.is_social_worker):
        return Case.objects.none()
    today = today or timezone.localdate()
    caseload = caseload_allocations(user=user, today=today).values("pupil_id")
    return (Case.objects.filter(pupil_id__in=caseload).exclude(status=Case.Status.CLOSED)
            .select_related("pupil", "owner"))


def require_casework_role(user) -> None:
    if not has_casework_role(user):
        raise Http404


def officer_choices() -> QuerySet:
    from accounts.models import User

    return User.objects.filter(is_la_officer=True, is_active=True).order_by("full_name")


def pupil_schools(pupil: Pupil, today: date | None = None) -> list[School]:
    today = today or timezone.localdate()
    enrolments = pupil.enrolments.filter(start_date__lte=today).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=today)).select_related("school",
                                                                          "school__link_officer")
    return [e.school for e in enrolments]


# --- The band and its recommended next steps --------------------------------------------------

# Which intervention types carry out a recommended action (attendance.bands.RECOMMENDED_ACTIONS).
ACTION_TYPES: dict[str, set[str]] = {
    "Consider an early help assessment": {InterventionType.EARLY_HELP},
    "Complete an early help assessment": {InterventionType.EARLY_HELP},
    "Set up a team around the child (TAC) if appropriate": {InterventionType.TAC},
    "Consider a TAC and whole-family support": {InterventionType.TAC,
                                                InterventionType.WHOLE_FAMILY},
    "Consider an attendance contract or education supervision order": {
        InterventionType.ATTENDANCE_CONTRACT, InterventionType.ESO},
    "Consider alternative provision": {InterventionType.AP},
    "Consult Early Help on a whole-family plan": {InterventionType.WHOLE_FAMILY,
                                                  InterventionType.EARLY_HELP},
    "Consider prosecution if absence is unauthorised (after consulting the attendance team)": {
        InterventionType.PROSECUTION},
    "Legal intervention may be considered once support has been explored": {
        InterventionType.NOTICE_TO_IMPROVE, InterventionType.PENALTY_NOTICE,
        InterventionType.PROSECUTION, InterventionType.ESO},
}
# Actions done by keeping records rather than by an intervention.
ACTION_RECORDS = {
    "Keep a detailed chronology of visits, contacts and outcomes": "chronology",
    "Consult the school's attendance officer (required before legal proceedings)": "consulted",
    "Offer pastoral support and home visits": "visit",
}


def pupil_city_summary(pupil: Pupil, today: date | None = None) -> PupilSummary | None:
    return (PupilSummary.objects.filter(pupil=pupil, school__isnull=True)
            .order_by("-academic_year").first())


def _steps_marked(band: Band, case: Case) -> list[dict]:
    """The band's recommended steps, each ``done`` True/False where the case shows it, None
    where the portal cannot tell."""
    types = set(case.interventions.values_list("type", flat=True))
    kinds = set(case.chronology.values_list("kind", flat=True))
    consulted = case.consultations.exists()
    steps = []
    for action in RECOMMENDED_ACTIONS[band]:
        wanted = ACTION_TYPES.get(action)
        if wanted:
            done = bool(types & {str(t) for t in wanted})
        elif ACTION_RECORDS.get(action) == "chronology":
            done = len(kinds - {"decision"}) > 0 and case.chronology.count() >= 2
        elif ACTION_RECORDS.get(action) == "consulted":
            done = consulted
        elif ACTION_RECORDS.get(action) == "visit":
            done = "visit" in kinds
        else:
            done = None  # not something the portal can tell
        steps.append({"action": action, "done": done})
    return steps


def recommended_steps(*, case: Case) -> dict:
    """The band's recommended next steps, each marked done where the case shows it."""
    summary = pupil_city_summary(case.pupil)
    if summary is None or summary.band is None:
        return {"summary": summary, "band": None, "steps": []}
    band = Band(summary.band)
    return {"summary": summary, "band": band, "steps": _steps_marked(band, case)}


def pupil_casework(*, user, pupil: Pupil, band: int | None) -> dict:
    """Casework on the pupil page: the cases the user may see (``pupil_cases``, so scoping
    holds), whether they may open one, and the band's recommended next steps marked done or not
    against the visible live case. Without a visible live case the steps are not marked."""
    cases = list(pupil_cases(user=user, pupil=pupil)) if has_casework_role(user) else []
    live = next((c for c in cases if c.status != Case.Status.CLOSED), None)
    can_open = live is None and casework_pupils(user=user, editable=True).filter(
        pk=pupil.pk).exists()
    band = Band(band) if band else None
    if band is None:
        steps = []
    elif live is None:
        steps = [{"action": action, "done": None} for action in RECOMMENDED_ACTIONS[band]]
    else:
        steps = _steps_marked(band, live)
    return {"cases": cases, "live": live, "can_open": can_open, "band": band, "steps": steps}


# --- Measured effect of an intervention --------------------------------------------------------

@dataclass
class Effect:
    weeks: int
    before_from: date | None = None
    before_to: date | None = None
    after_from: date | None = None
    after_to: date | None = None
    after_complete: bool = False
    before_possible: int = 0
    before_attended: int = 0
    after_possible: int = 0
    after_attended: int = 0

    @property
    def before_rate(self) -> float | None:
        return 100 * self.before_attended / self.before_possible if self.before_possible else None

    @property
    def after_rate(self) -> float | None:
        return 100 * self.after_attended / self.after_possible if self.after_possible else None

    @property
    def change(self) -> float | None:
        if self.before_rate is None or self.after_rate is None:
            return None
        return self.after_rate - self.before_rate


def intervention_effects(*, interventions: list[Intervention], weeks: int = 4,
                         as_of: date | None = None) -> dict[int, Effect]:
    """Attendance rate in the ``weeks`` school weeks before each intervention's start and from it.

    Before: the ``weeks`` school weeks before the week the intervention started in. After: the
    ``weeks`` school weeks from the week it started in (from its start date), up to ``as_of``.
    School weeks come from the LA's term dates; the rate counts every school the pupil was
    marked at. One query for all the interventions given.
    """
    as_of = as_of or timezone.localdate()
    effects: dict[int, Effect] = {}
    if not interventions:
        return effects
    earliest = min(i.start_date for i in interventions)
    latest = max(i.start_date for i in interventions)
    mondays = calendar.school_weeks(start=earliest - timedelta(days=7 * (weeks + 20)),
                                    end=latest + timedelta(days=7 * (weeks + 20)))
    rows = []
    for item in interventions:
        monday = calendar.week_start(item.start_date)
        before = [m for m in mondays if m < monday][-weeks:]
        after = [m for m in mondays if m >= monday][:weeks]
        effect = Effect(weeks=weeks)
        if before:
            effect.before_from = before[0]
            effect.before_to = monday - timedelta(days=1)
        if after and item.start_date <= as_of:
            effect.after_from = item.start_date
            last_day = after[-1] + timedelta(days=6)
            effect.after_complete = len(after) == weeks and last_day <= as_of
            effect.after_to = min(last_day, as_of)
        effects[item.pk] = effect
        rows.append((item.pk, item.case.pupil_id,
                     effect.before_from, effect.before_to, effect.after_from, effect.after_to))
    sql = """
        SELECT w.id,
               count(*) FILTER (WHERE m.date BETWEEN w.b0 AND w.b1 AND c.counts_as_possible),
               count(*) FILTER (WHERE m.date BETWEEN w.b0 AND w.b1 AND c.counts_as_attended),
               count(*) FILTER (WHERE m.date BETWEEN w.a0 AND w.a1 AND c.counts_as_possible),
               count(*) FILTER (WHERE m.date BETWEEN w.a0 AND w.a1 AND c.counts_as_attended)
        FROM unnest(%s::bigint[], %s::bigint[], %s::date[], %s::date[], %s::date[], %s::date[])
             AS w(id, pupil_id, b0, b1, a0, a1)
        JOIN attendance_sessionmark m ON m.pupil_id = w.pupil_id
         AND (m.date BETWEEN w.b0 AND w.b1 OR m.date BETWEEN w.a0 AND w.a1)
        CROSS JOIN LATERAL (VALUES (m.am), (m.pm)) AS x(code)
        JOIN attendance_attendancecode c ON c.code = x.code
        GROUP BY w.id
    """
    columns = list(zip(*rows, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(col) for col in columns])
        for pk, bp, ba, ap, aa in cursor.fetchall():
            effect = effects[pk]
            effect.before_possible, effect.before_attended = bp, ba
            effect.after_possible, effect.after_attended = ap, aa
    return effects


# --- Penalty notice threshold (National Framework, from 19 August 2024) -----------------------

def _threshold_weeks(as_of: date) -> list[date]:
    """Mondays of the school weeks up to as_of, reaching back far enough that a window ending
    in the first week of the academic year still has its ten school weeks."""
    year_start = _year_start(as_of)
    return calendar.school_weeks(start=year_start - timedelta(days=365), end=as_of)


_PER_WEEK_SQL = """
    weeks AS (
        SELECT w.monday, w.n::int AS n
        FROM unnest(%(mondays)s::date[]) WITH ORDINALITY AS w(monday, n)
    ), after AS MATERIALIZED (
        -- unauthorised sessions in as_of's week dated after as_of (none in a nightly run for
        -- today), read through the (school, date) index, not a probe per pupil
        SELECT m.pupil_id, count(*) AS sessions
        FROM attendance_sessionmark m
        CROSS JOIN LATERAL (VALUES (m.am), (m.pm)) AS x(code)
        JOIN attendance_attendancecode c ON c.code = x.code AND c.category = 'unauthorised'
        WHERE m.school_id = ANY(ARRAY(SELECT id FROM schools_school))
          AND m.date > %(as_of)s AND m.date <= %(as_of_week)s::date + 6 {pupil_filter}
        GROUP BY m.pupil_id
    ), per_week AS (
        -- unauthorised sessions (G, N, O, U: AttendanceCode.category) per pupil per school week,
        -- from the weekly counts the marks' triggers keep (attendance_weeklyattendance, every
        -- school and academic year), less the marks of as_of's week dated after as_of
        SELECT pupil_id, n, sum(sessions)::int AS sessions
        FROM (
            SELECT m.pupil_id, wk.n, m.unauthorised AS sessions
            FROM attendance_weeklyattendance m
            JOIN weeks wk ON wk.monday = m.week_start
            WHERE m.week_start BETWEEN %(first_day)s AND %(as_of)s AND m.unauthorised > 0
              {pupil_filter}
            UNION ALL
            SELECT a.pupil_id, wk.n, -a.sessions
            FROM after a JOIN weeks wk ON wk.monday = %(as_of_week)s
        ) t
        GROUP BY pupil_id, n
        HAVING sum(sessions) > 0
    )"""

THRESHOLD_WINDOWS_SQL = f"""
    WITH {_PER_WEEK_SQL}, windows AS (
        -- for each school week W, the sessions in the ten school weeks ending at W: each
        -- week's sessions count in the windows ending in it and the nine weeks after
        SELECT p.pupil_id, w.n, sum(p.sessions)::int AS sessions
        FROM per_week p
        CROSS JOIN LATERAL generate_series(p.n, p.n + %(weeks)s - 1) AS g(n)
        JOIN weeks w ON w.n = g.n
        WHERE w.monday >= %(from_monday)s
        GROUP BY p.pupil_id, w.n
    )
    SELECT win.pupil_id, win.n, ws.monday AS window_start,
           LEAST(we.monday + 6, %(as_of)s) AS window_end, win.sessions
    FROM windows win
    JOIN weeks we ON we.n = win.n
    JOIN weeks ws ON ws.n = GREATEST(1, win.n - (%(weeks)s - 1))
    WHERE win.sessions >= %(threshold)s
"""

# Episodes without listing every window: a window's sessions change only where a week with
# sessions enters it (week n) or leaves it (week n + 10), so between two such points every
# window holds the same count, and an episode is a run of adjacent points at the threshold.
EPISODES_SQL = f"""
    WITH {_PER_WEEK_SQL}, deltas AS (
        SELECT pupil_id, n AS point, sessions AS delta FROM per_week
        UNION ALL
        SELECT pupil_id, n + %(weeks)s, -sessions FROM per_week
        WHERE n + %(weeks)s <= %(current_n)s
    ), points AS (
        -- the sessions in the window ending at ``point``, and at every week up to next_point
        SELECT pupil_id, point,
               (sum(sum(delta)) OVER (PARTITION BY pupil_id ORDER BY point))::int AS sessions,
               lead(point) OVER (PARTITION BY pupil_id ORDER BY point) AS next_point
        FROM deltas
        GROUP BY pupil_id, point
    ), hits AS (
        SELECT pupil_id, sessions, GREATEST(point, %(from_n)s) AS first_n,
               coalesce(next_point - 1, %(current_n)s) AS last_n
        FROM points
        WHERE sessions >= %(threshold)s AND coalesce(next_point - 1, %(current_n)s) >= %(from_n)s
    ), islands AS (
        SELECT h.*, count(*) FILTER (WHERE h.prev_last IS DISTINCT FROM h.first_n - 1)
                        OVER (PARTITION BY h.pupil_id ORDER BY h.first_n) AS island
        FROM (SELECT *, lag(last_n) OVER (PARTITION BY pupil_id ORDER BY first_n) AS prev_last
              FROM hits) h
    ), episodes AS (
        SELECT pupil_id, min(first_n) AS first_n, max(last_n) AS last_n,
               (array_agg(sessions ORDER BY first_n))[1] AS first_sessions,
               (array_agg(sessions ORDER BY first_n DESC))[1] AS latest_sessions
        FROM islands
        GROUP BY pupil_id, island
    )
    SELECT e.pupil_id,
           fs.monday AS first_window_start, LEAST(fe.monday + 6, %(as_of)s) AS first_window_end,
           e.first_sessions,
           ls.monday AS latest_window_start, LEAST(le.monday + 6, %(as_of)s) AS latest_window_end,
           e.latest_sessions,
           e.last_n = %(current_n)s AS current
    FROM episodes e
    JOIN weeks fe ON fe.n = e.first_n
    JOIN weeks fs ON fs.n = GREATEST(1, e.first_n - (%(weeks)s - 1))
    JOIN weeks le ON le.n = e.last_n
    JOIN weeks ls ON ls.n = GREATEST(1, e.last_n - (%(weeks)s - 1))
    ORDER BY e.pupil_id, e.first_n
"""


def threshold_params(*, as_of: date, from_day: date | None = None,
                     pupil_ids: list[int] | None = None) -> tuple[dict, str]:
    mondays = _threshold_weeks(as_of)
    from_day = from_day or _year_start(as_of)
    params = {
        "mondays": mondays,
        "first_day": mondays[0] if mondays else as_of,
        "as_of": as_of,
        "weeks": THRESHOLD_WEEKS,
        "threshold": THRESHOLD_SESSIONS,
        "from_monday": calendar.week_start(from_day),
        "as_of_week": calendar.week_start(as_of),
        "current_n": len(mondays),
        # the first school week whose window counts (n is 1-based)
        "from_n": 1 + sum(monday < calendar.week_start(from_day) for monday in mondays),
        "pupil_ids": pupil_ids or [],
    }
    return params, ("AND m.pupil_id = ANY(%(pupil_ids)s)" if pupil_ids is not None else "")


def penalty_threshold_windows(*, as_of: date, from_day: date | None = None,
                              pupil_ids: list[int] | None = None) -> list[dict]:
    """Every (pupil, school week W) whose ten school weeks ending at W hold 10 or more
    unauthorised sessions, with the window and the count. Unscoped: callers scope the pupils."""
    params, pupil_filter = threshold_params(as_of=as_of, from_day=from_day, pupil_ids=pupil_ids)
    if not params["mondays"]:
        return []
    with connection.cursor() as cursor:
        cursor.execute(THRESHOLD_WINDOWS_SQL.format(pupil_filter=pupil_filter)
                       + " ORDER BY win.pupil_id, win.n", params)
        return [{"pupil_id": r[0], "window_start": r[2], "window_end": r[3], "sessions": r[4]}
                for r in cursor.fetchall()]


def penalty_threshold_episodes(*, as_of: date, from_day: date | None = None,
                               pupil_ids: list[int] | None = None) -> list[dict]:
    """One row per episode: a run of consecutive school weeks whose windows reach the threshold.
    Gives the first window that reached it and the latest; ``current`` when the run includes the
    school week of as_of."""
    params, pupil_filter = threshold_params(as_of=as_of, from_day=from_day, pupil_ids=pupil_ids)
    if not params["mondays"]:
        return []
    names = ["pupil_id", "first_window_start", "first_window_end", "first_sessions",
             "latest_window_start", "latest_window_end", "latest_sessions", "current"]
    with connection.cursor() as cursor:
        cursor.execute(EPISODES_SQL.format(pupil_filter=pupil_filter), params)
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def penalty_threshold_list(*, user, as_of: date | None = None) -> list[dict]:
    """Episodes this academic year for the pupils whose cases the user may read."""
    as_of = as_of or timezone.localdate()
    pupils = casework_pupils(user=user)
    ids = None if user.is_manager else list(pupils.values_list("pk", flat=True))
    if ids == []:
        return []
    episodes = penalty_threshold_episodes(as_of=as_of, pupil_ids=ids)
    by_id = Pupil.objects.in_bulk([e["pupil_id"] for e in episodes])
    for episode in episodes:
        episode["pupil"] = by_id[episode["pupil_id"]]
    episodes.sort(key=lambda e: (not e["current"], e["pupil"].surname, e["pupil"].forename))
    return episodes


# --- Oversight lists ---------------------------------------------------------------------------

def with_review_dates(items: QuerySet[Intervention]) -> QuerySet[Intervention]:
    """Annotate ``last_reviewed_on`` and ``next_review_due``: the latest recorded review's next
    review date, or the intervention's own review date before any review is recorded."""
    latest = InterventionReview.objects.filter(intervention=OuterRef("pk")).order_by(
        "-reviewed_on", "-recorded_at", "-pk")
    return items.annotate(
        last_reviewed_on=Subquery(latest.values("reviewed_on")[:1]),
        next_review_due=SqlCase(
            When(Exists(latest), then=Subquery(latest.values("next_review_date")[:1])),
            default=F("review_date")),
    )


def intervention_next_review_due(intervention: Intervention) -> date | None:
    latest = intervention.reviews.order_by("-reviewed_on", "-recorded_at", "-pk").first()
    return latest.next_review_date if latest else intervention.review_date


def part_time_timetables(*, user, today: date | None = None) -> QuerySet[Intervention]:
    """C2 timetables on the cases the user may read: current ones, and ended ones this year,
    with the date the next review is due (``with_review_dates``)."""
    today = today or timezone.localdate()
    return (
        with_review_dates(Intervention.objects.filter(case__in=case_list(user=user),
                                                      type=InterventionType.PART_TIME))
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=_year_start(today)))
        .select_related("case", "case__pupil", "owner")
        .order_by(F("next_review_due").asc(nulls_last=True), "pk")
    )


# Register codes for a pupil educated off site: B (any other approved educational activity; before
# 2024/25 "educated off site, not dual registration") and K (education provision arranged by the
# LA). Both count as present (DOMAIN.md).
OFF_SITE_CODES = ("B", "K")


@dataclass
class OffSite:
    """One row of the alternative provision list: a pupil educated somewhere else, where, since
    when, and their attendance there since it started."""

    pupil: Pupil
    start: date
    end: date | None = None
    planned_end: date | None = None
    where: str = ""
    where_school: School | None = None  # whose marks give "attendance there" (None: all)
    placement: Intervention | None = None
    dual: Enrolment | None = None
    marks_school: School | None = None  # the school whose register has the B/K marks
    codes: set = field(default_factory=set)
    case: Case | None = None
    possible: int = 0
    attended: int = 0
    off_site_sessions: int = 0

    @property
    def reasons(self) -> list[str]:
        found = []
        if self.placement is not None:
            found.append("Alternative provision placement")
        if self.dual is not None:
            found.append("Dual registration")
        if self.codes:
            found.append(" and ".join(sorted(self.codes)) + " marks")
        return found

    @property
    def rate(self) -> float | None:
        return 100 * self.attended / self.possible if self.possible else None

    @property
    def attendance_from(self) -> str:
        if self.where_school is not None:
            return f"marks at {self.where_school.name}"
        return "all the pupil's marks"


def alternative_provision(*, user, today: date | None = None) -> list[OffSite]:
    """Pupils educated off site this academic year, in the user's casework scope:

    - alternative provision placements recorded on cases (current or ended this year);
    - pupils with B or K marks this year (off site, approved or LA-arranged provision), where no
      placement to a provider that is not a school already accounts for them;
    - dual registration: a subsidiary enrolment (at a PRU or AP school) open this year.

    "Attendance there" is counted from the marks since the placement started (to its end or
    today): at the provider when it is a school on our list (a placement or the subsidiary
    school), at the school whose register has the B/K marks for those, and from all the pupil's
    marks for a provider that is not a school (its sessions are marked B or K by the school).
    """
    today = today or timezone.localdate()
    year_start = _year_start(today)
    year = AcademicYear.start_year_for(today)
    pupils = casework_pupils(user=user, today=today)
    rows: list[OffSite] = []

    placements = list(
        Intervention.objects.filter(case__in=case_list(user=user, today=today),
                                    type=InterventionType.AP)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=year_start))
        .filter(start_date__lte=today)
        .select_related("case", "case__pupil", "owner", "provider_school")
    )
    for item in placements:
        rows.append(OffSite(
            pupil=item.case.pupil, case=item.case, placement=item, start=item.start_date,
            end=item.end_date, planned_end=item.planned_end_date,
            where=item.provider_school.name if item.provider_school else item.provider_name,
            where_school=item.provider_school,
        ))

    duals = (Enrolment.objects.filter(pupil__in=pupils,
                                      registration=Enrolment.Registration.SUBSIDIARY_DUAL,
                                      start_date__lte=today)
             .filter(Q(end_date__isnull=True) | Q(end_date__gte=year_start))
             .select_related("pupil", "school"))
    for enrolment in duals:
        same = next((r for r in rows if r.pupil.pk == enrolment.pupil_id
                     and r.where_school is not None and r.where_school.pk == enrolment.school_id
                     and r.dual is None), None)
        if same is not None:
            same.dual = enrolment
            continue
        rows.append(OffSite(pupil=enrolment.pupil, dual=enrolment, start=enrolment.start_date,
                            end=enrolment.end_date, where=enrolment.school.name,
                            where_school=enrolment.school))

    # B/K marks this year, found from the per-year code counts the marks' triggers keep.
    pairs: dict[tuple[int, int], set] = {}
    for pupil_id, school_id, code in MarkCount.objects.filter(
            academic_year=year, code__in=OFF_SITE_CODES, sessions__gt=0,
            pupil_id__in=pupils.values("pk")).values_list("pupil_id", "school_id", "code"):
        pairs.setdefault((pupil_id, school_id), set()).add(code)
    if pairs:
        first_marks = _first_off_site_marks(pairs, since=year_start, today=today)
        by_pupil = Pupil.objects.in_bulk({p for p, _ in first_marks})
        schools = School.objects.in_bulk({s for _, s in first_marks})
        for (pupil_id, school_id), first in sorted(first_marks.items()):
            codes = pairs[(pupil_id, school_id)]
            host = next((r for r in rows if r.pupil.pk == pupil_id and r.placement is not None
                         and r.where_school is None), None)
            if host is not None:  # a provider that is not a school: its sessions are B or K
                host.codes |= codes
                host.marks_school = schools[school_id]
                continue
            rows.append(OffSite(pupil=by_pupil[pupil_id], start=first, codes=set(codes),
                                marks_school=schools[school_id],
                                where=f"Off site (on the register of {schools[school_id].name})",
                                where_school=schools[school_id]))

    if not rows:
        return rows
    _off_site_attendance(rows, today=today)
    visible = {}
    for case in case_list(user=user, today=today).filter(
            pupil_id__in={r.pupil.pk for r in rows}).order_by("opened_at", "pk"):
        if case.status != Case.Status.CLOSED or case.pupil_id not in visible:
            visible[case.pupil_id] = case
    for row in rows:
        row.case = row.case or visible.get(row.pupil.pk)
    rows.sort(key=lambda r: (r.pupil.surname, r.pupil.forename, r.pupil.pk, r.start))
    return rows


def _first_off_site_marks(pairs: dict, *, since: date, today: date) -> dict:
    """The first B or K mark this year of each (pupil, school): when the off-site provision
    started, as far as the register shows."""
    keys = list(pairs)
    sql = """
        SELECT m.pupil_id, m.school_id, min(m.date)
        FROM unnest(%s::bigint[], %s::bigint[]) AS p(pupil_id, school_id)
        JOIN attendance_sessionmark m ON m.pupil_id = p.pupil_id AND m.school_id = p.school_id
         AND m.date BETWEEN %s AND %s
        WHERE m.am = ANY(%s) OR m.pm = ANY(%s)
        GROUP BY m.pupil_id, m.school_id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [[k[0] for k in keys], [k[1] for k in keys], since, today,
                             list(OFF_SITE_CODES), list(OFF_SITE_CODES)])
        return {(p, s): first for p, s, first in cursor.fetchall()}


def _off_site_attendance(rows: list[OffSite], *, today: date) -> None:
    """Possible and attended sessions, and B/K sessions, from each row's start to its end (or
    today): at ``where_school``, or at every school when it is None. One query for all rows."""
    sql = """
        SELECT w.n,
               count(*) FILTER (WHERE c.counts_as_possible),
               count(*) FILTER (WHERE c.counts_as_attended),
               count(*) FILTER (WHERE x.code = ANY(%s))
        FROM unnest(%s::int[], %s::bigint[], %s::bigint[], %s::date[], %s::date[])
             AS w(n, pupil_id, school_id, d0, d1)
        JOIN attendance_sessionmark m ON m.pupil_id = w.pupil_id
         AND m.date BETWEEN w.d0 AND w.d1 AND (w.school_id IS NULL OR m.school_id = w.school_id)
        CROSS JOIN LATERAL (VALUES (m.am), (m.pm)) AS x(code)
        JOIN attendance_attendancecode c ON c.code = x.code
        GROUP BY w.n
    """
    params = [list(OFF_SITE_CODES), list(range(len(rows))), [r.pupil.pk for r in rows],
              [r.where_school.pk if r.where_school else None for r in rows],
              [r.start for r in rows], [min(r.end, today) if r.end else today for r in rows]]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for n, possible, attended, off_site in cursor.fetchall():
            rows[n].possible, rows[n].attended, rows[n].off_site_sessions = (
                possible, attended, off_site)


def under_twenty_percent(*, user, today: date | None = None) -> QuerySet[PupilSummary]:
    """City-wide summaries (all the pupil's schools) of pupils attending under 20% this year."""
    today = today or timezone.localdate()
    year = AcademicYear.start_year_for(today)
    return (
        PupilSummary.objects.filter(school__isnull=True, academic_year=year, possible__gt=0,
                                    pupil__in=city_pupils(user=user, today=today))
        .annotate(attended_x5=F("attended") * 5)
        .filter(attended_x5__lt=F("possible"))  # attended/possible < 20%, on whole numbers
        .annotate(rate_permille=F("attended") * 1000 / F("possible"))
        .select_related("pupil")
    )


def possibly_missing_education(*, user, today: date | None = None,
                               school_days: int = 10) -> list[dict]:
    """Pupils on a school's roll today with no mark at all for the last ten school days.

    A child on roll with no marks (not even an absence code) for two school weeks may be
    missing education: the school's data has stopped mentioning them. Set-based: one query.
    """
    today = today or timezone.localdate()
    days = calendar.school_days(start=today - timedelta(days=120), end=today)
    if len(days) < school_days:
        return []
    since = days[-school_days]
    pupils = city_pupils(user=user, today=today)
    sql = """
        SELECT e.pupil_id, e.school_id, max(lm.last_date) AS last_mark
        FROM pupils_enrolment e
        LEFT JOIN LATERAL (
            SELECT max(m.date) AS last_date FROM attendance_sessionmark m
            WHERE m.pupil_id = e.pupil_id AND m.date <= %(today)s
        ) lm ON TRUE
        WHERE e.start_date <= %(since)s AND (e.end_date IS NULL OR e.end_date >= %(today)s)
          AND (lm.last_date IS NULL OR lm.last_date < %(since)s)
          AND EXISTS (SELECT 1 FROM attendance_sessionmark s
                      WHERE s.school_id = e.school_id AND s.date >= %(since)s
                        AND s.date <= %(today)s)
          {scope}
        GROUP BY e.pupil_id, e.school_id
    """
    # Only schools that did send marks in the period: a silent school is a different alert.
    params = {"today": today, "since": since}
    scope = ""
    if not has_casework_role(user):
        return []
    if not user.is_manager and not user.is_la_officer:
        params["ids"] = list(pupils.values_list("pk", flat=True))
        scope = "AND e.pupil_id = ANY(%(ids)s)"
    with connection.cursor() as cursor:
        cursor.execute(sql.format(scope=scope), params)
        rows = cursor.fetchall()
    pupils_by_id = Pupil.objects.in_bulk([r[0] for r in rows])
    schools = School.objects.in_bulk([r[1] for r in rows])
    result = [{"pupil": pupils_by_id[p], "school": schools[s], "last_mark": last, "since": since}
              for p, s, last in rows]
    result.sort(key=lambda r: (r["school"].name, r["pupil"].surname, r["pupil"].forename))
    return result


def penalty_notice_list(*, user) -> QuerySet[PenaltyNotice]:
    return (PenaltyNotice.objects.filter(pupil__in=casework_pupils(user=user))
            .select_related("pupil", "case", "recorded_by"))
