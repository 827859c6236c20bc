"""Who may open the schools table, the school report and their downloads: every role against
every new URL (the matrix of tests/accounts/test_permissions.py). Outside the scope is a 404."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from attendance.classification import pupils_reclassify
from tests.accounts.test_permissions import PUPILS, ROLES, SCHOOLS, VISIBLE_SCHOOLS
from tests.attendance.test_classification import write_marks
from tests.factories import academic_year_2025

pytestmark = pytest.mark.django_db

LIST_PAGES = ["reports:schools", "reports:schools_csv", "reports:schools_xlsx"]
SCHOOL_PAGES = ["reports:school", "reports:school_csv", "reports:school_xlsx"]


@pytest.fixture
def world(request, school, other_school, la_officer, school_lead, other_school_lead,
          social_worker, manager, administrator, pupil, other_pupil, caseload_pupil):
    """Every persona and object, with marks that put every pupil in band 5 at their school."""
    academic_year_2025()
    last = None
    for p, s in [(pupil, school), (other_pupil, other_school), (caseload_pupil, other_school)]:
        last = write_marks(p, s, ["/"] * 8 + ["O"] * 12)
    pupils_reclassify(as_of=last)
    return {name: request.getfixturevalue(name) for name in ROLES[1:] + SCHOOLS + PUPILS}


@pytest.fixture
def as_role(client, world):
    def sign_in(role):
        if role != "anonymous":
            client.force_login(world[role])
        return client
    return sign_in


def _login_redirect(response):
    return response.status_code == 302 and response["Location"].startswith(
        f"{reverse('login')}?next=")


def _listed_urns(response, url_name) -> set[str]:
    if url_name == "reports:schools_xlsx":
        rows = load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True)
        return {r[0] for r in list(rows)[1:]}
    text = response.content.decode()
    if url_name == "reports:schools_csv":
        return {line.split(",")[0] for line in text.splitlines()[1:] if line}
    return {line.split('data-urn="')[1].split('"')[0] for line in text.splitlines()
            if 'data-urn="' in line}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url_name", LIST_PAGES)
def test_it_lists_exactly_the_schools_a_role_may_see(as_role, world, role, url_name):
    response = as_role(role).get(reverse(url_name))
    if role == "anonymous":
        assert _login_redirect(response)
    elif role == "social_worker":
        assert response.status_code == 404
    else:
        assert response.status_code == 200
        assert _listed_urns(response, url_name) == {world[n].urn for n in VISIBLE_SCHOOLS[role]}
        body = response.content
        for name in SCHOOLS:
            if name not in VISIBLE_SCHOOLS[role]:
                assert world[name].name.encode() not in body


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("target", SCHOOLS)
@pytest.mark.parametrize("url_name", SCHOOL_PAGES)
def test_it_opens_a_school_report_only_for_roles_that_may_see_the_school(
        as_role, world, role, target, url_name):
    response = as_role(role).get(reverse(url_name, args=[world[target].urn]))
    if role == "anonymous":
        assert _login_redirect(response)
    elif target in VISIBLE_SCHOOLS[role]:
        assert response.status_code == 200
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("role", ["administrator", "manager", "la_officer", "school_lead"])
def test_the_school_report_names_pupils_in_bands_3_to_5_only_of_that_school(
        as_role, world, role):
    html = as_role(role).get(reverse("reports:school", args=[world["school"].urn])
                             ).content.decode()
    listed = html.split('data-testid="pupils-of-concern"')[1].split("</table>")[0]
    assert world["pupil"].upn in listed
    assert world["other_pupil"].upn not in html and world["caseload_pupil"].upn not in html


def test_a_school_lead_gets_404_for_another_schools_report_with_any_filter(
        as_role, world):
    client = as_role("school_lead")
    for query in ["", "?external=1", "?characteristic=fsm", "?academic_year=2025"]:
        url = reverse("reports:school", args=[world["other_school"].urn]) + query
        assert client.get(url).status_code == 404


def test_an_unknown_urn_is_a_404_even_for_a_manager(as_role, world):
    assert as_role("manager").get(reverse("reports:school", args=["999999"])).status_code == 404


@pytest.mark.parametrize("role", ROLES[1:])
def test_the_school_page_links_to_the_report_only_where_the_report_opens(as_role, world, role):
    client = as_role(role)
    for name in VISIBLE_SCHOOLS[role]:
        html = client.get(reverse("schools:detail", args=[world[name].urn])).content.decode()
        assert reverse("reports:school", args=[world[name].urn]) in html
