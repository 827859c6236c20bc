"""The city dashboard: figures checked against an independent pandas computation from raw marks,
who may see it, small-number suppression and safe CSV."""

import csv
import io
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
import pytest
from django.http import Http404
from django.urls import reverse

from attendance.bands import band_for
from attendance.classification import pupils_reclassify
from attendance.models import AttendanceCode, SessionMark
from reports.exports import dashboard_rows, neutralise, suppress_row
from reports.models import BenchmarkFigure
from reports.selectors import city_dashboard
from tests.attendance.test_classification import write_marks
from tests.factories import (
    CharacteristicsFactory,
    EnrolmentFactory,
    LocalityFactory,
    PupilFactory,
    SchoolFactory,
    academic_year_2025,
)

pytestmark = pytest.mark.django_db

# (phase of school, sex, fsm, sen, year group, codes) – 40 sessions each unless shorter
PUPILS = [
    ("primary", "F", True, "N", "5", ["/"] * 40),
    ("primary", "M", False, "K", "5", ["/"] * 38 + ["I", "I"]),
    ("primary", "F", True, "E", "6", ["/"] * 30 + ["O"] * 6 + ["M"] * 4),
    ("primary", "M", False, "N", "6", ["/"] * 36 + ["G", "N", "C2", "U"]),
    ("primary", "F", False, "N", "3", ["/"] * 20 + ["N"] * 20),
    ("primary", "M", True, "K", "4", ["/"] * 35 + ["I"] * 3 + ["X", "Y1"]),
    ("secondary", "F", True, "N", "7", ["/"] * 32 + ["O"] * 8),
    ("secondary", "M", False, "N", "8", ["/"] * 39 + ["L"]),
    ("secondary", "M", True, "E", "9", ["/"] * 10 + ["O"] * 30),
    ("secondary", "F", False, "K", "10", ["/"] * 37 + ["B", "M", "I"]),
    ("secondary", "M", False, "N", "11", ["/"] * 28 + ["E"] * 12),
    ("special", "F", True, "E", "8", ["/"] * 24 + ["I"] * 16),
]


def _half_up(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@pytest.fixture
def small_city(db):
    academic_year_2025()
    north, south = LocalityFactory(name="North"), LocalityFactory(name="South")
    schools = {
        "primary": SchoolFactory(phase="primary", locality=north),
        "secondary": SchoolFactory(phase="secondary", locality=south),
        "special": SchoolFactory(phase="special", locality=north),
    }
    last = date(2025, 9, 3)
    for number, (phase, sex, fsm, sen, year_group, codes) in enumerate(PUPILS):
        # Surnames that cannot occur in the page's own words, so the leak check below is exact.
        pupil = PupilFactory(sex=sex, surname=f"Qzsurname{number:02d}")
        EnrolmentFactory(pupil=pupil, school=schools[phase])
        CharacteristicsFactory(pupil=pupil, effective_date=date(2025, 9, 1), fsm=fsm, sen=sen,
                               year_group=year_group, ethnicity="WBRI")
        last = max(last, write_marks(pupil, schools[phase], codes))
    pupils_reclassify(as_of=last)
    return schools


def _expected_from_marks() -> pd.DataFrame:
    """Per-pupil figures straight from SessionMark rows and the code table, not the summaries."""
    marks = pd.DataFrame(SessionMark.objects.values("pupil_id", "school__phase", "am", "pm"))
    sessions = marks.melt(id_vars=["pupil_id", "school__phase"], value_vars=["am", "pm"],
                          value_name="code").dropna(subset=["code"])
    codes = pd.DataFrame(AttendanceCode.objects.values(
        "code", "counts_as_possible", "counts_as_attended", "category"))
    sessions = sessions.merge(codes, on="code", how="left", validate="many_to_one")
    sessions["authorised"] = sessions["category"].eq("authorised") & sessions["counts_as_possible"]
    sessions["unauthorised"] = (sessions["category"].eq("unauthorised")
                                & sessions["counts_as_possible"])
    per_pupil = sessions.groupby(["pupil_id", "school__phase"]).agg(
        possible=("counts_as_possible", "sum"), attended=("counts_as_attended", "sum"),
        authorised=("authorised", "sum"), unauthorised=("unauthorised", "sum"),
    ).reset_index()
    per_pupil["band"] = [int(band_for(attended=a, possible=p))
                         for a, p in zip(per_pupil["attended"], per_pupil["possible"], strict=True)]
    return per_pupil


def _rates(frame: pd.DataFrame) -> dict:
    possible = frame["possible"].sum()
    return {
        "pupils": len(frame),
        "attendance": _half_up(Decimal(int(frame["attended"].sum()) * 100) / int(possible)),
        "absence": _half_up(Decimal(int(possible - frame["attended"].sum()) * 100) / int(possible)),
        "authorised": _half_up(Decimal(int(frame["authorised"].sum()) * 100) / int(possible)),
        "unauthorised": _half_up(Decimal(int(frame["unauthorised"].sum()) * 100) / int(possible)),
        "pa": _half_up(Decimal(int((frame["band"] >= 3).sum()) * 100) / len(frame)),
        "sa": _half_up(Decimal(int((frame["band"] == 5).sum()) * 100) / len(frame)),
        "bands": [int((frame["band"] == b).sum()) for b in range(1, 6)],
    }


def _cell_rates(cell) -> dict:
    return {"pupils": cell.pupils, "attendance": cell.attendance_rate,
            "absence": cell.absence_rate, "authorised": cell.authorised_rate,
            "unauthorised": cell.unauthorised_rate, "pa": cell.pa_rate, "sa": cell.sa_rate,
            "bands": cell.bands}


def test_it_matches_an_independent_computation_from_the_raw_marks(small_city, manager):
    expected = _expected_from_marks()
    dashboard = city_dashboard(user=manager, academic_year=2025, filters={})

    assert _cell_rates(dashboard["headline"]) == _rates(expected)
    phases = {c.key: c for c in dashboard["breakdowns"][0]["cells"]}
    for phase, frame in expected.groupby("school__phase"):
        assert _cell_rates(phases[phase]) == _rates(frame), phase


def test_it_filters_by_phase_and_characteristic(small_city, manager):
    expected = _expected_from_marks()
    secondary = city_dashboard(user=manager, academic_year=2025, filters={"phase": "secondary"})
    assert _cell_rates(secondary["headline"]) == _rates(
        expected[expected["school__phase"] == "secondary"])
    fsm = city_dashboard(user=manager, academic_year=2025, filters={"characteristic": "fsm"})
    assert fsm["headline"].pupils == sum(1 for p in PUPILS if p[2])
    ehcp = city_dashboard(user=manager, academic_year=2025, filters={"characteristic": "ehcp"})
    assert ehcp["headline"].pupils == sum(1 for p in PUPILS if p[3] == "E")


def test_it_breaks_down_by_characteristics_with_benchmarks(small_city, manager):
    dashboard = city_dashboard(user=manager, academic_year=2025, filters={})
    by_key = {b["key"]: {c.key: c for c in b["cells"]} for b in dashboard["breakdowns"]}
    assert by_key["fsm"]["yes"].pupils == 6
    assert by_key["sex"]["F"].pupils == 6
    assert by_key["ehcp"]["yes"].pupils == 3
    assert by_key["sen_support"]["yes"].pupils == 3
    assert by_key["year_group"]["8"].pupils == 2
    assert by_key["ethnicity"]["white_british"].pupils == 12
    assert {c.label for c in by_key["locality"].values()} == {"North", "South"}
    assert by_key["fsm"]["yes"].benchmark("pa") == Decimal("24.4")
    assert dashboard["headline"].benchmark("absence", "statistical_neighbour") == Decimal("4.8")


def test_it_seeds_the_benchmarks_with_their_source(db):
    figure = BenchmarkFigure.objects.get(measure="absence", breakdown="phase:secondary",
                                         area="statistical_neighbour", period="full_year")
    assert (figure.value, figure.academic_year) == (Decimal("5.7"), "2020/21")
    assert "Attendance Strategy" in figure.source
    assert BenchmarkFigure.objects.filter(period="autumn_term").count() == 16


# --- who may see it ---------------------------------------------------------------------------

def test_it_refuses_a_social_worker_with_404(small_city, social_worker, client):
    with pytest.raises(Http404):
        city_dashboard(user=social_worker, academic_year=2025)
    client.force_login(social_worker)
    assert client.get(reverse("reports:city")).status_code == 404
    assert client.get(reverse("reports:city_csv")).status_code == 404


def test_it_sends_an_anonymous_visitor_to_sign_in(client):
    response = client.get(reverse("reports:city"))
    assert response.status_code == 302
    assert "/accounts/login" in response["Location"] or "login" in response["Location"]


def test_it_shows_a_school_lead_the_city_only_in_aggregate(small_city, school_lead, client):
    client.force_login(school_lead)
    response = client.get(reverse("reports:city"), {"academic_year": 2025})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="headline-pupils">12<' in html
    from pupils.models import Pupil
    for pupil in Pupil.objects.all():
        assert pupil.upn not in html and pupil.surname not in html
    for school in small_city.values():
        assert school.name not in html


def test_it_shows_a_manager_charts_with_tables_and_the_nav_item(small_city, manager, client):
    client.force_login(manager)
    response = client.get(reverse("reports:city"), {"academic_year": 2025})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-figure="chart-bands"' in html
    assert '<script id="chart-bands" type="application/json">' in html
    assert 'data-testid="chart-bands-table"' in html
    assert 'data-testid="chart-phase-absence-table"' in html
    assert "plotly/plotly.min.js" in html and "js/charts.js" in html
    assert ">Dashboards<" in html
    assert "<script>" not in html  # CSP: no inline script


def test_it_shows_no_dashboards_nav_item_to_a_social_worker(social_worker, client):
    client.force_login(social_worker)
    assert ">Dashboards<" not in client.get(reverse("home")).content.decode()


def test_it_ignores_unknown_filter_values(small_city, manager, client):
    client.force_login(manager)
    response = client.get(reverse("reports:city"), {"academic_year": "1999", "phase": "castle",
                                                    "locality": "x", "characteristic": "nope"})
    assert response.status_code == 200


# --- exports ----------------------------------------------------------------------------------

def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_it_suppresses_groups_under_five_pupils_only_in_the_external_export(
        small_city, manager, client):
    client.force_login(manager)
    url = reverse("reports:city_csv")
    internal = _csv(client.get(url, {"academic_year": 2025}))
    external = _csv(client.get(url, {"academic_year": 2025, "external": "1"}))
    special_internal = next(r for r in internal if r[:2] == ["Phase", "Special"])
    special_external = next(r for r in external if r[:2] == ["Phase", "Special"])
    assert special_internal[2] == "1"
    assert special_external[2:15] == ["c"] * 13
    assert special_external[15] == "15.2"  # published benchmark stays
    primary_external = next(r for r in external if r[:2] == ["Phase", "Primary"])
    assert primary_external[2] == "6"
    assert next(r for r in external if r[0] == "All pupils")[2] == "12"


def test_suppress_row_leaves_zero_and_five_alone():
    row = ["Phase", "X", "4", "10", "90.0"]
    assert suppress_row(row, 4, figures=slice(2, 5)) == ["Phase", "X", "c", "c", "c"]
    assert suppress_row(row, 5, figures=slice(2, 5)) == row
    assert suppress_row(row, 0, figures=slice(2, 5)) == row


@pytest.mark.parametrize(("value", "safe"), [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+1", "'+1"), ("-2", "'-2"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"), ("North", "North"), ("92.5", "92.5"), ("", ""),
])
def test_neutralise_stops_formulas(value, safe):
    assert neutralise(value) == safe


def test_it_neutralises_a_formula_in_a_locality_name(small_city, manager, client):
    locality = small_city["secondary"].locality
    locality.name = "=cmd|' /C calc'!A0"
    locality.save()
    client.force_login(manager)
    rows = _csv(client.get(reverse("reports:city_csv"), {"academic_year": 2025}))
    assert ["Locality", "'=cmd|' /C calc'!A0"] in [r[:2] for r in rows]


def test_dashboard_rows_have_a_header_and_one_row_per_group(small_city, manager):
    dashboard = city_dashboard(user=manager, academic_year=2025)
    rows = dashboard_rows(dashboard, external=False)
    assert rows[0][0] == "Breakdown"
    assert len(rows) == 2 + sum(len(b["cells"]) for b in dashboard["breakdowns"])
