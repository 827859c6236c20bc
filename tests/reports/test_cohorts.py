"""Cohort dashboards: each cohort's figures against an independent pandas computation from the
raw marks, the Y6→Y7 before/after figures, the under-20% boundary, small-number suppression
and safe CSV. Who may see what is in test_cohort_permissions.py."""

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pandas as pd
import pytest
from django.http import Http404
from django.urls import reverse

from attendance.classification import pupils_reclassify
from attendance.models import PupilSummary, SessionMark
from reports.cohorts import COHORTS, cohort_dashboard, cohort_pupils
from reports.models import BenchmarkFigure
from schools.models import AcademicYear, Term
from tests.attendance.test_classification import write_marks
from tests.factories import (
    CharacteristicsFactory,
    EnrolmentFactory,
    LocalityFactory,
    PupilFactory,
    SchoolFactory,
    academic_year_2025,
)
from tests.reports.test_city_dashboard import _expected_from_marks, _rates

pytestmark = pytest.mark.django_db

# (school, year group, characteristics, codes): 40 sessions each unless shorter.
PUPILS = [
    ("primary", "5", {"cla": True}, ["/"] * 40),
    ("primary", "6", {"cla": True, "sen": "E"}, ["/"] * 30 + ["O"] * 6 + ["I"] * 4),
    ("secondary", "9", {"cla": True}, ["/"] * 6 + ["O"] * 34),  # 15%: under 20%
    ("primary", "3", {"cin": True}, ["/"] * 36 + ["G", "N", "C2", "U"]),
    ("secondary", "8", {"cin": True, "sen": "K"}, ["/"] * 8 + ["O"] * 32),  # 20.00%: not under
    ("secondary", "10", {"cp": True}, ["/"] * 20 + ["N"] * 20),
    ("primary", "4", {"cin": True, "cp": True}, ["/"] * 35 + ["I"] * 3 + ["X", "Y1"]),
    ("secondary", "7", {"sen": "E"}, ["/"] * 32 + ["O"] * 8),
    ("special", "8", {"sen": "E"}, ["/"] * 24 + ["I"] * 16),
    ("secondary", "11", {"sen": "K"}, ["/"] * 37 + ["B", "M", "I"]),
    ("primary", "2", {"sen": "K"}, ["/"] * 7 + ["O"] * 33),  # 17.5%: under 20%
    ("secondary", "7", {}, ["/"] * 39 + ["L"]),
    ("primary", "1", {}, ["/"] * 38 + ["I", "I"]),
]


@pytest.fixture
def cohort_city(db):
    academic_year_2025()
    north, south = LocalityFactory(name="North"), LocalityFactory(name="South")
    schools = {
        "primary": SchoolFactory(phase="primary", locality=north, name="Qzprimary School"),
        "secondary": SchoolFactory(phase="secondary", locality=south, name="Qzsecondary School"),
        "special": SchoolFactory(phase="special", locality=north, name="Qzspecial School"),
    }
    flags = {}
    last = date(2025, 9, 3)
    for number, (phase, year_group, chars, codes) in enumerate(PUPILS):
        pupil = PupilFactory(surname=f"Qzcohort{number:02d}")
        EnrolmentFactory(pupil=pupil, school=schools[phase])
        CharacteristicsFactory(pupil=pupil, effective_date=date(2025, 9, 1),
                               year_group=year_group, **chars)
        flags[pupil.pk] = {"cla": False, "cin": False, "cp": False, "sen": "N",
                           "year_group": year_group, **chars}
        last = max(last, write_marks(pupil, schools[phase], codes))
    pupils_reclassify(as_of=last)
    return schools, flags


def _expected(flags) -> pd.DataFrame:
    frame = _expected_from_marks()
    for column in ("cla", "cin", "cp", "sen", "year_group"):
        frame[column] = frame["pupil_id"].map(lambda pk, c=column: flags[pk][c])
    frame["under_20"] = frame["attended"] * 5 < frame["possible"]
    return frame


def _cell_rates(cell) -> dict:
    return {"pupils": cell.pupils, "attendance": cell.attendance_rate,
            "absence": cell.absence_rate, "authorised": cell.authorised_rate,
            "unauthorised": cell.unauthorised_rate, "pa": cell.pa_rate, "sa": cell.sa_rate,
            "bands": cell.bands}


COHORT_MASKS = {
    "cla": lambda f: f["cla"],
    "cin-cp": lambda f: f["cin"] | f["cp"],
    "send": lambda f: f["sen"].isin(["E", "K"]),
    "under-20": lambda f: f["under_20"],
}
PART_MASKS = {
    "cin-cp": [lambda f: f["cin"], lambda f: f["cp"]],
    "send": [lambda f: f["sen"] == "E", lambda f: f["sen"] == "K"],
}


@pytest.mark.parametrize("slug", list(COHORT_MASKS))
def test_each_cohort_matches_an_independent_computation_from_the_raw_marks(
        cohort_city, manager, slug):
    schools, flags = cohort_city
    expected = _expected(flags)
    cohort = expected[COHORT_MASKS[slug](expected)]
    dashboard = cohort_dashboard(user=manager, slug=slug, academic_year=2025)

    assert _cell_rates(dashboard["headline"]) == _rates(cohort)
    assert _cell_rates(dashboard["city"]) == _rates(expected)
    for part, mask in zip(dashboard["parts"], PART_MASKS.get(slug, []), strict=True):
        assert _cell_rates(part) == _rates(expected[mask(expected)]), part.label
    by = {b["key"]: {c.key: c for c in b["cells"]} for b in dashboard["breakdowns"]}
    for phase, frame in cohort.groupby("school__phase"):
        assert _cell_rates(by["phase"][phase]) == _rates(frame), phase
    for year_group, frame in cohort.groupby("year_group"):
        assert _cell_rates(by["year_group"][year_group]) == _rates(frame), year_group
    ids = {str(s.pk): phase for phase, s in schools.items()}
    assert {ids[k] for k in by["school"]} == set(cohort["school__phase"])
    assert set(cohort_pupils(user=manager, slug=slug, academic_year=2025).values_list(
        "pk", flat=True)) == set(cohort["pupil_id"])


def test_the_cohorts_have_the_expected_sizes(cohort_city, manager):
    sizes = {slug: cohort_dashboard(user=manager, slug=slug, academic_year=2025)[
        "headline"].pupils for slug in COHORT_MASKS}
    assert sizes == {"cla": 3, "cin-cp": 4, "send": 6, "under-20": 2}


def test_it_compares_cohorts_with_the_published_benchmarks(cohort_city, manager):
    cla = cohort_dashboard(user=manager, slug="cla", academic_year=2025)
    assert cla["headline"].benchmark("absence") == Decimal("5.1")  # 2020/21, seed 000
    # 2022/23 (seed 001) is later than 2020/21's 30.4: the latest full year is chosen
    assert cla["headline"].benchmark("pa") == Decimal("20.0")
    assert cla["headline"].benchmark("pa", "region") == Decimal("23.4")
    cin, cp = cohort_dashboard(user=manager, slug="cin-cp", academic_year=2025)["parts"]
    assert (cin.label, cin.benchmark("pa")) == ("Child in need", Decimal("48.8"))
    assert (cp.label, cp.benchmark("absence")) == ("Child protection plan", Decimal("14.8"))
    assert (cp.benchmark("sa"), cp.benchmark("unauthorised", "region")) == (
        Decimal("14.8"), Decimal("13.1"))


def test_the_social_care_figures_come_from_the_001_seed():
    figures = {(f.breakdown, f.measure, f.area): f for f in BenchmarkFigure.objects.filter(
        academic_year="2022/23", breakdown__in=["cin:yes", "cla:yes", "cp:yes"])}
    assert len(figures) == 18  # 3 groups x PA, SA, unauthorised x England, South West
    cla = figures[("cla:yes", "pa", "national")]
    assert (cla.value, cla.period) == (Decimal("20.0"), "full_year")
    assert "CLA 12 months at 31 March" in cla.source and "2022/23" in cla.source
    assert figures[("cin:yes", "sa", "region")].value == Decimal("13.8")
    assert figures[("cp:yes", "unauthorised", "national")].get_area_display() == (
        "National (England)")
    assert BenchmarkFigure.Area("region").label == "Region (South West)"


def test_the_cla_page_shows_the_national_figure_from_the_seed(cohort_city, manager, client):
    client.force_login(manager)
    html = client.get(reverse("reports:cohort", args=["cla"]),
                      {"academic_year": 2025}).content.decode()
    summary = html.split('data-testid="headline-1">')[1].split("</dd>")[0]
    assert "persistent absence 20.0%" in summary and "30.4" not in summary
    table = html.split('data-testid="table-headline"')[1].split("</table>")[0]
    row = table.split("Children looked after")[1].split("</tr>")[0]
    assert ">20.0</td>" in row and ">4.9</td>" in row and ">23.4</td>" in row
    sources = html.split('data-testid="benchmark-sources"')[1].split("</details>")[0]
    assert "persistent absence rate, National (England), 20.0% (2022/23)" in sources
    assert "CLA 12 months at 31 March" in sources
    ehcp, support = cohort_dashboard(user=manager, slug="send", academic_year=2025)["parts"]
    assert ehcp.benchmark("sa") == Decimal("4.5") and support.benchmark("pa") == Decimal("18.9")


def test_it_filters_a_cohort_by_phase_and_locality(cohort_city, manager):
    schools, flags = cohort_city
    expected = _expected(flags)
    secondary = cohort_dashboard(user=manager, slug="send", academic_year=2025,
                                 filters={"phase": "secondary"})
    send = expected[COHORT_MASKS["send"](expected) & (expected["school__phase"] == "secondary")]
    assert _cell_rates(secondary["headline"]) == _rates(send)
    assert secondary["city"].pupils == (expected["school__phase"] == "secondary").sum()
    north = cohort_dashboard(user=manager, slug="cla", academic_year=2025,
                             filters={"locality": schools["primary"].locality_id,
                                      "characteristic": "fsm"})  # ignored on a cohort
    assert north["headline"].pupils == 2


def test_an_unknown_cohort_is_a_404(cohort_city, manager, client):
    with pytest.raises(Http404):
        cohort_dashboard(user=manager, slug="fsm", academic_year=2025)
    client.force_login(manager)
    assert client.get(reverse("reports:cohort", args=["fsm"])).status_code == 404


# --- pupils under 20%: the boundary on session counts -----------------------------------------

def _summary(pupil, *, attended, possible, year=2025):
    from attendance.bands import band_for

    return PupilSummary.objects.create(
        pupil=pupil, school=None, academic_year=year, as_of=date(year + 1, 7, 1),
        possible=possible, attended=attended, authorised=0, unauthorised=possible - attended,
        band=band_for(attended=attended, possible=possible))


def test_under_20_takes_19_99_percent_and_leaves_20_00_percent(manager, school):
    below, at, above = (PupilFactory(surname=f"Qzboundary{n}") for n in range(3))
    for pupil in (below, at, above):
        EnrolmentFactory(pupil=pupil, school=school)
    _summary(below, attended=1999, possible=10000)  # 19.99%
    _summary(at, attended=2000, possible=10000)  # 20.00%
    _summary(above, attended=2001, possible=10000)

    dashboard = cohort_dashboard(user=manager, slug="under-20", academic_year=2025)

    assert dashboard["headline"].pupils == 1
    assert dashboard["headline"].attended == 1999
    assert list(cohort_pupils(user=manager, slug="under-20", academic_year=2025)) == [below]


# --- Y6 -> Y7 transition ------------------------------------------------------------------------

def _year_2026():
    from pupils.demo import TERMS

    year, _ = AcademicYear.objects.get_or_create(
        start_year=2026, defaults={"start_date": date(2026, 9, 1), "end_date": date(2027, 8, 31)})
    for name, start, end, hts, hte in TERMS[2026]:
        Term.objects.get_or_create(academic_year=year, name=name, defaults={
            "start_date": start, "end_date": end, "half_term_start": hts, "half_term_end": hte})


def _weekday_marks(pupil, school, codes, start: date) -> date:
    day, rows = start, []
    for i in range(0, len(codes), 2):
        while day.weekday() >= 5:
            day += timedelta(days=1)
        rows.append(SessionMark(pupil=pupil, school=school, date=day, am=codes[i],
                                pm=codes[i + 1] if i + 1 < len(codes) else None))
        day += timedelta(days=1)
    SessionMark.objects.bulk_create(rows)
    return rows[-1].date


# (primary last year, secondary this year, codes last year, codes this year, year group last year)
TRANSITION = [
    ("north_primary", "secondary", ["/"] * 40, ["/"] * 30 + ["O"] * 10, "6"),
    ("north_primary", "secondary", ["/"] * 38 + ["I"] * 2, ["/"] * 38 + ["I"] * 2, "6"),
    ("south_primary", "secondary", ["/"] * 30 + ["I"] * 10, ["/"] * 40, None),  # no snapshot
    ("south_primary", "other_secondary", ["/"] * 36 + ["O"] * 4, ["/"] * 10 + ["O"] * 30, "6"),
    ("south_primary", "other_secondary", ["/"] * 20 + ["O"] * 20, ["/"] * 16 + ["O"] * 24, "6"),
]


@pytest.fixture
def transition_city(db):
    academic_year_2025()
    _year_2026()
    north, south = LocalityFactory(name="North"), LocalityFactory(name="South")
    schools = {
        "north_primary": SchoolFactory(phase="primary", locality=north, name="Qznorth Primary"),
        "south_primary": SchoolFactory(phase="primary", locality=south, name="Qzsouth Primary"),
        "secondary": SchoolFactory(phase="secondary", locality=north, name="Qznorth Academy"),
        "other_secondary": SchoolFactory(phase="secondary", locality=south,
                                         name="Qzsouth College"),
    }
    pupils = []
    last_before, last_after = date(2025, 9, 3), date(2026, 9, 2)
    for number, (left, joined, before, after, year_before) in enumerate(TRANSITION):
        pupil = PupilFactory(surname=f"Qztransition{number:02d}")
        EnrolmentFactory(pupil=pupil, school=schools[left], start_date=date(2019, 9, 3),
                         end_date=date(2026, 7, 22))
        EnrolmentFactory(pupil=pupil, school=schools[joined], start_date=date(2026, 9, 2))
        if year_before:
            CharacteristicsFactory(pupil=pupil, effective_date=date(2025, 9, 1),
                                   year_group=year_before)
        CharacteristicsFactory(pupil=pupil, effective_date=date(2026, 9, 1), year_group="7")
        last_before = max(last_before, _weekday_marks(pupil, schools[left], before,
                                                      date(2025, 9, 3)))
        last_after = max(last_after, _weekday_marks(pupil, schools[joined], after,
                                                    date(2026, 9, 2)))
        pupils.append(pupil)
    # Not in the cohort: a Year 7 pupil new to the city, a Year 8 pupil, a pupil kept in Year 7.
    newcomer = PupilFactory(surname="Qznewcomer")
    EnrolmentFactory(pupil=newcomer, school=schools["secondary"], start_date=date(2026, 9, 2))
    CharacteristicsFactory(pupil=newcomer, effective_date=date(2026, 9, 1), year_group="7")
    _weekday_marks(newcomer, schools["secondary"], ["/"] * 40, date(2026, 9, 2))
    for surname, before_year, after_year in (("Qzyeareight", "7", "8"), ("Qzheldback", "7", "7")):
        pupil = PupilFactory(surname=surname)
        EnrolmentFactory(pupil=pupil, school=schools["secondary"], start_date=date(2025, 9, 3))
        CharacteristicsFactory(pupil=pupil, effective_date=date(2025, 9, 1),
                               year_group=before_year)
        CharacteristicsFactory(pupil=pupil, effective_date=date(2026, 9, 1),
                               year_group=after_year)
        _weekday_marks(pupil, schools["secondary"], ["/"] * 40, date(2025, 9, 3))
        _weekday_marks(pupil, schools["secondary"], ["O"] * 40, date(2026, 9, 2))
    # Last year classified at its end (31 August, as seed_demo does): after the primary
    # enrolments ended, before the secondary ones began.
    assert last_before < date(2026, 7, 22)
    pupils_reclassify(as_of=date(2026, 8, 31), notify=False)
    pupils_reclassify(as_of=last_after, notify=False)
    return schools, pupils


def _transition_expected(pupils) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = _expected_from_marks_by_year()
    ids = [p.pk for p in pupils]
    frame = frame[frame["pupil_id"].isin(ids)]
    return frame[frame["year"] == 2025], frame[frame["year"] == 2026]


def _expected_from_marks_by_year() -> pd.DataFrame:
    """``_expected_from_marks`` per academic year (the marks of both years are in the table)."""
    from attendance.bands import band_for
    from attendance.models import AttendanceCode

    marks = pd.DataFrame(SessionMark.objects.values("pupil_id", "school_id", "date", "am", "pm"))
    marks["year"] = [d.year if d.month >= 9 else d.year - 1 for d in marks["date"]]
    sessions = marks.melt(id_vars=["pupil_id", "school_id", "year"], value_vars=["am", "pm"],
                          value_name="code").dropna(subset=["code"])
    codes = pd.DataFrame(AttendanceCode.objects.values(
        "code", "counts_as_possible", "counts_as_attended", "category"))
    sessions = sessions.merge(codes, on="code", how="left", validate="many_to_one")
    sessions["authorised"] = sessions["category"].eq("authorised") & sessions["counts_as_possible"]
    sessions["unauthorised"] = (sessions["category"].eq("unauthorised")
                                & sessions["counts_as_possible"])
    per_pupil = sessions.groupby(["pupil_id", "school_id", "year"]).agg(
        possible=("counts_as_possible", "sum"), attended=("counts_as_attended", "sum"),
        authorised=("authorised", "sum"), unauthorised=("unauthorised", "sum"),
    ).reset_index()
    per_pupil["band"] = [int(band_for(attended=a, possible=p))
                         for a, p in zip(per_pupil["attended"], per_pupil["possible"], strict=True)]
    return per_pupil


def test_the_transition_cohort_compares_last_year_with_this_year(transition_city, manager):
    schools, pupils = transition_city
    before, after = _transition_expected(pupils)
    dashboard = cohort_dashboard(user=manager, slug="transition", academic_year=2026)
    transition = dashboard["transition"]

    assert _cell_rates(transition["before"]) == _rates(before)
    assert _cell_rates(transition["after"]) == _rates(after)
    assert dashboard["headline"].pupils == 5
    assert dashboard["city"].pupils == 8  # every pupil with a figure this year

    by_from = {r["label"]: r for r in transition["by_from"]}
    north = before[before["school_id"] == schools["north_primary"].pk]
    assert _cell_rates(by_from["Qznorth Primary"]["before"]) == _rates(north)
    assert by_from["Qznorth Primary"]["after"].pupils == 2
    by_to = {r["label"]: r for r in transition["by_to"]}
    college = after[after["school_id"] == schools["other_secondary"].pk]
    assert _cell_rates(by_to["Qzsouth College"]["after"]) == _rates(college)
    assert set(by_to) == {"Qznorth Academy", "Qzsouth College"}


def test_the_transition_cohort_counts_band_movement(transition_city, manager):
    _, pupils = transition_city
    before, after = _transition_expected(pupils)
    pairs = before[["pupil_id", "band"]].merge(after[["pupil_id", "band"]], on="pupil_id",
                                                suffixes=("_before", "_after"))
    transition = cohort_dashboard(user=manager, slug="transition", academic_year=2026)[
        "transition"]

    for row in transition["movement"]:
        for to_band, count in enumerate(row["counts"], start=1):
            assert count == ((pairs["band_before"] == row["band"])
                             & (pairs["band_after"] == to_band)).sum()
    assert transition["improved"] == (pairs["band_after"] < pairs["band_before"]).sum() == 1
    assert transition["worse"] == (pairs["band_after"] > pairs["band_before"]).sum() == 2
    assert transition["same"] == 2


def test_the_transition_cohort_filters_by_the_school_joined(transition_city, manager):
    schools, _ = transition_city
    south = cohort_dashboard(user=manager, slug="transition", academic_year=2026,
                             filters={"locality": schools["other_secondary"].locality_id})
    assert south["headline"].pupils == 2
    assert [r["label"] for r in south["transition"]["by_from"]] == ["Qzsouth Primary"]


def test_the_transition_page_lists_the_cohort_pupils(transition_city, manager, client):
    _, pupils = transition_city
    client.force_login(manager)
    response = client.get(reverse("reports:cohort", args=["transition"]),
                          {"academic_year": 2026})
    html = response.content.decode()
    assert response.status_code == 200
    for pupil in pupils:
        assert pupil.surname in html
    for surname in ("Qznewcomer", "Qzyeareight", "Qzheldback"):
        assert surname not in html
    assert 'data-testid="table-movement"' in html and 'data-testid="table-by_from"' in html


# --- pages, suppression and CSV -----------------------------------------------------------------

def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.mark.parametrize("slug", list(COHORTS))
def test_every_cohort_page_renders_charts_with_tables_and_no_inline_script(
        cohort_city, manager, client, slug):
    client.force_login(manager)
    response = client.get(reverse("reports:cohort", args=[slug]), {"academic_year": 2025})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<script>" not in html and "style=" not in html
    if slug != "transition":  # no pupils last year in this city
        assert 'data-figure="chart-bands"' in html
        assert '<script id="chart-bands" type="application/json">' in html
        assert 'data-testid="table-bands"' in html and 'data-testid="table-school"' in html


def test_the_index_links_every_cohort(manager, client):
    client.force_login(manager)
    html = client.get(reverse("reports:cohorts")).content.decode()
    for slug in COHORTS:
        assert reverse("reports:cohort", args=[slug]) in html


def test_it_suppresses_groups_under_five_only_in_the_external_csv(cohort_city, manager, client):
    client.force_login(manager)
    url = reverse("reports:cohort_csv", args=["cla"])
    internal = _csv(client.get(url, {"academic_year": 2025, "table": "headline"}))
    external = _csv(client.get(url, {"academic_year": 2025, "table": "headline",
                                     "external": "1"}))
    assert internal[0][:3] == ["Group", "Pupils", "Attendance %"]
    assert internal[1][:2] == ["Children looked after", "3"]
    assert external[1][1:8] == ["c"] * 7
    # published benchmarks stay: 2020/21 absence (seed 000), 2022/23 PA, SA (seed 001) …
    assert external[1][8:16] == ["5.1", "", "20.0", "4.9", "3.0", "23.4", "6.1", "2.9"]
    assert external[2][:2] == ["All pupils in the city", "13"]
    phase = _csv(client.get(url, {"academic_year": 2025, "table": "phase", "external": "1"}))
    assert all(row[1] == "c" for row in phase[1:])  # 2 primary, 1 secondary
    bands = _csv(client.get(url, {"academic_year": 2025, "table": "bands", "external": "1"}))
    city = _rates(_expected(cohort_city[1]))["bands"]
    shown = [("c" if 0 < n < 5 else str(n)) for n in city]
    # CLA: one pupil each in bands 1, 4 and 5; none in 2 and 3 (zero is not suppressed).
    assert [row[1:] for row in bands[1:]] == [
        ["c", shown[0]], ["0", shown[1]], ["0", shown[2]], ["c", shown[3]], ["c", shown[4]]]


def test_an_unknown_table_is_a_404(cohort_city, manager, client):
    client.force_login(manager)
    assert client.get(reverse("reports:cohort_csv", args=["cla"]),
                      {"table": "pupils"}).status_code == 404


def test_it_neutralises_formulas_in_school_names(cohort_city, manager, client):
    schools, _ = cohort_city
    schools["primary"].name = "=HYPERLINK(\"http://x\")"
    schools["primary"].save()
    client.force_login(manager)
    rows = _csv(client.get(reverse("reports:cohort_csv", args=["cla"]),
                           {"academic_year": 2025, "table": "school"}))
    assert "'=HYPERLINK(\"http://x\")" in [r[0] for r in rows]


def test_suppression_hides_small_band_counts_inside_a_large_group():
    from reports.cohorts import cohort_tables
    from reports.selectors import Cell

    def cell(label, pupils, bands):
        return Cell(breakdown="phase", key=label, label=label, pupils=pupils,
                    possible=100 * pupils, attended=90 * pupils, authorised=5 * pupils,
                    unauthorised=5 * pupils, pa=sum(bands[2:]), sa=bands[4], bands=bands)

    cells = [cell("Primary", 10, [8, 2, 0, 0, 0]), cell("Special", 4, [2, 0, 0, 0, 2])]
    dashboard = {"headline": cell("all", 14, [10, 2, 0, 0, 2]), "parts": [], "city": None,
                 "transition": None,
                 "breakdowns": [{"key": "phase", "title": "Phase", "cells": cells}]}
    tables = {t["key"]: t for t in cohort_tables(dashboard, suppress=True)}
    primary, special = tables["phase"]["rows"]
    assert primary[1] == 10 and primary[-5:] == [8, "c", 0, 0, 0]
    assert special[1:] == ["c"] * 12
    assert [row[1] for row in tables["bands"]["rows"]] == [10, "c", 0, 0, "c"]
    unsuppressed = {t["key"]: t for t in cohort_tables(dashboard, suppress=False)}
    assert unsuppressed["phase"]["rows"][1][1:3] == [4, Decimal("90.0")]
