"""Reads for the schools table (``/reports/schools/``) and the individual school report
(``/reports/schools/<urn>/``), scoped to the user here.

Per-school figures come from the pupils' summaries *at that school* (``attendance_pupilsummary``
rows with ``school`` set), through the same per-pupil CTE as the city dashboard
(``reports.selectors.base_sql``). Weekly figures come from ``attendance_weeklyattendance`` (one
row per pupil, school and week, written by the nightly job), summed per school and week.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.http import Http404

from reports.selectors import (
    _AGGREGATES,
    BREAKDOWNS,
    CHARACTERISTICS,
    SUPPRESSION_THRESHOLD,
    WEEK_SUMS,
    Cell,
    Week,
    _benchmarks,
    base_sql,
    city_dashboard,
    filter_conditions,
    make_week,
    percent,
    where_clause,
)
from schools.models import School
from schools.selectors import school_get, school_list

TREND_WEEKS = 4  # the trend compares the last 4 weeks with marks against the 4 before them
SPARK_WIDTH, SPARK_HEIGHT, SPARK_MIN_SPAN = 100, 28, 5.0


def schools_allowed(user) -> bool:
    """Managers and administrators (every school), LA officers (their link schools) and school
    leads (their own school); social workers have no school figures."""
    return bool(user.is_authenticated and user.is_active and (
        user.sees_everything or user.is_la_officer or user.is_school_lead))


# --- weekly figures ----------------------------------------------------------------------------

@dataclass
class Trend:
    """Attendance over the last ``TREND_WEEKS`` weeks with marks against the weeks before."""

    recent: Decimal
    previous: Decimal

    @property
    def change(self) -> Decimal:
        return self.recent - self.previous

    @property
    def direction(self) -> str:
        return "up" if self.change > 0 else "down" if self.change < 0 else "steady"

    @property
    def words(self) -> str:
        if self.direction == "steady":
            return "no change"
        points = abs(self.change)
        return f"{self.direction} {points} point{'' if points == 1 else 's'}"

    @property
    def arrow(self) -> str:
        return {"up": "↑", "down": "↓", "steady": "→"}[self.direction]


def trend_of(weeks: list[Week], *, window: int = TREND_WEEKS) -> Trend | None:
    """None until there are ``2 × window`` weeks with possible sessions."""
    marked = [w for w in weeks if w.possible]
    if len(marked) < 2 * window:
        return None
    recent, previous = marked[-window:], marked[-2 * window:-window]
    return Trend(
        recent=percent(sum(w.attended for w in recent), sum(w.possible for w in recent)),
        previous=percent(sum(w.attended for w in previous), sum(w.possible for w in previous)),
    )


@dataclass
class Sparkline:
    """An inline SVG polyline of weekly attendance (drawn by attributes only: CSP-safe)."""

    points: str
    low: Decimal
    high: Decimal
    first: Decimal
    last: Decimal
    weeks: int
    width: int = SPARK_WIDTH
    height: int = SPARK_HEIGHT

    @property
    def last_x(self) -> str:
        return self.points.split()[-1].split(",")[0]

    @property
    def last_y(self) -> str:
        return self.points.split()[-1].split(",")[1]


def sparkline_of(weeks: list[Week]) -> Sparkline | None:
    rates = [w.attendance_rate for w in weeks if w.possible]
    if len(rates) < 2:
        return None
    low, high = min(rates), max(rates)
    span = max(float(high - low), SPARK_MIN_SPAN)
    bottom = float(high) - span
    step = (SPARK_WIDTH - 4) / (len(rates) - 1)
    inner = SPARK_HEIGHT - 4
    points = " ".join(
        f"{2 + i * step:.1f},{SPARK_HEIGHT - 2 - (float(r) - bottom) / span * inner:.1f}"
        for i, r in enumerate(rates))
    return Sparkline(points=points, low=low, high=high, first=rates[0], last=rates[-1],
                     weeks=len(rates))


def _weekly(*, academic_year: int, filters: dict, school_ids: list[int]) -> dict[int, list[Week]]:
    """school id -> its weeks in order: Σ over the pupils counted by the filters (the pupils in
    the per-school base, so a characteristic filter applies to the weeks too)."""
    if not school_ids:
        return {}
    params = {"year": academic_year, "schools": school_ids}
    characteristic = {"characteristic": filters["characteristic"]} if filters.get(
        "characteristic") else {}
    pupils = ""
    if characteristic:  # phase and locality are the school's own: school_ids already hold them
        condition = where_clause(filter_conditions(characteristic, params))
        pupils = f"""JOIN (SELECT pupil_id, summary_school FROM base {condition}) b
        ON b.pupil_id = w.pupil_id AND b.summary_school = w.school_id"""
    sql = (base_sql(scope="school_set") if characteristic else "") + f"""
    SELECT w.school_id, w.week_start, {WEEK_SUMS}
      FROM attendance_weeklyattendance w
      {pupils}
     WHERE w.academic_year = %(year)s AND w.school_id = ANY(%(schools)s)
     GROUP BY w.school_id, w.week_start
     ORDER BY w.school_id, w.week_start"""
    found: dict[int, list[Week]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for school_id, *week in cursor:
            found.setdefault(school_id, []).append(make_week(*week))
    return found


# --- the schools table -------------------------------------------------------------------------

@dataclass
class SchoolRow:
    school: School
    cell: Cell
    weeks: list[Week] = field(default_factory=list)
    trend: Trend | None = None
    sparkline: Sparkline | None = None

    @property
    def pk(self):
        return self.school.pk

    def sort_value(self, name: str):
        if name.startswith("band_"):
            return self.cell.bands[int(name[5:]) - 1]
        return _SORT_VALUES[name](self)


_SORT_VALUES = {
    "name": lambda r: r.school.name.lower(),
    "phase": lambda r: r.school.get_phase_display(),
    "locality": lambda r: r.school.locality.name if r.school.locality_id else None,
    "pupils": lambda r: r.cell.pupils,
    "attendance": lambda r: r.cell.attendance_rate,
    "absence": lambda r: r.cell.absence_rate,
    "authorised": lambda r: r.cell.authorised_rate,
    "unauthorised": lambda r: r.cell.unauthorised_rate,
    "pa": lambda r: r.cell.pa_rate,
    "sa": lambda r: r.cell.sa_rate,
    "trend": lambda r: r.trend.change if r.trend else None,
    "pk": lambda r: r.school.pk,
}


class SortableRows:
    """A list of ``SchoolRow`` that ``portal_ui.tables.sorted_paginated`` can order like a
    queryset (``order_by("-attendance", "pk")``); empty figures sort last either way.

    The per-school figures are one SQL aggregate over the summaries (plus the weekly trend),
    which is not a model queryset; a city has a few hundred schools, so ordering them in Python
    is cheap.
    """

    def __init__(self, rows: list[SchoolRow]):
        self.rows = rows

    def order_by(self, *fields: str) -> "SortableRows":
        rows = list(self.rows)
        for name in reversed(fields):  # stable sorts: the last field first
            descending = name.startswith("-")
            values = [(row.sort_value(name.lstrip("-")), row) for row in rows]
            present = [pair for pair in values if pair[0] is not None]
            present.sort(key=lambda pair: pair[0], reverse=descending)
            rows = [row for _, row in present] + [row for value, row in values if value is None]
        return SortableRows(rows)

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, index):
        return self.rows[index]

    def __iter__(self):
        return iter(self.rows)


SORTS = {key: key for key in [
    "name", "phase", "locality", "pupils", "attendance", "absence", "authorised",
    "unauthorised", "pa", "sa", "band_1", "band_2", "band_3", "band_4", "band_5", "trend"]}


def _empty_cell(label: str) -> Cell:
    return Cell(breakdown="school", key="", label=label, pupils=0, possible=0, attended=0,
                authorised=0, unauthorised=0, pa=0, sa=0, bands=[0] * 5)


def schools_table(*, user, academic_year: int, filters: dict | None = None) -> SortableRows:
    """Every school the user may see (``schools.selectors.school_list``) matching the phase and
    locality filters, with its year-to-date figures for the pupils counted (``characteristic``
    filter), its weekly attendance, trend and sparkline. Http404 for social workers."""
    if not schools_allowed(user):
        raise Http404("No school figures for this user")
    filters = filters or {}
    schools = school_list(user=user).select_related("locality").order_by("name")
    if filters.get("phase"):
        schools = schools.filter(phase=filters["phase"])
    if filters.get("locality"):
        schools = schools.filter(locality_id=int(filters["locality"]))
    schools = list(schools)
    ids = [s.pk for s in schools]
    params = {"year": academic_year, "schools": ids}
    condition = where_clause(filter_conditions(filters, params))
    sql = (base_sql(scope="school_set")
           + f"SELECT summary_school, {_AGGREGATES} FROM base {condition} GROUP BY summary_school")
    cells = {}
    if ids:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            columns = [c.name for c in cursor.description]
            for values in cursor.fetchall():
                row = dict(zip(columns, values, strict=True))
                cells[row["summary_school"]] = Cell(
                    breakdown="school", key=str(row["summary_school"]), label="",
                    pupils=row["pupils"], possible=row["possible"] or 0,
                    attended=row["attended"] or 0, authorised=row["authorised"] or 0,
                    unauthorised=row["unauthorised"] or 0, pa=row["pa"], sa=row["sa"],
                    bands=[row[f"band_{n}"] for n in range(1, 6)])
    weekly = _weekly(academic_year=academic_year, filters=filters, school_ids=ids)
    rows = []
    for school in schools:
        cell = cells.get(school.pk) or _empty_cell(school.name)
        cell.label = school.name
        weeks = weekly.get(school.pk, [])
        rows.append(SchoolRow(school=school, cell=cell, weeks=weeks, trend=trend_of(weeks),
                              sparkline=sparkline_of(weeks)))
    return SortableRows(rows)


def schools_table_cached(*, user, academic_year: int, filters: dict | None = None):
    """``schools_table``, kept per scope until the next run or import (reports.caching); the
    page, its downloads and the API share the entry."""
    from reports.caching import cached_for_latest_run, scope_key

    filters = filters or {}
    return cached_for_latest_run(
        ["schools", academic_year, scope_key(user), sorted(filters.items())],
        lambda: schools_table(user=user, academic_year=academic_year, filters=filters))


# --- the individual school report ---------------------------------------------------------------

def _national(benchmarks: dict, school: School, characteristic: str | None) -> tuple[str, dict]:
    """The published figures to set a school against: its characteristic's when filtered, else
    its phase's, else all pupils'."""
    for key in ([f"{characteristic}:yes"] if characteristic else []) + [
            f"phase:{school.phase}", "all"]:
        if key in benchmarks:
            return key, benchmarks[key]
    return "all", {}


def school_report(*, user, urn: str, academic_year: int, filters: dict | None = None) -> dict:
    """Everything the individual school report shows. Http404 when the user may not see the
    school (a school lead reaching another school's URN, a social worker)."""
    if not schools_allowed(user):
        raise Http404("No school report for this user")
    school = school_get(user=user, urn=urn)
    characteristic = (filters or {}).get("characteristic")
    if characteristic and characteristic not in CHARACTERISTICS:
        characteristic = None
    filters = {"characteristic": characteristic} if characteristic else {}
    report = city_dashboard(user=user, academic_year=academic_year, filters=filters,
                            school=school, breakdowns=[b for b in BREAKDOWNS
                                                       if b not in ("phase", "locality")])
    city = city_dashboard(user=user, academic_year=academic_year, filters=filters,
                          breakdowns=("phase",))
    city_phase = next((c for c in city["breakdowns"][0]["cells"] if c.key == school.phase), None)
    national_key, national = _national(_benchmarks(), school, characteristic)
    weeks = _weekly(academic_year=academic_year, filters=filters, school_ids=[school.pk]).get(
        school.pk, [])
    return {
        "school": school,
        "academic_year": academic_year,
        "filters": filters,
        "characteristic_label": CHARACTERISTICS[characteristic][0] if characteristic else None,
        "headline": report["headline"],
        "breakdowns": report["breakdowns"],
        "city": city["headline"],
        "city_phase": city_phase,
        "national_key": national_key,
        "national": national,
        "weeks": weeks,
        "trend": trend_of(weeks),
    }


def school_report_cached(*, user, urn: str, academic_year: int, filters: dict | None = None):
    """``school_report``, kept per scope until the next run or import: the same URN reached by
    another scope is computed (and refused) afresh."""
    from reports.caching import cached_for_latest_run, scope_key

    filters = filters or {}
    return cached_for_latest_run(
        ["school-report", urn, academic_year, scope_key(user), sorted(filters.items())],
        lambda: school_report(user=user, urn=urn, academic_year=academic_year, filters=filters))


def pupils_of_concern(*, user, school: School, academic_year: int):
    """Pupils on the school's roll the user may see in detail (``pupils.selectors.pupil_table``)
    whose attendance at this school is in band 3 to 5 this year, worst first."""
    from django.db.models import F, OuterRef, Subquery

    from attendance.models import PupilSummary
    from pupils.selectors import pupil_table

    summary = PupilSummary.objects.filter(pupil=OuterRef("pk"), school=school,
                                          academic_year=academic_year)
    return (pupil_table(user=user, school=school)
            .annotate(school_band=Subquery(summary.values("band")[:1]),
                      school_possible=Subquery(summary.values("possible")[:1]),
                      school_attended=Subquery(summary.values("attended")[:1]))
            .filter(school_band__gte=3)
            .order_by(F("school_band").desc(), "surname", "forename"))


def suppressed(value, pupils: int, *, threshold: int = SUPPRESSION_THRESHOLD):
    """A figure computed from ``pupils`` pupils, or "c" for a group of 1 to threshold-1."""
    from reports.selectors import SUPPRESSED

    return SUPPRESSED if 0 < pupils < threshold else value
