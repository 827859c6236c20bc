"""Who may open the city dashboard and its CSV: every role. The city is seen by everyone with a
school-wide view (a school lead in aggregate only: tests/reports/test_city_dashboard.py); a
social worker, whose view is a caseload, gets a 404."""

import pytest
from django.urls import reverse

from tests.reports.test_city_dashboard import small_city  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

CITY = {"administrator": 200, "manager": 200, "la_officer": 200, "school_lead": 200,
        "other_school_lead": 200, "social_worker": 404}


@pytest.mark.parametrize("role", ["anonymous", *CITY])
@pytest.mark.parametrize("url_name", ["reports:city", "reports:city_csv"])
def test_every_role_on_the_city_dashboard_and_its_csv(small_city, request, client, role,  # noqa: F811
                                                      url_name):
    if role != "anonymous":
        client.force_login(request.getfixturevalue(role))
    response = client.get(reverse(url_name), {"academic_year": 2025})
    if role == "anonymous":
        assert response.status_code == 302 and response["Location"].startswith(
            f"{reverse('login')}?next=")
        return
    assert response.status_code == CITY[role]
    if response.status_code == 200 and url_name == "reports:city_csv":
        assert response["Content-Type"].startswith("text/csv")
        assert len(response.content.decode().splitlines()) > 1
