"""The schools table and the individual school report: figures checked against an independent
pandas computation from the raw marks (per school and per week), sorting, filters, trend and
sparkline, suppression, the downloads (CSV, XLSX) and formula neutralising."""

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pandas as pd
import pytest
from django.urls import reverse
from openpyxl import load_workbook

from attendance.classification import pupils_reclassify
from attendance.models import AttendanceCode, SessionMark
from reports.school_exports import Table, tables_xlsx
from reports.school_report import (
    Week,
    school_report,
    schools_table,
    sparkline_of,
    trend_of,
)
from tests.attendance.test_classification import write_marks
from tests.factories import (
    CharacteristicsFactory,
    EnrolmentFactory,
    PupilFactory,
)
from tests.reports.test_city_dashboard import PUPILS, _expected_from_marks, _rates

pytestmark = pytest.mark.django_db


def _cell(cell) -> dict:
    return {"pupils": cell.pupils, "attendance": cell.attendance_rate,
            "absence": cell.absence_rate, "authorised": cell.authorised_rate,
            "unauthorised": cell.unauthorised_rate, "pa": cell.pa_rate, "sa": cell.sa_rate,
            "bands": cell.bands}


def _weekly_from_marks(school) -> list[tuple[date, int, int]]:
    """(Monday, possible, attended) per week for one school, straight from the marks."""
    marks = pd.DataFrame(SessionMark.objects.filter(school=school).values("date", "am", "pm"))
    sessions = marks.melt(id_vars=["date"], value_vars=["am", "pm"],
                          value_name="code").dropna(subset=["code"])
    codes = pd.DataFrame(AttendanceCode.objects.values(
        "code", "counts_as_possible", "counts_as_attended"))
    sessions = sessions.merge(codes, on="code", how="left", validate="many_to_one")
    sessions["monday"] = [d - timedelta(days=d.weekday()) for d in sessions["date"]]
    weeks = sessions.groupby("monday").agg(possible=("counts_as_possible", "sum"),
                                           attended=("counts_as_attended", "sum"))
    return [(monday, int(row.possible), int(row.attended)) for monday, row in weeks.iterrows()]


# --- figures ------------------------------------------------------------------------------------

def test_the_table_matches_an_independent_computation_per_school(small_city, manager):
    expected = _expected_from_marks()
    rows = {row.school.phase: row for row in schools_table(user=manager, academic_year=2025)}

    assert set(rows) == {"primary", "secondary", "special"}
    for phase, frame in expected.groupby("school__phase"):
        assert _cell(rows[phase].cell) == _rates(frame), phase


def test_the_weeks_match_the_marks_grouped_by_monday(small_city, manager):
    for row in schools_table(user=manager, academic_year=2025):
        assert [(w.week_start, w.possible, w.attended) for w in row.weeks] == \
            _weekly_from_marks(row.school)
        assert all(w.week_start.weekday() == 0 for w in row.weeks)


def test_the_school_report_matches_the_marks_and_sets_the_school_against_the_city(
        small_city, manager):
    expected = _expected_from_marks()
    school = small_city["secondary"]
    report = school_report(user=manager, urn=school.urn, academic_year=2025)

    assert _cell(report["headline"]) == _rates(expected[expected["school__phase"] == "secondary"])
    assert _cell(report["city"]) == _rates(expected)
    assert _cell(report["city_phase"]) == _rates(
        expected[expected["school__phase"] == "secondary"])
    assert report["national_key"] == "phase:secondary"
    assert report["national"]["absence"]["national"].value is not None
    years = {c.key: c.pupils for c in next(
        b for b in report["breakdowns"] if b["key"] == "year_group")["cells"]}
    assert years == {"7": 1, "8": 1, "9": 1, "10": 1, "11": 1}
    assert [(w.week_start, w.possible, w.attended) for w in report["weeks"]] == \
        _weekly_from_marks(school)


def test_the_characteristic_filter_counts_only_those_pupils_in_table_report_and_weeks(
        small_city, manager):
    expected = _expected_from_marks()
    fsm_ids = set(PupilFactory._meta.model.objects.filter(
        characteristics__fsm=True).values_list("pk", flat=True))
    rows = {row.school.phase: row for row in schools_table(
        user=manager, academic_year=2025, filters={"characteristic": "fsm"})}
    for phase, frame in expected[expected["pupil_id"].isin(fsm_ids)].groupby("school__phase"):
        assert _cell(rows[phase].cell) == _rates(frame), phase
    school = small_city["secondary"]
    report = school_report(user=manager, urn=school.urn, academic_year=2025,
                           filters={"characteristic": "fsm"})
    assert report["headline"].pupils == sum(1 for p in PUPILS if p[0] == "secondary" and p[2])
    all_weeks = school_report(user=manager, urn=school.urn, academic_year=2025)["weeks"]
    assert sum(w.possible for w in report["weeks"]) < sum(w.possible for w in all_weeks)


def test_the_phase_and_locality_filters_choose_the_schools(small_city, manager):
    secondary = schools_table(user=manager, academic_year=2025, filters={"phase": "secondary"})
    assert [r.school for r in secondary] == [small_city["secondary"]]
    north = small_city["primary"].locality
    in_north = schools_table(user=manager, academic_year=2025, filters={"locality": north.pk})
    assert {r.school for r in in_north} == {small_city["primary"], small_city["special"]}


def test_a_school_without_summaries_is_listed_with_no_figures(small_city, manager):
    from tests.factories import SchoolFactory

    empty = SchoolFactory(name="Empty Infants")
    row = next(r for r in schools_table(user=manager, academic_year=2025) if r.school == empty)
    assert row.cell.pupils == 0 and row.cell.attendance_rate is None and row.trend is None


# --- trend and sparkline ------------------------------------------------------------------------

def _weeks(rates: list[tuple[int, int]]) -> list[Week]:
    monday = date(2025, 9, 1)
    return [Week(monday + timedelta(weeks=i), possible, attended)
            for i, (possible, attended) in enumerate(rates)]


def test_the_trend_compares_the_last_four_weeks_with_the_four_before():
    weeks = _weeks([(10, 10)] * 4 + [(10, 9)] * 4)  # 100% then 90%
    trend = trend_of(weeks)
    assert (trend.previous, trend.recent, trend.change) == (
        Decimal("100.0"), Decimal("90.0"), Decimal("-10.0"))
    assert trend.words == "down 10.0 points" and trend.direction == "down"
    assert trend_of(_weeks([(10, 9)] * 4 + [(10, 10)] * 4)).words == "up 10.0 points"
    assert trend_of(_weeks([(10, 9)] * 8)).words == "no change"


def test_the_trend_needs_eight_weeks_with_possible_sessions():
    assert trend_of(_weeks([(10, 10)] * 7)) is None
    assert trend_of(_weeks([(10, 10)] * 7 + [(0, 0)])) is None  # a closed week does not count
    assert trend_of(_weeks([(0, 0)] + [(10, 10)] * 8)) is not None


def test_the_sparkline_draws_one_point_per_week_inside_its_box():
    spark = sparkline_of(_weeks([(10, 10), (10, 5), (10, 8)]))
    points = [tuple(map(float, p.split(","))) for p in spark.points.split()]
    assert len(points) == 3
    assert all(0 <= x <= spark.width and 0 <= y <= spark.height for x, y in points)
    assert points[0][1] < points[2][1] < points[1][1]  # 100% highest (smallest y), 50% lowest
    assert (spark.first, spark.last, spark.low, spark.high) == (
        Decimal("100.0"), Decimal("80.0"), Decimal("50.0"), Decimal("100.0"))
    assert sparkline_of(_weeks([(10, 10)])) is None


@pytest.fixture
def eight_weeks(db, school):
    """Hilltop with one pupil present for 4 weeks, then absent 2 sessions a week for 4."""
    from tests.factories import academic_year_2025

    academic_year_2025()
    pupil = PupilFactory(surname="Qztrend")
    EnrolmentFactory(pupil=pupil, school=school)
    CharacteristicsFactory(pupil=pupil, effective_date=date(2025, 9, 1), year_group="4")
    start = date(2025, 9, 8)  # a Monday: 8 full weeks of 10 sessions
    codes = ["/"] * 40 + (["/"] * 8 + ["I", "I"]) * 4
    last = write_marks(pupil, school, codes, start=start)
    pupils_reclassify(as_of=last)
    return school


def test_the_table_shows_the_trend_in_words_and_a_sparkline(eight_weeks, manager, client):
    client.force_login(manager)
    html = client.get(reverse("reports:schools")).content.decode()
    assert "down 20.0 points" in html  # 100% in weeks 1-4, 80% in weeks 5-8
    assert 'data-testid="sparkline"' in html and "<polyline" in html
    assert "style=" not in html.split('data-testid="schools-table"')[1]


# --- sorting and pagination ---------------------------------------------------------------------

def _listed(client, query=""):
    html = client.get(reverse("reports:schools") + query).content.decode()
    return [line.split('data-urn="')[1].split('"')[0] for line in html.splitlines()
            if 'data-urn="' in line]


@pytest.mark.parametrize("sort", ["attendance", "-attendance", "pa", "-pa", "pupils", "-band_5"])
def test_it_sorts_by_any_figure(small_city, manager, client, sort):
    client.force_login(manager)
    rows = list(schools_table(user=manager, academic_year=2025))
    key = sort.lstrip("-")
    expected = sorted(rows, key=lambda r: (r.sort_value(key), r.pk), reverse=False)
    if sort.startswith("-"):
        expected = sorted(rows, key=lambda r: r.sort_value(key), reverse=True)
    assert [r.sort_value(key) for r in expected] == [
        next(r for r in rows if r.school.urn == urn).sort_value(key)
        for urn in _listed(client, f"?sort={sort}")]


def test_it_sorts_by_name_by_default_and_ignores_an_unknown_sort(small_city, manager, client):
    client.force_login(manager)
    by_name = sorted(small_city.values(), key=lambda s: s.name.lower())
    assert _listed(client) == [s.urn for s in by_name]
    assert _listed(client, "?sort=evil") == [s.urn for s in by_name]


def test_empty_figures_sort_last_both_ways(small_city, manager, client):
    from tests.factories import SchoolFactory

    empty = SchoolFactory(name="Aaa Empty")
    client.force_login(manager)
    assert _listed(client, "?sort=attendance")[-1] == empty.urn
    assert _listed(client, "?sort=-attendance")[-1] == empty.urn


def test_it_paginates_past_fifty_schools(db, manager, client):
    from tests.factories import SchoolFactory, academic_year_2025

    academic_year_2025()
    SchoolFactory.create_batch(51)
    client.force_login(manager)
    assert len(_listed(client)) == 50
    assert len(_listed(client, "?page=2")) == 1


# --- the school report page --------------------------------------------------------------------

def test_the_report_page_shows_the_figures_charts_and_tables(small_city, manager, client):
    school = small_city["secondary"]
    client.force_login(manager)
    response = client.get(reverse("reports:school", args=[school.urn]))
    html = response.content.decode()
    report = school_report(user=manager, urn=school.urn, academic_year=2025)
    assert response.status_code == 200
    assert f">{report['headline'].attendance_rate}<" in html
    assert f">{report['city'].absence_rate}<" in html
    assert 'data-figure="chart-bands"' in html and 'data-figure="chart-weeks"' in html
    assert 'data-testid="table-weeks"' in html and 'data-testid="table-year_group"' in html
    assert 'media="print"' in html


def test_the_report_lists_pupils_in_bands_3_to_5_only_internally(small_city, manager, client):
    school = small_city["secondary"]
    client.force_login(manager)
    html = client.get(reverse("reports:school", args=[school.urn])).content.decode()
    listed = html.split('data-testid="pupils-of-concern"')[1]
    # secondary pupils: 32/40 (80%, band 3), 39/40, 10/40 (band 5), 37/40, 28/40 (band 4)
    assert "Qzsurname06" in listed and "Qzsurname08" in listed and "Qzsurname10" in listed
    assert "Qzsurname07" not in listed and "Qzsurname09" not in listed
    assert listed.index("Qzsurname08") < listed.index("Qzsurname10") < listed.index("Qzsurname06")
    external = client.get(reverse("reports:school", args=[school.urn]) + "?external=1")
    assert "Qzsurname" not in external.content.decode()


def test_the_pupils_in_bands_3_to_5_come_a_page_at_a_time(small_city, manager, client,
                                                          monkeypatch):
    monkeypatch.setattr("reports.school_views.PAGE_SIZE", 2)
    school = small_city["secondary"]
    client.force_login(manager)
    url = reverse("reports:school", args=[school.urn])

    def listed(query=""):
        html = client.get(url + query).content.decode()
        table = html.split('data-testid="pupils-of-concern"')[1].split("</table>")[0]
        return [n for n in ("Qzsurname06", "Qzsurname08", "Qzsurname10") if n in table], html

    first, html = listed()
    assert first == ["Qzsurname08", "Qzsurname10"]  # band 5, then band 4
    assert "(3 pupils, 1 to 2 shown)" in html and 'data-testid="pagination"' in html
    assert listed("?page=2")[0] == ["Qzsurname06"]


def test_the_external_report_suppresses_groups_under_five(small_city, manager, client):
    school = small_city["secondary"]  # 5 pupils: the school shows; each year group (1) is "c"
    client.force_login(manager)
    response = client.get(reverse("reports:school_csv", args=[school.urn]) + "?external=1")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    school_row = next(r for r in rows if r and r[0] == school.name)
    assert school_row[1] == "5" and "c" not in school_row
    year_7 = next(r for r in rows if r and r[0] == "Year 7")
    assert year_7[1:] == ["c"] * (len(year_7) - 1)
    internal = client.get(reverse("reports:school_csv", args=[school.urn]))
    rows = list(csv.reader(io.StringIO(internal.content.decode())))
    assert next(r for r in rows if r and r[0] == "Year 7")[1] == "1"


def test_a_school_under_five_pupils_is_all_c_outside_the_council(small_city, manager, client):
    school = small_city["special"]  # 1 pupil
    client.force_login(manager)
    html = client.get(reverse("reports:school", args=[school.urn]) + "?external=1"
                      ).content.decode()
    head = html.split('data-testid="table-headline"')[1].split("</table>")[0]
    school_row = head.split(school.name)[1].split("</tr>")[0]
    assert school_row.count(">c<") == 7
    bands = html.split('data-testid="table-bands"')[1].split("</table>")[0]
    assert ">1<" not in bands


# --- downloads ----------------------------------------------------------------------------------

def _workbook(response):
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml")
    return load_workbook(io.BytesIO(response.content))


def test_the_report_xlsx_holds_the_figures_as_numbers(small_city, manager, client):
    school = small_city["secondary"]
    client.force_login(manager)
    report = school_report(user=manager, urn=school.urn, academic_year=2025)
    book = _workbook(client.get(reverse("reports:school_xlsx", args=[school.urn])))
    assert book.sheetnames[:3] == ["Headline figures", "Pupils by absence band", "Year group"]
    assert "Week by week" in book.sheetnames
    head = list(book["Headline figures"].iter_rows(values_only=True))
    assert head[0][:3] == ("Group", "Pupils", "Attendance %")
    assert head[1] == (school.name, 5, float(report["headline"].attendance_rate),
                       float(report["headline"].absence_rate),
                       float(report["headline"].authorised_rate),
                       float(report["headline"].unauthorised_rate),
                       float(report["headline"].pa_rate), float(report["headline"].sa_rate))
    weeks = list(book["Week by week"].iter_rows(values_only=True))[1:]
    assert [(w[0].date(), w[1], w[2]) for w in weeks] == _weekly_from_marks(school)


def test_the_schools_xlsx_and_csv_hold_the_table_in_its_sort_order(small_city, manager, client):
    client.force_login(manager)
    urns = _listed(client, "?sort=-pa")
    book = _workbook(client.get(reverse("reports:schools_xlsx") + "?sort=-pa"))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][:5] == ("URN", "School", "Phase", "Locality", "Pupils")
    assert [r[0] for r in rows[1:]] == urns
    table = {row.school.urn: row.cell for row in schools_table(user=manager, academic_year=2025)}
    for row in rows[1:]:
        assert row[4] == table[row[0]].pupils
        assert row[9] == float(table[row[0]].pa_rate)
    text = client.get(reverse("reports:schools_csv") + "?sort=-pa").content.decode()
    assert [r[0] for r in list(csv.reader(io.StringIO(text)))[1:]] == urns


def test_the_schools_external_download_suppresses_small_schools(small_city, manager, client):
    client.force_login(manager)
    book = _workbook(client.get(reverse("reports:schools_xlsx") + "?external=1"))
    special = next(r for r in book.active.iter_rows(values_only=True)
                   if r[0] == small_city["special"].urn)
    assert special[4:-1] == ("c",) * (len(special) - 5)
    assert special[1] == small_city["special"].name


def test_xlsx_text_cells_that_look_like_formulas_are_neutralised():
    table = Table("t", "Sheet", ["Group", "Pupils"], rows=[["=HYPERLINK(\"x\")", 3],
                                                           ["@SUM(A1)", 4], ["Safe", 5]])
    book = load_workbook(io.BytesIO(tables_xlsx([table])))
    sheet = book["Sheet"]
    assert sheet["A2"].value == "'=HYPERLINK(\"x\")" and sheet["A2"].data_type == "s"
    assert sheet["A3"].value == "'@SUM(A1)" and sheet["B3"].value == 4
    assert sheet["A4"].value == "Safe"


def test_a_formula_in_a_school_name_is_neutralised_in_both_downloads(small_city, manager, client):
    school = small_city["primary"]
    school.name = "=cmd|'/c calc'!A1"
    school.save()
    client.force_login(manager)
    book = _workbook(client.get(reverse("reports:schools_xlsx")))
    names = [r[1] for r in book.active.iter_rows(values_only=True)]
    assert "'=cmd|'/c calc'!A1" in names and "=cmd|'/c calc'!A1" not in names
    assert all(c.data_type != "f" for row in book.active.iter_rows() for c in row)
    report = _workbook(client.get(reverse("reports:school_xlsx", args=[school.urn])))
    assert report["Headline figures"]["A2"].value == "'=cmd|'/c calc'!A1"
    text = client.get(reverse("reports:schools_csv")).content.decode()
    assert "'=cmd|" in text and ",=cmd|" not in text

