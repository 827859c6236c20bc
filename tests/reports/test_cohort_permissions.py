"""Who sees what on the cohort dashboards: every role on every cohort, page and CSV.

The world of tests/accounts/test_permissions.py: Hilltop (``school``, linked to ``la_officer``,
led by ``school_lead``) with ``pupil``; Riverside (``other_school``, led by ``other_school_lead``)
with ``other_pupil`` and ``caseload_pupil`` (allocated to ``social_worker``). Every pupil is in
every cohort: looked after, CIN, CP, EHC plan, Year 7 after a year in the city, under 20%.
"""

from datetime import date

import pytest
from django.urls import reverse

from attendance.bands import band_for
from attendance.models import PupilSummary
from reports.cohorts import COHORTS, cohort_dashboard
from tests.accounts.test_permissions import ROLES, VISIBLE_PUPILS, _login_redirect
from tests.factories import CharacteristicsFactory, UserFactory

pytestmark = pytest.mark.django_db

SLUGS = list(COHORTS)
# Schools whose row a role sees in the school tables (None: every school).
SCHOOL_ROWS = {
    "administrator": {"Hilltop Primary", "Riverside Academy"},
    "manager": {"Hilltop Primary", "Riverside Academy"},
    "la_officer": {"Hilltop Primary"},
    "school_lead": {"Hilltop Primary"},
    "other_school_lead": {"Riverside Academy"},
    "social_worker": {"Riverside Academy"},  # the school of the one caseload pupil
}
CITY_ROLES = {"administrator", "manager", "la_officer", "school_lead", "other_school_lead"}
SUPPRESSED_ROLES = {"school_lead", "other_school_lead"}


@pytest.fixture
def world(request, school, other_school, la_officer, school_lead, other_school_lead,
          social_worker, manager, administrator, pupil, other_pupil, caseload_pupil):
    objects = {name: request.getfixturevalue(name) for name in
               ROLES[1:] + ["school", "other_school", "pupil", "other_pupil", "caseload_pupil"]}
    for name in ("pupil", "other_pupil", "caseload_pupil"):
        p = objects[name]
        CharacteristicsFactory(pupil=p, effective_date=date(2024, 9, 1), year_group="6")
        CharacteristicsFactory(pupil=p, effective_date=date(2025, 9, 1), year_group="7",
                               cla=True, cin=True, cp=True, sen="E")
        for year, attended in ((2024, 90), (2025, 15)):
            PupilSummary.objects.create(
                pupil=p, school=None, academic_year=year, as_of=date(year + 1, 7, 1),
                possible=100, attended=attended, authorised=0, unauthorised=100 - attended,
                band=band_for(attended=attended, possible=100))
    return objects


def _get(client, world, role, url, params=None):
    if role != "anonymous":
        client.force_login(world[role])
    return client.get(url, {"academic_year": 2025, **(params or {})})


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("slug", SLUGS)
def test_every_role_on_every_cohort_page(client, world, role, slug):
    url = reverse("reports:cohort", args=[slug])
    response = _get(client, world, role, url)
    if role == "anonymous":
        assert _login_redirect(response, url)
        return
    assert response.status_code == 200
    html = response.content.decode()
    # Pupils listed: exactly those the role may see (pupils.selectors.pupil_list).
    listed = {name for name in ("pupil", "other_pupil", "caseload_pupil")
              if world[name].upn in html}
    assert listed == VISIBLE_PUPILS[role]
    # The whole city only for city roles; a social worker sees "Your caseload", never the city.
    assert ("All pupils in the city" in html) == (role in CITY_ROLES)
    assert ('data-testid="scope-caseload"' in html) == (role == "social_worker")
    # School rows: only schools the role may see.
    if slug != "transition":
        table = html.split('data-testid="table-school"')[1].split("</table>")[0]
        shown = {name for name in ("Hilltop Primary", "Riverside Academy") if name in table}
        assert shown == SCHOOL_ROWS[role]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("slug", SLUGS)
def test_every_role_on_every_cohort_csv(client, world, role, slug):
    url = reverse("reports:cohort_csv", args=[slug])
    response = _get(client, world, role, url, {"table": "headline"})
    if role == "anonymous":
        assert _login_redirect(response, url)
        return
    assert response.status_code == 200
    text = response.content.decode()
    assert ("All pupils in the city" in text) == (role in CITY_ROLES)
    headline = text.splitlines()[1].split(",")
    if role == "social_worker":
        assert headline[:2] == ["Your caseload" + (": last year (Year 6)"
                                                   if slug == "transition" else ""), "1"]
    elif role in SUPPRESSED_ROLES:  # school-facing: 3 pupils city-wide is "c", even internally
        assert headline[1] == "c"
    else:
        assert headline[1] == "3"


@pytest.mark.parametrize("role", ROLES[1:])
def test_the_index_is_open_to_every_signed_in_role_with_a_scope(client, world, role):
    client.force_login(world[role])
    response = client.get(reverse("reports:cohorts"))
    assert response.status_code == 200
    assert ('data-testid="caseload-note"' in response.content.decode()) == (
        role == "social_worker")


@pytest.mark.parametrize("url_name", ["reports:cohorts", "reports:cohort", "reports:cohort_csv"])
def test_a_user_without_a_role_gets_404(client, world, url_name):
    client.force_login(UserFactory())
    args = [] if url_name == "reports:cohorts" else ["cla"]
    assert client.get(reverse(url_name, args=args)).status_code == 404


def test_a_social_worker_sees_only_their_caseload_in_the_figures(world):
    for slug in SLUGS:
        dashboard = cohort_dashboard(user=world["social_worker"], slug=slug, academic_year=2025)
        assert dashboard["headline"].pupils == 1, slug
        assert dashboard["headline"].label.startswith("Your caseload")
        assert dashboard["city"] is None


def test_a_social_worker_with_an_empty_caseload_sees_no_figures(world, client):
    worker = UserFactory(is_social_worker=True)
    dashboard = cohort_dashboard(user=worker, slug="cla", academic_year=2025)
    assert dashboard["headline"].pupils == 0 and dashboard["city"] is None
    client.force_login(worker)
    html = client.get(reverse("reports:cohort", args=["cla"]),
                      {"academic_year": 2025}).content.decode()
    assert 'data-testid="no-data"' in html
    for name in ("pupil", "other_pupil", "caseload_pupil"):
        assert world[name].upn not in html


def test_a_school_lead_sees_small_city_groups_suppressed_on_screen(world, client):
    client.force_login(world["school_lead"])
    html = client.get(reverse("reports:cohort", args=["cla"]),
                      {"academic_year": 2025}).content.decode()
    assert 'data-testid="headline-1">c pupils' in html
    client.force_login(world["manager"])
    html = client.get(reverse("reports:cohort", args=["cla"]),
                      {"academic_year": 2025}).content.decode()
    assert 'data-testid="headline-1">3 pupils' in html


def test_the_pupils_listed_are_audited(world, client):
    from auditlog.models import LogEntry

    client.force_login(world["la_officer"])
    client.get(reverse("reports:cohort", args=["cla"]), {"academic_year": 2025})
    accessed = LogEntry.objects.filter(action=LogEntry.Action.ACCESS,
                                       actor=world["la_officer"])
    assert set(accessed.values_list("object_pk", flat=True)) == {str(world["pupil"].pk)}


def test_the_nav_offers_caseload_figures_to_a_social_worker_only(world, client):
    client.force_login(world["social_worker"])
    html = client.get(reverse("home")).content.decode()
    assert "Caseload figures" in html and f'href="{reverse("reports:cohorts")}"' in html
    client.force_login(world["manager"])
    assert "Caseload figures" not in client.get(reverse("home")).content.decode()
