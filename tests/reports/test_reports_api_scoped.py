"""The scoped report endpoints (city weeks, schools table, school report, cohort dashboards):
every role on every endpoint, the page's numbers, validation and the OpenAPI schema.

The world of tests/accounts/test_permissions.py: Hilltop (``school``, linked to ``la_officer``,
led by ``school_lead``) with ``pupil``; Riverside (``other_school``, led by ``other_school_lead``)
with ``other_pupil`` and ``caseload_pupil`` (allocated to ``social_worker``). Every pupil has
marks this year (40% attendance, band 5) and a city-wide figure last year, and is in every cohort
but under-20: looked after, CIN, CP, EHC plan, Year 7 after Year 6.
"""

from datetime import date

import pytest
from rest_framework.authtoken.models import Token

from attendance.bands import band_for
from attendance.classification import pupils_reclassify
from attendance.models import PupilSummary
from reports.cohorts import COHORTS, cohort_dashboard
from reports.school_report import school_report, schools_table
from reports.selectors import city_weeks
from tests.accounts.test_permissions import PUPILS, ROLES, SCHOOLS, VISIBLE_SCHOOLS
from tests.attendance.test_classification import write_marks
from tests.factories import CharacteristicsFactory, UserFactory, academic_year_2025
from tests.reports.test_cohort_permissions import CITY_ROLES, SCHOOL_ROWS, SUPPRESSED_ROLES

pytestmark = pytest.mark.django_db

WEEKS = "/api/reports/city/weeks/"
SCHOOLS_URL = "/api/reports/schools/"
SLUGS = list(COHORTS)
DASHBOARD_ROLES = {"administrator", "manager", "la_officer", "school_lead",
                   "other_school_lead"}


@pytest.fixture
def world(request, school, other_school, la_officer, school_lead, other_school_lead,
          social_worker, manager, administrator, pupil, other_pupil, caseload_pupil):
    academic_year_2025()
    objects = {name: request.getfixturevalue(name) for name in ROLES[1:] + SCHOOLS + PUPILS}
    last = None
    for name, at in (("pupil", school), ("other_pupil", other_school),
                     ("caseload_pupil", other_school)):
        p = objects[name]
        CharacteristicsFactory(pupil=p, effective_date=date(2024, 9, 1), year_group="6")
        CharacteristicsFactory(pupil=p, effective_date=date(2025, 9, 1), year_group="7",
                               cla=True, cin=True, cp=True, sen="E")
        PupilSummary.objects.create(
            pupil=p, school=None, academic_year=2024, as_of=date(2025, 7, 1), possible=100,
            attended=95, authorised=5, unauthorised=0, band=band_for(attended=95, possible=100))
        last = write_marks(p, at, ["/"] * 8 + ["O"] * 12)
    pupils_reclassify(as_of=last)
    return objects


def _get(client, world, role, url, params=None):
    if role != "anonymous":
        client.force_login(world[role])
    return client.get(url, {"academic_year": 2025, **(params or {})})


def _refused_anonymous(response) -> bool:
    return response.status_code in (401, 403)


# --- every role on every endpoint ---------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_city_weeks_for_every_role(client, world, role):
    response = _get(client, world, role, WEEKS)
    if role == "anonymous":
        assert _refused_anonymous(response)
    elif role in DASHBOARD_ROLES:
        assert response.status_code == 200
        weeks = response.json()["weeks"]
        assert weeks[0]["week_start"] == "2025-09-01"
        assert sum(w["possible_sessions"] for w in weeks) == 60  # 3 pupils, 20 sessions each
        assert sum(w["attended_sessions"] for w in weeks) == 24
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_the_schools_list_for_every_role(client, world, role):
    response = _get(client, world, role, SCHOOLS_URL)
    if role == "anonymous":
        assert _refused_anonymous(response)
        return
    if role == "social_worker":
        assert response.status_code == 404
        return
    assert response.status_code == 200
    listed = {row["school"]["urn"] for row in response.json()["schools"]}
    assert listed == {world[name].urn for name in VISIBLE_SCHOOLS[role]}
    for name in SCHOOLS:
        if name not in VISIBLE_SCHOOLS[role]:
            assert world[name].name.encode() not in response.content


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("target", SCHOOLS)
def test_a_school_report_for_every_role_and_school(client, world, role, target):
    response = _get(client, world, role, f"/api/reports/schools/{world[target].urn}/")
    if role == "anonymous":
        assert _refused_anonymous(response)
    elif target in VISIBLE_SCHOOLS[role]:
        assert response.status_code == 200
        data = response.json()
        assert data["school"]["urn"] == world[target].urn
        assert data["figures"]["pupils"] == (1 if target == "school" else 2)
    else:
        assert response.status_code == 404


def test_a_school_lead_gets_404_for_another_school_whatever_the_query(client, world):
    client.force_login(world["school_lead"])
    url = f"/api/reports/schools/{world['other_school'].urn}/"
    for query in ({}, {"characteristic": "cla"}, {"academic_year": 2024}):
        assert client.get(url, query).status_code == 404
    assert client.get("/api/reports/schools/999999/").status_code == 404


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("slug", SLUGS)
def test_a_cohort_for_every_role(client, world, role, slug):
    response = _get(client, world, role, f"/api/reports/cohorts/{slug}/")
    if role == "anonymous":
        assert _refused_anonymous(response)
        return
    assert response.status_code == 200
    data = response.json()
    assert (data["city"] is not None) == (role in CITY_ROLES)
    assert data["scope"] == ("caseload" if role == "social_worker" else "city")
    assert data["suppressed"] == (role in SUPPRESSED_ROLES)
    if slug == "under-20":  # nobody is under 20%
        assert data["figures"]["pupils"] == 0
        return
    figures = data["figures"]
    if role == "social_worker":
        assert figures["pupils"] == 1 and figures["label"].startswith("Your caseload")
    elif role in SUPPRESSED_ROLES:  # 3 pupils city-wide: hidden, as on the page
        assert figures["suppressed"] and figures["pupils"] is None
        assert figures["attendance_rate"] is None and figures["bands"] == [None] * 5
    else:
        assert figures["pupils"] == 3 and figures["bands"] == [0, 0, 0, 0, 3]
    if slug == "transition":
        transition = data["transition"]
        shown = {r["label"] for r in transition["by_to"]}
        assert shown == SCHOOL_ROWS[role]
        counts = [n for row in transition["movement"] for n in row["counts"]]
        if role in SUPPRESSED_ROLES:
            assert None in counts and transition["worse"] is None
        else:
            assert transition["worse"] == (1 if role == "social_worker" else 3)
    else:
        rows = next(b for b in data["breakdowns"] if b["key"] == "school")["groups"]
        assert {r["label"] for r in rows} == SCHOOL_ROWS[role]


@pytest.mark.parametrize("url", [WEEKS, SCHOOLS_URL, "/api/reports/schools/100001/",
                                 "/api/reports/cohorts/cla/"])
def test_a_user_without_a_role_gets_404(client, world, url):
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404


def test_an_unknown_cohort_is_404(client, world):
    client.force_login(world["manager"])
    assert client.get("/api/reports/cohorts/left-handed/").status_code == 404


def test_tokens_are_scoped_like_sessions(client, world):
    token = Token.objects.create(user=world["other_school_lead"])
    auth = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
    assert client.get(f"/api/reports/schools/{world['school'].urn}/", **auth).status_code == 404
    assert client.get(f"/api/reports/schools/{world['other_school'].urn}/",
                      **auth).status_code == 200
    token = Token.objects.create(user=world["social_worker"])
    auth = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
    assert client.get(WEEKS, **auth).status_code == 404
    assert client.get(SCHOOLS_URL, **auth).status_code == 404
    assert client.get("/api/reports/cohorts/cla/", **auth).json()["figures"]["pupils"] == 1


# --- the page's numbers -------------------------------------------------------------------------

def _rate(value):
    return None if value is None else float(value)


def test_the_weeks_are_the_selectors(small_city, manager, client):
    client.force_login(manager)
    data = client.get(WEEKS, {"academic_year": 2025, "characteristic": "fsm"}).json()
    weeks = city_weeks(user=manager, academic_year=2025, filters={"characteristic": "fsm"})
    assert data["filters"] == {"characteristic": "fsm"}
    assert [(w["week_start"], w["pupils"], w["possible_sessions"], w["attended_sessions"],
             w["authorised_sessions"], w["unauthorised_sessions"], w["attendance_rate"],
             w["absence_rate"], w["authorised_rate"], w["unauthorised_rate"])
            for w in data["weeks"]] == [
        (w.week_start.isoformat(), w.pupils, w.possible, w.attended, w.authorised,
         w.unauthorised, _rate(w.attendance_rate), _rate(w.absence_rate),
         _rate(w.authorised_rate), _rate(w.unauthorised_rate)) for w in weeks]


def test_the_schools_are_the_tables_in_the_pages_order(small_city, manager, client):
    client.force_login(manager)
    data = client.get(SCHOOLS_URL, {"academic_year": 2025, "sort": "-attendance"}).json()
    rows = schools_table(user=manager, academic_year=2025).order_by("-attendance", "pk")
    assert [r["school"]["urn"] for r in data["schools"]] == [r.school.urn for r in rows]
    for got, row in zip(data["schools"], rows, strict=True):
        assert got["figures"]["pupils"] == row.cell.pupils
        assert got["figures"]["attendance_rate"] == _rate(row.cell.attendance_rate)
        assert got["figures"]["bands"] == row.cell.bands
        assert [w["attended_sessions"] for w in got["weeks"]] == [w.attended for w in row.weeks]
    secondary = client.get(SCHOOLS_URL, {"academic_year": 2025, "phase": "secondary"}).json()
    assert [r["school"]["phase"] for r in secondary["schools"]] == ["secondary"]


def test_the_school_report_is_the_pages(small_city, manager, client):
    school = small_city["primary"]
    client.force_login(manager)
    data = client.get(f"/api/reports/schools/{school.urn}/",
                      {"academic_year": 2025, "characteristic": "fsm"}).json()
    report = school_report(user=manager, urn=school.urn, academic_year=2025,
                           filters={"characteristic": "fsm"})
    assert data["filters"] == {"characteristic": "fsm"}
    assert data["figures"]["pupils"] == report["headline"].pupils
    assert data["figures"]["absence_rate"] == _rate(report["headline"].absence_rate)
    assert data["city"]["pupils"] == report["city"].pupils
    assert data["city_phase"]["pupils"] == report["city_phase"].pupils
    assert [b["pupils"] for b in data["bands"]] == report["headline"].bands
    assert data["national_key"] == report["national_key"] == "fsm:yes"
    assert data["national"]["pa"]["national"]["value"] == 24.4
    by_key = {b["key"]: b for b in data["breakdowns"]}
    assert set(by_key) == {b["key"] for b in report["breakdowns"]}
    sex = {g["key"]: g["pupils"] for g in by_key["sex"]["groups"]}
    cells = next(b["cells"] for b in report["breakdowns"] if b["key"] == "sex")
    assert sex == {c.key: c.pupils for c in cells}
    assert [w["possible_sessions"] for w in data["weeks"]] == [w.possible for w in report["weeks"]]


def test_the_cohort_is_the_pages(small_city, manager, client):
    client.force_login(manager)
    data = client.get("/api/reports/cohorts/send/", {"academic_year": 2025}).json()
    dashboard = cohort_dashboard(user=manager, slug="send", academic_year=2025)
    assert data["figures"]["pupils"] == dashboard["headline"].pupils == 6
    assert [p["pupils"] for p in data["parts"]] == [c.pupils for c in dashboard["parts"]]
    assert data["city"]["pupils"] == 12
    phase = next(b for b in data["breakdowns"] if b["key"] == "phase")
    assert {g["key"]: g["attendance_rate"] for g in phase["groups"]} == {
        c.key: _rate(c.attendance_rate) for c in dashboard["breakdowns"][0]["cells"]}


# --- validation and schema ----------------------------------------------------------------------

def test_bad_values_are_400_naming_the_parameter(world, client):
    client.force_login(world["manager"])
    response = client.get(SCHOOLS_URL, {"sort": "postcode", "characteristic": "x"})
    assert response.status_code == 400 and set(response.json()) == {"sort", "characteristic"}
    response = client.get(WEEKS, {"phase": "castle"})
    assert response.status_code == 400 and set(response.json()) == {"phase"}
    response = client.get("/api/reports/cohorts/cla/", {"locality": "north"})
    assert response.status_code == 400 and set(response.json()) == {"locality"}
    response = client.get(f"/api/reports/schools/{world['school'].urn}/",
                          {"academic_year": "last"})
    assert response.status_code == 400 and set(response.json()) == {"academic_year"}


def test_the_new_endpoints_are_in_the_schema(manager, client):
    client.force_login(manager)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    expected = {
        "/api/reports/city/weeks/": {"academic_year", "phase", "locality", "characteristic"},
        "/api/reports/schools/": {"academic_year", "phase", "locality", "characteristic",
                                  "sort"},
        "/api/reports/schools/{urn}/": {"academic_year", "characteristic", "urn"},
        "/api/reports/cohorts/{slug}/": {"academic_year", "phase", "locality", "slug"},
    }
    for path, parameters in expected.items():
        operation = schema["paths"][path]["get"]
        assert operation["tags"] == ["reports"]
        assert {p["name"] for p in operation["parameters"]} == parameters
        assert "200" in operation["responses"]
    components = schema["components"]["schemas"]
    assert {"week_start", "attendance_rate", "unauthorised_rate"} <= set(
        components["Week"]["properties"])
    assert {"school", "figures", "trend", "weeks"} <= set(components["SchoolRow"]["properties"])
    assert {"suppressed", "pupils"} <= set(components["ShownFigures"]["properties"])
    slug = next(p for p in schema["paths"]["/api/reports/cohorts/{slug}/"]["get"]["parameters"]
                if p["name"] == "slug")
    assert sorted(slug["schema"]["enum"]) == sorted(SLUGS)
