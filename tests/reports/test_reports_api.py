"""The city dashboard's figures over the API: the same numbers as the page, the page's scoping
for every role, validation, and the OpenAPI schema."""

import pytest
from rest_framework.authtoken.models import Token

from reports.selectors import BREAKDOWNS, city_dashboard
from tests.reports.test_city_dashboard import PUPILS, small_city  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

HEADLINE = "/api/reports/city/headline/"
BANDS = "/api/reports/city/bands/"
BREAKDOWN_LIST = "/api/reports/city/breakdowns/"
ENDPOINTS = [HEADLINE, BANDS, BREAKDOWN_LIST, "/api/reports/city/breakdowns/phase/"]
ALLOWED = {"administrator": True, "manager": True, "la_officer": True, "school_lead": True,
           "other_school_lead": True, "social_worker": False}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("persona", list(ALLOWED))
def test_every_role_on_every_endpoint(small_city, request, client, persona, endpoint):  # noqa: F811
    client.force_login(request.getfixturevalue(persona))
    response = client.get(endpoint, {"academic_year": 2025})
    assert response.status_code == (200 if ALLOWED[persona] else 404)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_anonymous_callers_are_refused(client, endpoint):
    assert client.get(endpoint).status_code in (401, 403)


def test_a_social_workers_token_gets_404(small_city, social_worker, client):  # noqa: F811
    token = Token.objects.create(user=social_worker)
    response = client.get(HEADLINE, HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 404


def test_the_headline_is_the_dashboards(small_city, manager, client):  # noqa: F811
    token = Token.objects.create(user=manager)
    data = client.get(HEADLINE, {"academic_year": 2025},
                      HTTP_AUTHORIZATION=f"Token {token.key}").json()
    headline = city_dashboard(user=manager, academic_year=2025)["headline"]
    figures = data["figures"]
    assert data["academic_year"] == 2025
    assert figures["pupils"] == len(PUPILS) == headline.pupils
    assert figures["attendance_rate"] == float(headline.attendance_rate)
    assert figures["persistent_absence_rate"] == float(headline.pa_rate)
    assert figures["persistent_absence_pupils"] == headline.pa
    assert figures["severe_absence_rate"] == float(headline.sa_rate)
    assert figures["benchmarks"]["absence"]["national"]["value"] == 4.6
    assert figures["benchmarks"]["absence"]["statistical_neighbour"]["academic_year"] == "2020/21"


def test_bands_and_breakdowns_follow_the_filters(small_city, manager, client):  # noqa: F811
    client.force_login(manager)
    bands = client.get(BANDS, {"academic_year": 2025, "phase": "secondary"}).json()
    secondary = city_dashboard(user=manager, academic_year=2025,
                               filters={"phase": "secondary"})["headline"]
    assert [b["pupils"] for b in bands["bands"]] == secondary.bands
    assert bands["pupils"] == 5 and bands["filters"] == {"phase": "secondary"}
    assert bands["bands"][0]["name"] == "Expected"

    fsm = client.get("/api/reports/city/breakdowns/fsm/",
                     {"academic_year": 2025, "characteristic": "fsm"}).json()
    assert {g["key"]: g["pupils"] for g in fsm["groups"]} == {"yes": 6}

    listing = client.get(BREAKDOWN_LIST, {"academic_year": 2025}).json()
    assert [b["key"] for b in listing["breakdowns"]] == list(BREAKDOWNS)


def test_an_unknown_breakdown_is_404_and_bad_filters_are_400(small_city, manager, client):  # noqa: F811
    client.force_login(manager)
    assert client.get("/api/reports/city/breakdowns/postcode/").status_code == 404
    response = client.get(HEADLINE, {"phase": "castle", "characteristic": "x",
                                     "locality": "north", "academic_year": "last"})
    assert response.status_code == 400
    assert set(response.json()) == {"phase", "characteristic", "locality", "academic_year"}


def test_the_endpoints_are_in_the_schema(manager, client):
    client.force_login(manager)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path in ["/api/reports/city/headline/", "/api/reports/city/bands/",
                 "/api/reports/city/breakdowns/", "/api/reports/city/breakdowns/{key}/"]:
        operation = schema["paths"][path]["get"]
        assert operation["tags"] == ["reports"]
        assert {p["name"] for p in operation["parameters"]} >= {
            "academic_year", "phase", "locality", "characteristic"}
    headline = schema["components"]["schemas"]["GroupFigures"]["properties"]
    assert {"attendance_rate", "persistent_absence_rate", "benchmarks"} <= set(headline)
