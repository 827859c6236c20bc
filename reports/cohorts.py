"""Cohort dashboards (issue 8): the Virtual School (children looked after), children with a social
worker (CIN, CP), SEND (EHC plan, SEN support), the Y6→Y7 transition and pupils under 20%.

A cohort is a condition on the city dashboard's per-pupil CTE (``reports.selectors.base_cte``),
so its figures come from the same nightly summaries in the same way; no SQL is copied.

Who sees what (``cohort_scope``):
- administrators, managers: the city's cohort, every school in the school breakdown, every pupil;
- LA officers: the city's cohort in aggregate; schools and pupils of their linked schools only;
- school leads: the city's cohort in aggregate with groups of 1 to 4 pupils shown as "c" (the
  page is school-facing); their own school's row and pupils only;
- social workers: their caseload only (figures computed over the pupils allocated to them today,
  headline "Your caseload"), never the city's figures; national benchmarks are still shown;
- anyone else: 404.
"""

import re
from dataclasses import dataclass

from django.db import connection
from django.http import Http404

from attendance.bands import Band
from reports.selectors import (
    SUPPRESSED,
    SUPPRESSION_THRESHOLD,
    Cell,
    _benchmarks,
    _labels,
    base_cte,
    figure_rows,
    filter_conditions,
    group_label,
    make_cell,
    sort_cells,
)
from schools.models import School


@dataclass(frozen=True)
class Cohort:
    slug: str
    title: str
    label: str  # the headline row: "Children looked after"
    description: str
    condition: str = ""  # SQL on the base CTE's columns; empty for the transition cohort
    parts: tuple = ()  # (key, label, condition): groups shown separately as well as together
    benchmark: str = ""  # BenchmarkFigure breakdown key for the whole cohort


COHORTS = {c.slug: c for c in [
    Cohort("cla", "Virtual School: children looked after", "Children looked after",
           "Pupils recorded as looked after (CLA) in their latest census snapshot.",
           "cla = 'yes'", benchmark="cla:yes"),
    Cohort("cin-cp", "Children with a social worker", "Child in need or protection plan",
           "Pupils recorded as a child in need (CIN) or with a child protection plan (CP), "
           "each group on its own and both together.",
           "(cin = 'yes' OR cp = 'yes')",
           parts=(("cin", "Child in need", "cin = 'yes'"),
                  ("cp", "Child protection plan", "cp = 'yes'"))),
    Cohort("send", "Special educational needs: EHC plan and SEN support",
           "EHC plan or SEN support",
           "Pupils with an education, health and care plan (SEN status E) or at SEN support "
           "(SEN status K), each group on its own and both together.",
           "(ehcp = 'yes' OR sen_support = 'yes')",
           parts=(("ehcp", "EHC plan", "ehcp = 'yes'"),
                  ("sen_support", "SEN support", "sen_support = 'yes'"))),
    Cohort("transition", "Year 6 to Year 7 transition", "Year 7 pupils who were in Year 6",
           "Pupils in Year 7 this year who had an attendance figure in the city last year "
           "(in Year 6, or with no census snapshot dated last year): their city-wide rate last "
           "year against this year to date, by the school they left and the school they "
           "joined."),
    Cohort("under-20", "Pupils under 20% attendance", "Under 20% attendance",
           "Pupils whose city-wide attendance this year to date is below 20% (19.99% is in, "
           "20.00% is not), decided on session counts, never on a rounded rate.",
           "5 * attended < possible"),
]}

BREAKDOWNS = {"phase": "Phase", "year_group": "Year group", "school": "School"}


def cohort_scope(user) -> str | None:
    """``"city"`` (the city's cohort), ``"caseload"`` (social workers: their caseload) or None."""
    if not (user.is_authenticated and user.is_active):
        return None
    if user.sees_everything or user.is_la_officer or user.is_school_lead:
        return "city"
    if user.is_social_worker:
        return "caseload"
    return None


def suppressed_on_screen(user) -> bool:
    """School leads see the city's cohorts with small groups suppressed (school-facing)."""
    return not (user.sees_everything or user.is_la_officer) and user.is_school_lead


def _cohort(slug: str) -> Cohort:
    if slug not in COHORTS:
        raise Http404("No such cohort")
    return COHORTS[slug]


def _caseload_restriction(user, params: dict) -> str:
    from pupils.selectors import caseload_allocations

    params["caseload"] = list(caseload_allocations(user=user).values_list("pupil_id", flat=True))
    return "s.pupil_id = ANY(%(caseload)s)"


def _visible_school_ids(user, scope: str) -> set[int] | None:
    """Schools whose row the user may see in the school breakdown (None: every school)."""
    from schools.selectors import school_list

    if scope == "caseload" or user.sees_everything:
        return None
    return set(school_list(user=user).values_list("pk", flat=True))


def _school_labels(keys) -> dict[str, str]:
    ids = [int(k) for k in keys if k.isdigit()]
    return {str(pk): name for pk, name in School.objects.filter(pk__in=ids).values_list(
        "pk", "name")}


def _prepare(*, user, slug: str, academic_year: int, filters: dict | None):
    scope = cohort_scope(user)
    if scope is None:
        raise Http404("No cohort dashboards for this user")
    cohort = _cohort(slug)
    filters = {k: v for k, v in (filters or {}).items() if k in ("phase", "locality")}
    params = {"year": academic_year}
    where = filter_conditions(filters, params)
    restrict = _caseload_restriction(user, params) if scope == "caseload" else ""
    return scope, cohort, filters, params, where, restrict


def cohort_dashboard(*, user, slug: str, academic_year: int, filters: dict | None = None) -> dict:
    """One cohort's figures for an academic year (year to date), scoped to the user.

    Returns ``headline`` (the cohort), ``parts`` (its groups on their own, e.g. CIN and CP),
    ``city`` (every pupil under the same filters; None for a caseload), ``breakdowns`` (phase,
    year group, school: schools limited to those the user may see) and, for the transition
    cohort, ``transition`` (see ``transition_figures``). Http404 for users without a scope or an
    unknown slug.
    """
    scope, cohort, filters, params, where, restrict = _prepare(
        user=user, slug=slug, academic_year=academic_year, filters=filters)
    result = {
        "cohort": cohort, "academic_year": academic_year, "filters": filters, "scope": scope,
        "suppressed": scope == "city" and suppressed_on_screen(user),
        "schools_limited": _visible_school_ids(user, scope) is not None,
        "headline": None, "parts": [], "city": None, "breakdowns": [], "transition": None,
    }
    if cohort.slug == "transition":
        result["transition"] = transition_figures(
            user=user, scope=scope, params=params, where=where, restrict=restrict)
        result["headline"] = result["transition"]["after"]
        if scope == "city":
            rows = figure_rows(params=params, totals={"city": where}, where=where, breakdowns=[])
            result["city"] = make_cell(rows[0], label="All pupils in the city",
                                       benchmarks=_benchmarks().get("all", {}))
        return result

    totals = {"all": [*where, cohort.condition]}
    for key, _, condition in cohort.parts:
        totals[key] = [*where, condition]
    if scope == "city":
        totals["city"] = where
    rows = figure_rows(params=params, totals=totals, where=[*where, cohort.condition],
                       breakdowns=BREAKDOWNS, restrict=restrict)
    benchmarks, labels = _benchmarks(), _labels()
    labels["school"] = _school_labels(r["key"] for r in rows if r["breakdown"] == "school")
    visible = _visible_school_ids(user, scope)
    part_labels = {key: label for key, label, _ in cohort.parts}
    parts = {}
    groups = {b: [] for b in BREAKDOWNS}
    for row in rows:
        breakdown, key = row["breakdown"], row["key"]
        if breakdown == "all":
            if key == "all":
                label = "Your caseload" if scope == "caseload" else cohort.label
                result["headline"] = make_cell(row, label=label, benchmarks=benchmarks.get(
                    cohort.benchmark, {}))
            elif key == "city":
                result["city"] = make_cell(row, label="All pupils in the city",
                                           benchmarks=benchmarks.get("all", {}))
            else:
                parts[key] = make_cell(row, label=part_labels[key],
                                       benchmarks=benchmarks.get(f"{key}:yes", {}))
            continue
        if breakdown == "school" and visible is not None and (
                not key.isdigit() or int(key) not in visible):
            continue
        groups[breakdown].append(make_cell(row, label=group_label(labels, breakdown, key),
                                           benchmarks={}))
    result["parts"] = [parts[key] for key, _, _ in cohort.parts]
    for breakdown, cells in groups.items():
        if breakdown == "school":
            cells.sort(key=lambda c: (c.key == "unknown", c.label))
        else:
            sort_cells(breakdown, cells)
    result["breakdowns"] = [{"key": b, "title": BREAKDOWNS[b], "cells": groups[b]}
                            for b in BREAKDOWNS]
    return result


def cohort_dashboard_cached(*, user, slug: str, academic_year: int,
                            filters: dict | None = None) -> dict:
    """``cohort_dashboard``, kept per scope until the next run or import (reports.caching); the
    page, its CSVs and the API share the entry."""
    from reports.caching import cached_for_latest_run, scope_key

    if cohort_scope(user) is None:
        raise Http404("No cohort dashboards for this user")
    filters = filters or {}
    return cached_for_latest_run(
        ["cohort", slug, academic_year, scope_key(user), sorted(filters.items())],
        lambda: cohort_dashboard(user=user, slug=slug, academic_year=academic_year,
                                 filters=filters))


# --- Y6 -> Y7 transition ------------------------------------------------------------------------

_TRANSITION_JOIN = """
  FROM (SELECT * FROM base {where}) a
  JOIN before b ON b.pupil_id = a.pupil_id
 WHERE a.year_group = '7' AND (b.year_group = '6' OR NOT b.dated_snapshot)
"""


def _transition_ctes(restrict: str) -> str:
    year7 = "s.pupil_id IN (SELECT pupil_id FROM base WHERE year_group = '7')"
    before_restrict = f"({restrict}) AND {year7}" if restrict else year7
    return ("WITH " + base_cte(restrict=restrict) + ",\n"
            + base_cte("before", year="previous_year", restrict=before_restrict))


class _Sums:
    """Figures of a group of transition pupils, one year at a time."""

    FIELDS = ("possible", "attended", "authorised", "unauthorised")

    def __init__(self):
        self.pupils = 0
        self.values = dict.fromkeys(self.FIELDS, 0)
        self.bands = [0] * 5

    def add(self, row: dict, prefix: str) -> None:
        self.pupils += row["pupils"]
        for name in self.FIELDS:
            self.values[name] += row[f"{prefix}{name}"] or 0
        band = row[f"{prefix}band"]
        if band:
            self.bands[band - 1] += row["pupils"]

    def cell(self, *, breakdown: str, key: str, label: str, benchmarks: dict) -> Cell:
        return Cell(breakdown=breakdown, key=key, label=label, pupils=self.pupils,
                    pa=sum(self.bands[2:]), sa=self.bands[4], bands=list(self.bands),
                    benchmarks=benchmarks, **self.values)


def transition_figures(*, user, scope: str, params: dict, where: list[str],
                       restrict: str) -> dict:
    """Last year (``before``) and this year to date (``after``) for the same pupils: headline
    cells, rows by the school they were at last year and by the school they are at now, and the
    band movement (counts from each band last year to each band this year)."""
    params = {**params, "previous_year": params["year"] - 1}
    sql = _transition_ctes(restrict) + """
SELECT b.school AS from_school, a.school AS to_school, b.band AS before_band,
       a.band AS after_band, count(*) AS pupils,
       sum(b.possible) AS before_possible, sum(b.attended) AS before_attended,
       sum(b.authorised) AS before_authorised, sum(b.unauthorised) AS before_unauthorised,
       sum(a.possible) AS after_possible, sum(a.attended) AS after_attended,
       sum(a.authorised) AS after_authorised, sum(a.unauthorised) AS after_unauthorised
""" + _TRANSITION_JOIN.format(where=f"WHERE {' AND '.join(where)}" if where else "") + """
 GROUP BY 1, 2, 3, 4
"""

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = [c.name for c in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]

    benchmarks = _benchmarks()
    before, after = _Sums(), _Sums()
    by_from: dict[str, tuple[_Sums, _Sums]] = {}
    by_to: dict[str, tuple[_Sums, _Sums]] = {}
    movement = [[0] * 5 for _ in range(5)]
    for row in rows:
        before.add(row, "before_")
        after.add(row, "after_")
        for table, key in ((by_from, row["from_school"]), (by_to, row["to_school"])):
            pair = table.setdefault(key, (_Sums(), _Sums()))
            pair[0].add(row, "before_")
            pair[1].add(row, "after_")
        movement[row["before_band"] - 1][row["after_band"] - 1] += row["pupils"]

    visible = _visible_school_ids(user, scope)
    names = _school_labels(set(by_from) | set(by_to))

    def school_rows(table, breakdown):
        out = []
        for key, (b, a) in table.items():
            if visible is not None and (not key.isdigit() or int(key) not in visible):
                continue
            label = names.get(key, "Not recorded")
            out.append({"key": key, "label": label,
                        "before": b.cell(breakdown=breakdown, key=key, label=label, benchmarks={}),
                        "after": a.cell(breakdown=breakdown, key=key, label=label, benchmarks={})})
        out.sort(key=lambda r: (r["key"] == "unknown", r["label"]))
        return out

    last, this = "Last year (Year 6)", "This year (Year 7)"
    if scope == "caseload":
        last, this = "Your caseload: last year (Year 6)", "Your caseload: this year (Year 7)"
    return {
        "before": before.cell(breakdown="all", key="before", label=last,
                              benchmarks=benchmarks.get("year_group:6", {})),
        "after": after.cell(breakdown="all", key="after", label=this,
                            benchmarks=benchmarks.get("year_group:7", {})),
        "by_from": school_rows(by_from, "from_school"),
        "by_to": school_rows(by_to, "to_school"),
        "movement": [{"band": Band(n + 1), "counts": movement[n]} for n in range(5)],
        "improved": sum(movement[i][j] for i in range(5) for j in range(5) if j < i),
        "same": sum(movement[i][i] for i in range(5)),
        "worse": sum(movement[i][j] for i in range(5) for j in range(5) if j > i),
    }


# --- the cohort's pupils -----------------------------------------------------------------------

def _positional(sql: str, params: dict) -> tuple[str, list]:
    """Named ``%(x)s`` parameters to positional ``%s`` ones (for ``RawSQL`` in a queryset)."""
    values = []

    def replace(match):
        values.append(params[match.group(1)])
        return "%s"

    return re.sub(r"%\((\w+)\)s", replace, sql), values


def cohort_pupils(*, user, slug: str, academic_year: int, filters: dict | None = None):
    """The cohort's pupils the user may see (``pupil_list`` via
    ``attendance.selectors.pupil_table_with_attendance``) with their figures for the year:
    everyone for managers, their schools' pupils for officers and school leads, their caseload
    for social workers."""
    from attendance.selectors import pupil_table_with_attendance
    from reports.caching import cached_for_latest_run, scope_key

    scope, cohort, filters, params, where, restrict = _prepare(
        user=user, slug=slug, academic_year=academic_year, filters=filters)
    if cohort.slug == "transition":
        params = {**params, "previous_year": academic_year - 1}
        sql = (_transition_ctes(restrict) + "SELECT a.pupil_id"
               + _TRANSITION_JOIN.format(where=f"WHERE {' AND '.join(where)}" if where else ""))
    else:
        conditions = [*where, cohort.condition]
        sql = ("WITH " + base_cte(restrict=restrict) + "SELECT pupil_id FROM base WHERE "
               + " AND ".join(conditions))
    sql, values = _positional(sql, params)

    def members():
        with connection.cursor() as cursor:
            cursor.execute(sql, values)
            return [row[0] for row in cursor.fetchall()]

    # The members (ids only) are cached per scope until the next run or import; the table itself
    # is still read through pupil_table_with_attendance, so who may see whom is decided there.
    ids = cached_for_latest_run(
        ["cohort-pupils", slug, academic_year, scope_key(user), sorted((filters or {}).items())],
        members)
    return pupil_table_with_attendance(user=user, academic_year=academic_year).filter(
        pk__in=ids)


# --- small-number suppression on screen and in external exports ---------------------------------

def shown(value, pupils: int, suppress: bool):
    """``value`` as displayed: "c" when suppressing and the group has 1 to 4 pupils."""
    if suppress and 0 < pupils < SUPPRESSION_THRESHOLD:
        return SUPPRESSED
    return value


# --- tables: what the page shows under each chart and what each CSV holds -----------------------

RATE_HEADER = ["Pupils", "Attendance %", "Overall absence %", "Authorised absence %",
               "Unauthorised absence %", "Persistent absence %", "Severe absence %"]
BENCHMARK_HEADER = ["National overall absence %", "Statistical neighbours overall absence %",
                    "National persistent absence %", "National severe absence %",
                    "National unauthorised absence %", "South West persistent absence %",
                    "South West severe absence %", "South West unauthorised absence %"]
BAND_NAMES = [f"{b.value}. {b.label}" for b in Band]


def _blank(value):
    return "" if value is None else value


def _rates(cell: Cell, suppress: bool) -> list:
    values = [cell.pupils, cell.attendance_rate, cell.absence_rate, cell.authorised_rate,
              cell.unauthorised_rate, cell.pa_rate, cell.sa_rate]
    return [shown(_blank(v), cell.pupils, suppress) for v in values]


def _benchmark_values(cell: Cell) -> list:
    return [_blank(cell.benchmark("absence")),
            _blank(cell.benchmark("absence", "statistical_neighbour")),
            _blank(cell.benchmark("pa")), _blank(cell.benchmark("sa")),
            _blank(cell.benchmark("unauthorised")), _blank(cell.benchmark("pa", "region")),
            _blank(cell.benchmark("sa", "region")),
            _blank(cell.benchmark("unauthorised", "region"))]


def _count(value: int, suppress: bool):
    return shown(value, value, suppress)


def cohort_tables(dashboard: dict, *, suppress: bool) -> list[dict]:
    """The dashboard's tables as ``{key, title, header, rows}`` (rows of plain values), the same
    for the page and the CSV downloads; with ``suppress``, groups of 1 to 4 pupils read "c"."""
    tables = []
    headline, city = dashboard["headline"], dashboard["city"]
    transition = dashboard["transition"]
    if transition:
        cells = [transition["before"], transition["after"]] + ([city] if city else [])
    else:
        cells = [headline, *dashboard["parts"]] + ([city] if city else [])
    tables.append({
        "key": "headline", "title": "Headline figures",
        "header": ["Group", *RATE_HEADER, *BENCHMARK_HEADER],
        "rows": [[c.label, *_rates(c, suppress), *_benchmark_values(c)] for c in cells],
    })
    if transition:
        before, after = transition["before"], transition["after"]
        tables.append({
            "key": "bands", "title": "Pupils by absence band, last year and this year",
            "header": ["Band", "Last year (Year 6)", "This year (Year 7)"],
            "rows": [[name, _count(b, suppress), _count(a, suppress)]
                     for name, b, a in zip(BAND_NAMES, before.bands, after.bands, strict=True)],
        })
        tables.append({
            "key": "movement", "title": "Band movement: band last year (rows) to band this year",
            "header": ["Band last year", *[f"Now {n}" for n in range(1, 6)]],
            "rows": [[BAND_NAMES[r["band"] - 1], *[_count(n, suppress) for n in r["counts"]]]
                     for r in transition["movement"]],
        })
        for key, title, heading in (("from", "By the school they left (last year)", "School left"),
                                    ("to", "By the school they joined (this year)",
                                     "School joined")):
            tables.append({
                "key": f"by_{key}", "title": title,
                "header": [heading, "Pupils", "Attendance % last year",
                           "Attendance % this year", "Persistent absence % last year",
                           "Persistent absence % this year"],
                "rows": [[r["label"], *[shown(_blank(v), r["after"].pupils, suppress) for v in (
                    r["after"].pupils, r["before"].attendance_rate, r["after"].attendance_rate,
                    r["before"].pa_rate, r["after"].pa_rate)]]
                    for r in transition[f"by_{key}"]],
            })
        return tables

    header = ["Band", headline.label] + [c.label for c in dashboard["parts"]] + (
        [city.label] if city else [])
    tables.append({
        "key": "bands", "title": "Pupils by absence band", "header": header,
        "rows": [[name] + [_count(c.bands[i], suppress)
                           for c in [headline, *dashboard["parts"]] + ([city] if city else [])]
                 for i, name in enumerate(BAND_NAMES)],
    })
    for breakdown in dashboard["breakdowns"]:
        tables.append({
            "key": breakdown["key"], "title": f"By {breakdown['title'].lower()}",
            "header": [breakdown["title"], *RATE_HEADER, *[f"Band {n}" for n in range(1, 6)]],
            "rows": [[c.label, *_rates(c, suppress),
                      *[shown(_count(n, suppress), c.pupils, suppress) for n in c.bands]]
                     for c in breakdown["cells"]],
        })
    return tables


# --- downloads: the tables as a workbook, the pupil list as CSV ---------------------------------

PUPIL_HEADER = ["Name", "UPN", "Year group", "Current school", "Attendance", "Band"]


def cohort_sheets(dashboard: dict, *, suppress: bool) -> list[tuple[str, list, list[list]]]:
    """``cohort_tables`` as (title, header, rows) for ``reports.xlsx.workbook_bytes``: a sheet
    per table, blanks as empty cells (the page's "–")."""
    return [(table["title"], table["header"],
             [[None if v == "" else v for v in row] for row in table["rows"]])
            for table in cohort_tables(dashboard, suppress=suppress)]


def pupil_rows(pupils) -> list[list[str]]:
    """The pupil list's rows as the page shows them (``cohort_pupils`` rows, in order)."""
    from attendance.bands import rate_text

    rows = []
    for pupil in pupils:
        year = pupil.year_group
        band = Band(pupil.att_band) if pupil.att_band else None
        rows.append([
            f"{pupil.surname}, {pupil.forename}", pupil.upn,
            ("Reception" if year == "R" else f"Year {year}") if year else "",
            pupil.current_school_name or "Not on a school roll",
            rate_text(attended=pupil.att_attended, possible=pupil.att_possible)
            if pupil.att_possible else "",
            f"Band {band.value}: {band.label}" if band else "",
        ])
    return rows
