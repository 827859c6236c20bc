"""The quarterly city report (seed 000): one term and the year to date, against national and
statistical-neighbour figures, the band movement since the end of last term, breakdowns by phase
and characteristics, and short generated commentary.

Reads ``reports.TermSummary`` (term figures per pupil, written after each nightly run) and
``attendance.BandHistory``; never the marks.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import connection
from django.http import Http404

from attendance.bands import Band, band_sql
from reports import selectors
from reports.models import BenchmarkFigure
from reports.selectors import Cell, dashboard_allowed

TERM_ORDER = ["autumn", "spring", "summer"]
TERM_LABELS = {"autumn": "Autumn", "spring": "Spring", "summer": "Summer"}
# The breakdowns a quarterly report carries (the seed's tables and charts).
REPORT_BREAKDOWNS = ["phase", "sex", "fsm", "sen_support", "ehcp", "cin", "cp", "cla", "eal",
                     "ethnicity"]
MEASURES = {"absence": ("Overall absence", "absence_rate"),
            "pa": ("Persistent absence", "pa_rate"),
            "sa": ("Severe absence", "sa_rate")}
# "Persistent absence <in secondary schools> is …": how a group reads in a sentence.
PHASE_PHRASES = {"primary": "in primary schools", "secondary": "in secondary schools",
                 "special": "in special schools", "infant": "in infant schools",
                 "junior": "in junior schools", "nursery": "in nursery schools",
                 "all_through": "in all-through schools", "middle": "in middle schools",
                 "ap": "in alternative provision", "pru": "in pupil referral units"}
YES_PHRASES = {"fsm": "for pupils eligible for free school meals",
               "sen_support": "for pupils on SEN support", "ehcp": "for pupils with an EHC plan",
               "cin": "for children in need", "cp": "for children on a child protection plan",
               "cla": "for children looked after",
               "eal": "for pupils with English as an additional language"}

# The pupils' figures summed over the report's terms, banded on the sum.
TERM_SUMMARIES = f"""
  SELECT pupil_id, NULL::bigint AS summary_school, %(as_of)s::date AS as_of,
         sum(possible)::int AS possible,
         sum(attended)::int AS attended, sum(authorised)::int AS authorised,
         sum(unauthorised)::int AS unauthorised,
         {band_sql('sum(attended)', 'sum(possible)')} AS band
    FROM reports_termsummary
   WHERE academic_year = %(year)s AND term = ANY(%(terms)s)
   GROUP BY pupil_id
  HAVING sum(possible) > 0
"""


@dataclass
class Period:
    academic_year: int
    term: str
    start: date
    end: date
    as_of: date | None  # the latest day counted (None: no term summaries yet)

    @property
    def label(self) -> str:
        return f"{TERM_LABELS[self.term]} term {year_label(self.academic_year)}"


def year_label(year: int) -> str:
    return f"{year}/{(year + 1) % 100:02d}"


def report_terms(academic_year: int) -> list:
    from schools.models import Term

    return list(Term.objects.filter(academic_year__start_year=academic_year).order_by(
        "start_date"))


def report_years() -> list[int]:
    from schools.models import AcademicYear

    return list(AcademicYear.objects.filter(terms__isnull=False).values_list(
        "start_year", flat=True).distinct().order_by("-start_year"))


def report_period_default(*, day: date) -> tuple[int, str]:
    """The academic year and term to report on at ``day``: the latest term that has begun."""
    from schools.models import Term

    term = (Term.objects.filter(start_date__lte=day).select_related("academic_year")
            .order_by("-start_date").first())
    if term is None:
        year = day.year if day.month >= 9 else day.year - 1
        return year, "autumn"
    return term.academic_year.start_year, term.name


def _benchmarks(period: str) -> dict:
    return selectors._benchmarks(period)


def _cells(*, year: int, terms: list[str], as_of: date, benchmarks: dict) -> tuple:
    """(headline Cell, {breakdown: [Cell]}) for the pupils' figures summed over ``terms``."""
    rows = selectors.figure_rows(
        params={"year": year, "terms": terms, "as_of": as_of}, totals={"all": []}, where=[],
        breakdowns=REPORT_BREAKDOWNS, summaries=TERM_SUMMARIES)
    labels = selectors._labels()
    headline = None
    groups: dict[str, list[Cell]] = {b: [] for b in REPORT_BREAKDOWNS}
    for row in rows:
        breakdown, key = row["breakdown"], row["key"]
        label = ("All pupils" if breakdown == "all"
                 else selectors.group_label(labels, breakdown, key))
        cell = selectors.make_cell(row, label=label, benchmarks=benchmarks.get(
            "all" if breakdown == "all" else f"{breakdown}:{key}", {}))
        if breakdown == "all":
            headline = cell
        else:
            groups[breakdown].append(cell)
    for breakdown, cells in groups.items():
        selectors.sort_cells(breakdown, cells)
    return headline, groups


def band_movement(*, year: int, now: date, previous_year: int | None,
                  previous_end: date | None) -> dict:
    """Each pupil's city-wide band at ``now`` (their latest band history row this year) against
    their band at the end of the previous term (``previous_end``, in ``previous_year``).
    Returns counts: a 6×5 matrix (rows: band before, 0 = none; columns: band now), and totals
    of pupils better, unchanged, worse and new."""
    with connection.cursor() as cursor:
        cursor.execute("""
            WITH now AS (
              SELECT DISTINCT ON (pupil_id) pupil_id, to_band FROM attendance_bandhistory
               WHERE academic_year = %(year)s AND changed_on <= %(now)s
               ORDER BY pupil_id, changed_on DESC
            ), before AS (
              SELECT DISTINCT ON (pupil_id) pupil_id, to_band FROM attendance_bandhistory
               WHERE academic_year = %(previous_year)s AND changed_on <= %(previous_end)s
               ORDER BY pupil_id, changed_on DESC
            )
            SELECT coalesce(b.to_band, 0), n.to_band, count(*)
              FROM now n LEFT JOIN before b USING (pupil_id)
             WHERE n.to_band IS NOT NULL
             GROUP BY 1, 2
        """, {"year": year, "now": now, "previous_year": previous_year or -1,
              "previous_end": previous_end or date.min})
        rows = cursor.fetchall()
    matrix = [[0] * 5 for _ in range(6)]
    for before, after, n in rows:
        matrix[before][after - 1] = n
    better = sum(matrix[b][a - 1] for b in range(1, 6) for a in range(1, 6) if a < b)
    worse = sum(matrix[b][a - 1] for b in range(1, 6) for a in range(1, 6) if a > b)
    same = sum(matrix[b][b - 1] for b in range(1, 6))
    new = sum(matrix[0])
    return {
        "rows": [{"label": "No band" if b == 0 else f"{b}. {Band(b).label}", "band": b,
                  "counts": matrix[b], "total": sum(matrix[b])} for b in range(6)],
        "columns": [f"{b.value}. {b.label}" for b in Band],
        "column_totals": [sum(matrix[b][a] for b in range(6)) for a in range(5)],
        "better": better, "worse": worse, "same": same, "new": new,
        "pupils": better + worse + same + new,
    }


def _points(value: Decimal, reference: Decimal) -> str:
    difference = value - reference
    if difference == 0:
        return "in line with"
    return f"{abs(difference)} points {'above' if difference > 0 else 'below'}"


def commentary(*, term_cells: tuple, ytd_cells: tuple, term_period: str,
               movement: dict) -> list[str]:
    """Short sentences a report writer would put under the tables, from the figures only."""
    sentences = []
    term_headline, term_groups = term_cells
    ytd_headline, ytd_groups = ytd_cells
    if term_headline and term_headline.pupils:
        sentences.append(
            f"Attendance this term was {term_headline.attendance_rate}% "
            f"(overall absence {term_headline.absence_rate}%); persistent absence "
            f"{term_headline.pa_rate}% and severe absence {term_headline.sa_rate}% of pupils.")
    if ytd_headline and ytd_headline.pupils:
        sentences.append(
            f"Year to date, attendance is {ytd_headline.attendance_rate}% and "
            f"{ytd_headline.pa_rate}% of pupils are persistently absent.")
    # Term figures against term benchmarks where published (autumn), the year to date against
    # full-year ones.
    comparisons = []
    if term_period == BenchmarkFigure.Period.AUTUMN_TERM:
        comparisons.append(("this term", term_headline, term_groups))
    comparisons.append(("year to date", ytd_headline, ytd_groups))
    for when, headline, groups in comparisons:
        if not headline or not headline.pupils:
            continue
        subjects = [("across the city", headline)]
        subjects += [(PHASE_PHRASES.get(c.key, f"in {c.label.lower()}"), c)
                     for c in groups.get("phase", []) if c.key != "unknown"]
        subjects += [(YES_PHRASES[b], c) for b in YES_PHRASES for c in groups.get(b, [])
                     if c.key == "yes"]
        for phrase, cell in subjects:
            for measure, (name, attribute) in MEASURES.items():
                value = getattr(cell, attribute)
                areas = [("national", "national")]
                if cell is headline:  # the city also against its statistical neighbours
                    areas.append(("statistical_neighbour", "statistical neighbours'"))
                for area, area_name in areas:
                    reference = cell.benchmark(measure, area)
                    if value is None or reference is None:
                        continue
                    sentences.append(
                        f"{name} {phrase} is {_points(value, reference)} the {area_name} "
                        f"figure ({reference}%, {cell.benchmarks[measure][area].academic_year}) "
                        f"{when}.")
    if movement["pupils"]:
        sentences.append(
            f"Since the end of last term {movement['worse']} pupils moved into a worse band and "
            f"{movement['better']} into a better one; {movement['same']} stayed in the same band"
            + (f" and {movement['new']} have a band for the first time." if movement["new"]
               else "."))
    return sentences


def quarterly_report(*, user, academic_year: int, term: str) -> dict:
    """The quarterly report for one term of one academic year. Http404 for users who may not see
    the city (the same rule as the city dashboard); ValueError for an unknown term."""
    if not dashboard_allowed(user):
        raise Http404("No report for this user")
    if term not in TERM_ORDER:
        raise ValueError(f"Unknown term {term!r}")
    terms = {t.name: t for t in report_terms(academic_year)}
    if term not in terms:
        raise Http404("No such term in the LA's term dates")
    this = terms[term]
    from reports.models import TermSummary

    as_of = (TermSummary.objects.filter(academic_year=academic_year, term=term)
             .order_by("-as_of").values_list("as_of", flat=True).first())
    period = Period(academic_year, term, this.start_date, this.end_date, as_of)
    counted_to = min(as_of, this.end_date) if as_of else this.end_date
    up_to = [name for name in TERM_ORDER if name in terms
             and terms[name].start_date <= this.start_date]
    term_cells = _cells(year=academic_year, terms=[term], as_of=counted_to,
                        benchmarks=_benchmarks(BenchmarkFigure.Period.AUTUMN_TERM)
                        if term == "autumn" else {})
    ytd_cells = _cells(year=academic_year, terms=up_to, as_of=counted_to,
                       benchmarks=_benchmarks(BenchmarkFigure.Period.FULL_YEAR))

    from schools.models import Term

    previous = (Term.objects.filter(end_date__lt=this.start_date).select_related("academic_year")
                .order_by("-end_date").first())
    movement = band_movement(
        year=academic_year, now=counted_to,
        previous_year=previous.academic_year.start_year if previous else None,
        previous_end=previous.end_date if previous else None)
    term_period = (BenchmarkFigure.Period.AUTUMN_TERM if term == "autumn"
                   else BenchmarkFigure.Period.FULL_YEAR)
    return {
        "period": period,
        "counted_to": counted_to,
        "previous_term": previous,
        "term": {"headline": term_cells[0], "breakdowns": [
            {"key": b, "title": selectors.BREAKDOWNS[b], "cells": term_cells[1][b]}
            for b in REPORT_BREAKDOWNS]},
        "ytd": {"headline": ytd_cells[0], "breakdowns": [
            {"key": b, "title": selectors.BREAKDOWNS[b], "cells": ytd_cells[1][b]}
            for b in REPORT_BREAKDOWNS]},
        "movement": movement,
        "commentary": commentary(term_cells=term_cells, ytd_cells=ytd_cells,
                                 term_period=term_period, movement=movement),
    }
