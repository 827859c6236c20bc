"""Cohort dashboard downloads: every table as XLSX (suppressed like the CSV for outside the
council) and the list of pupils as CSV (the page's pupils, every page, audited, never external).
"""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from openpyxl import load_workbook

from attendance.bands import band_for
from attendance.models import PupilSummary
from reports.cohorts import COHORTS, cohort_dashboard, cohort_tables
from tests.accounts.test_permissions import ROLES, VISIBLE_PUPILS, _login_redirect
from tests.factories import CharacteristicsFactory, EnrolmentFactory, PupilFactory
from tests.reports.test_city_dashboard import _rates
from tests.reports.test_cohort_permissions import (
    CITY_ROLES,
    SUPPRESSED_ROLES,
    world,  # noqa: F401  (fixture)
)
from tests.reports.test_cohorts import (
    COHORT_MASKS,
    _expected,
    cohort_city,  # noqa: F401  (fixture)
)

pytestmark = pytest.mark.django_db

NAMES = ("pupil", "other_pupil", "caseload_pupil")


def _book(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return load_workbook(io.BytesIO(response.content))


def _sheet_rows(sheet) -> list[list]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.content.decode())))


def _get(client, world, role, url, params=None):  # noqa: F811
    if role != "anonymous":
        client.force_login(world[role])
    return client.get(url, {"academic_year": 2025, **(params or {})})


# --- XLSX ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("slug", list(COHORT_MASKS))
def test_the_xlsx_holds_every_table_with_the_figures_computed_from_the_marks(
        cohort_city, manager, client, slug):  # noqa: F811
    expected = _expected(cohort_city[1])
    cohort = _rates(expected[COHORT_MASKS[slug](expected)])
    client.force_login(manager)
    book = _book(client.get(reverse("reports:cohort_xlsx", args=[slug]),
                            {"academic_year": 2025}))
    tables = cohort_tables(cohort_dashboard(user=manager, slug=slug, academic_year=2025),
                           suppress=False)
    assert book.sheetnames == [t["title"][:31] for t in tables]
    headline = _sheet_rows(book.worksheets[0])
    assert headline[0] == tables[0]["header"]
    # Numbers stay numbers, and are the independently computed ones.
    assert headline[1][1] == cohort["pupils"]
    assert headline[1][2] == pytest.approx(float(cohort["attendance"]))
    assert headline[1][6] == pytest.approx(float(cohort["pa"]))
    for sheet, table in zip(book.worksheets, tables, strict=True):
        rows = _sheet_rows(sheet)[1:]
        assert [[None if v == "" else (float(v) if isinstance(v, Decimal) else v)
                 for v in row] for row in table["rows"]] == rows, table["key"]


def test_the_xlsx_matches_the_page_and_suppresses_for_outside_the_council(
        cohort_city, manager, client):  # noqa: F811
    client.force_login(manager)
    url = reverse("reports:cohort", args=["cla"])
    html = client.get(url, {"academic_year": 2025}).content.decode()
    assert reverse("reports:cohort_xlsx", args=["cla"]) in html
    assert 'data-testid="xlsx-external"' in html
    assert 'data-testid="headline-1">3 pupils' in html
    xlsx = reverse("reports:cohort_xlsx", args=["cla"])
    internal = _sheet_rows(_book(client.get(xlsx, {"academic_year": 2025})).worksheets[0])
    assert internal[1][:2] == ["Children looked after", 3]
    response = client.get(xlsx, {"academic_year": 2025, "external": "1"})
    assert "-external.xlsx" in response["Content-Disposition"]
    book = _book(response)
    headline = _sheet_rows(book.worksheets[0])
    assert headline[1][1:8] == ["c"] * 7
    assert headline[1][8] == pytest.approx(5.1)  # published benchmarks stay
    assert headline[2][:2] == ["All pupils in the city", 13]
    phase = _sheet_rows(book["By phase"])
    assert all(row[1] == "c" for row in phase[1:])  # 2 primary, 1 secondary
    # the same cells the external CSV suppresses
    rows = _csv(client.get(reverse("reports:cohort_csv", args=["cla"]),
                           {"academic_year": 2025, "table": "phase", "external": "1"}))
    assert [r[1:] for r in rows[1:]] == [[str(v) for v in r[1:]] for r in phase[1:]]


def test_the_xlsx_neutralises_formulas(cohort_city, manager, client):  # noqa: F811
    schools, _ = cohort_city
    schools["primary"].name = "=HYPERLINK(\"http://x\")"
    schools["primary"].save()
    client.force_login(manager)
    book = _book(client.get(reverse("reports:cohort_xlsx", args=["cla"]),
                            {"academic_year": 2025}))
    names = [row[0] for row in _sheet_rows(book["By school"])]
    assert "'=HYPERLINK(\"http://x\")" in names


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("slug", list(COHORTS))
def test_every_role_gets_the_xlsx_of_its_own_scope(client, world, role, slug):  # noqa: F811
    url = reverse("reports:cohort_xlsx", args=[slug])
    response = _get(client, world, role, url)
    if role == "anonymous":
        assert _login_redirect(response, url)
        return
    book = _book(response)
    headline = _sheet_rows(book.worksheets[0])
    labels = [row[0] for row in headline[1:]]
    assert ("All pupils in the city" in labels) == (role in CITY_ROLES)
    if role == "social_worker":
        assert headline[1][0].startswith("Your caseload") and headline[1][1] == 1
    elif role in SUPPRESSED_ROLES:  # school-facing: 3 pupils city-wide is "c", even internally
        assert headline[1][1] == "c"
    else:
        assert headline[1][1] == 3
    if slug != "transition":
        schools = {row[0] for row in _sheet_rows(book["By school"])[1:]}
        from tests.reports.test_cohort_permissions import SCHOOL_ROWS
        assert schools == SCHOOL_ROWS[role]


# --- the list of pupils as CSV ------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("slug", list(COHORTS))
def test_every_role_gets_only_the_pupils_the_page_lists(client, world, role, slug):  # noqa: F811
    url = reverse("reports:cohort_pupils_csv", args=[slug])
    response = _get(client, world, role, url)
    if role == "anonymous":
        assert _login_redirect(response, url)
        return
    rows = _csv(response)
    assert rows[0] == ["Name", "UPN", "Year group", "Current school", "Attendance", "Band"]
    assert {r[1] for r in rows[1:]} == {world[n].upn for n in VISIBLE_PUPILS[role]}
    page = _get(client, world, role, reverse("reports:cohort", args=[slug])).content.decode()
    for name in NAMES:
        assert (world[name].upn in page) == (name in VISIBLE_PUPILS[role])
    assert ('data-testid="pupils-csv"' in page) == bool(VISIBLE_PUPILS[role])


@pytest.mark.parametrize("role", ROLES[1:])
def test_the_pupil_list_is_never_offered_for_outside_the_council(client, world, role):  # noqa: F811
    response = _get(client, world, role, reverse("reports:cohort_pupils_csv", args=["cla"]),
                    {"external": "1"})
    assert response.status_code == 404


def test_the_pupil_csv_shows_the_columns_of_the_page_and_is_audited(
        client, world, manager):  # noqa: F811
    harry = world["pupil"]
    before = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, actor=manager).count()
    client.force_login(manager)
    rows = _csv(client.get(reverse("reports:cohort_pupils_csv", args=["cla"]),
                           {"academic_year": 2025, "sort": "name"}))
    assert [r[1] for r in rows[1:]] == [world[n].upn for n in
                                        ("caseload_pupil", "pupil", "other_pupil")]
    assert rows[2] == ["Hilltop, Harry", harry.upn, "Year 7", "Hilltop Primary", "15.0%",
                       "Band 5: Severe absence"]
    audited = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, actor=manager)
    assert audited.count() == before + 3
    assert {e.object_id for e in audited} >= {world[n].pk for n in NAMES}


def test_the_pupil_csv_holds_every_page_in_the_page_order(client, manager, school):
    pupils = []
    for number in range(53):  # more than one page of 50
        pupil = PupilFactory(surname=f"Qzmany{number:02d}")
        EnrolmentFactory(pupil=pupil, school=school)
        CharacteristicsFactory(pupil=pupil, effective_date=date(2025, 9, 1), year_group="R",
                               cla=True)
        attended = 40 + number
        PupilSummary.objects.create(
            pupil=pupil, school=None, academic_year=2025, as_of=date(2026, 7, 1),
            possible=100, attended=attended, authorised=100 - attended, unauthorised=0,
            band=band_for(attended=attended, possible=100))
        pupils.append(pupil)
    client.force_login(manager)
    page = client.get(reverse("reports:cohort", args=["cla"]),
                      {"academic_year": 2025, "sort": "rate"}).content.decode()
    assert "1 to 50 on this page" in page
    assert "pupils.csv?academic_year=2025&amp;sort=rate" in page  # the link keeps the order
    rows = _csv(client.get(reverse("reports:cohort_pupils_csv", args=["cla"]),
                           {"academic_year": 2025, "sort": "rate"}))[1:]
    assert [r[1] for r in rows] == [p.upn for p in pupils]  # lowest attendance first
    assert rows[0][2:] == ["Reception", school.name, "40.0%", "Band 5: Severe absence"]
    assert rows[-1][4:] == ["92.0%", "Band 2: At risk of persistent absence"]


def test_the_pupil_csv_neutralises_formulas(client, manager, school):
    pupil = PupilFactory(surname="=cmd|' /C calc'!A0", forename="@SUM(1)")
    EnrolmentFactory(pupil=pupil, school=school)
    school.name = "+Hilltop"
    school.save()
    CharacteristicsFactory(pupil=pupil, effective_date=date(2025, 9, 1), year_group="7",
                           cla=True)
    PupilSummary.objects.create(pupil=pupil, school=None, academic_year=2025,
                                as_of=date(2026, 7, 1), possible=100, attended=99,
                                authorised=1, unauthorised=0, band=1)
    client.force_login(manager)
    rows = _csv(client.get(reverse("reports:cohort_pupils_csv", args=["cla"]),
                           {"academic_year": 2025}))
    assert rows[1][0] == "'=cmd|' /C calc'!A0, @SUM(1)"
    assert rows[1][3] == "'+Hilltop"
