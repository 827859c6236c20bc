"""Who may open what: every role against every page and API endpoint that exists.

The world: Hilltop (``school``, linked to ``la_officer``, led by ``school_lead``) with ``pupil``;
Riverside (``other_school``, led by ``other_school_lead``) with ``other_pupil`` and
``caseload_pupil`` (allocated to ``social_worker``). Refusals of scoped objects are 404s, never
403s, so a guessed URL does not even confirm that the school or pupil exists.
"""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "administrator", "manager", "la_officer", "school_lead",
         "other_school_lead", "social_worker"]

# What each role may see, by fixture name.
VISIBLE_SCHOOLS = {
    "anonymous": set(),
    "administrator": {"school", "other_school"},
    "manager": {"school", "other_school"},
    "la_officer": {"school"},
    "school_lead": {"school"},
    "other_school_lead": {"other_school"},
    "social_worker": set(),
}
VISIBLE_PUPILS = {
    "anonymous": set(),
    "administrator": {"pupil", "other_pupil", "caseload_pupil"},
    "manager": {"pupil", "other_pupil", "caseload_pupil"},
    "la_officer": {"pupil"},
    "school_lead": {"pupil"},
    "other_school_lead": {"other_pupil", "caseload_pupil"},
    "social_worker": {"caseload_pupil"},
}
# Who may upload registers and open the import pages (attendance.selectors
# .user_can_import_registers): everyone else gets a 404. Runs are visible by their school.
IMPORTERS = {"administrator", "la_officer", "school_lead", "other_school_lead"}
SCHOOLS = ["school", "other_school"]
PUPILS = ["pupil", "other_pupil", "caseload_pupil"]


@pytest.fixture
def world(request, school, other_school, la_officer, school_lead, other_school_lead,
          social_worker, manager, administrator, pupil, other_pupil, caseload_pupil):
    """Every persona and object, by fixture name."""
    return {name: request.getfixturevalue(name) for name in
            ROLES[1:] + SCHOOLS + PUPILS}


@pytest.fixture
def as_role(client, world):
    def sign_in(role):
        if role != "anonymous":
            client.force_login(world[role])
        return client
    return sign_in


def _login_redirect(response, path):
    return response.status_code == 302 and response["Location"].startswith(
        f"{reverse('login')}?next="
    )


# --- HTML pages -----------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url_name", ["home", "schools:list", "pupils:list", "account",
                                      "alerts:inbox"])
def test_it_lets_every_signed_in_role_open_the_top_level_pages(as_role, role, url_name):
    path = reverse(url_name)
    response = as_role(role).get(path)
    if role == "anonymous":
        assert _login_redirect(response, path)
    else:
        assert response.status_code == 200


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url_name", ["imports:list", "imports:new"])
def test_it_opens_the_import_pages_only_for_roles_that_import(as_role, role, url_name):
    path = reverse(url_name)
    response = as_role(role).get(path)
    if role == "anonymous":
        assert _login_redirect(response, path)
    else:
        assert response.status_code == (200 if role in IMPORTERS else 404)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("target", SCHOOLS)
@pytest.mark.parametrize("url_name", ["imports:detail", "imports:errors_csv"])
def test_it_opens_an_import_run_only_for_importers_who_may_see_its_school(
        as_role, world, role, target, url_name, tmp_path):
    from attendance.models import ImportRun

    run = ImportRun.objects.create(school=world[target], original_filename="r.csv",
                                   stored_path=str(tmp_path / "r"), sha256="0" * 64)
    path = reverse(url_name, args=[run.pk])
    response = as_role(role).get(path)
    if role == "anonymous":
        assert _login_redirect(response, path)
    elif role in IMPORTERS and target in VISIBLE_SCHOOLS[role]:
        assert response.status_code == 200
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("role", ROLES[1:])
def test_it_lists_exactly_the_schools_a_role_may_see(as_role, world, role):
    response = as_role(role).get(reverse("schools:list"))
    listed = {school.urn for school in response.context["page"]}
    assert listed == {world[name].urn for name in VISIBLE_SCHOOLS[role]}
    html = response.content.decode()
    for name in SCHOOLS:
        assert (world[name].name in html) == (name in VISIBLE_SCHOOLS[role])


@pytest.mark.parametrize("role", ROLES[1:])
def test_it_lists_exactly_the_pupils_a_role_may_see(as_role, world, role):
    response = as_role(role).get(reverse("pupils:list"))
    listed = {pupil.upn for pupil in response.context["page"]}
    assert listed == {world[name].upn for name in VISIBLE_PUPILS[role]}
    html = response.content.decode()
    for name in PUPILS:
        assert (world[name].upn in html) == (name in VISIBLE_PUPILS[role])


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("target", SCHOOLS)
def test_it_opens_a_school_page_only_for_roles_that_may_see_it(as_role, world, role, target):
    path = reverse("schools:detail", args=[world[target].urn])
    response = as_role(role).get(path)
    if role == "anonymous":
        assert _login_redirect(response, path)
    elif target in VISIBLE_SCHOOLS[role]:
        assert response.status_code == 200
        assert response.context["school"] == world[target]
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("target", PUPILS)
def test_it_opens_a_pupil_page_only_for_roles_that_may_see_them(as_role, world, role, target):
    path = reverse("pupils:detail", args=[world[target].upn])
    response = as_role(role).get(path)
    if role == "anonymous":
        assert _login_redirect(response, path)
    elif target in VISIBLE_PUPILS[role]:
        assert response.status_code == 200
        assert response.context["pupil"] == world[target]
    else:
        assert response.status_code == 404
        assert world[target].surname not in response.content.decode()


@pytest.mark.parametrize("role", ROLES[1:])
@pytest.mark.parametrize("target", SCHOOLS)
def test_it_filters_pupils_by_school_only_within_what_a_role_may_see(as_role, world, role,
                                                                     target):
    response = as_role(role).get(reverse("pupils:list"), {"school": world[target].urn})
    if target not in VISIBLE_SCHOOLS[role]:
        assert response.status_code == 404
        return
    assert response.status_code == 200
    listed = {pupil.upn for pupil in response.context["page"]}
    on_roll = {"school": {"pupil"}, "other_school": {"other_pupil", "caseload_pupil"}}[target]
    assert listed == {world[name].upn for name in on_roll & VISIBLE_PUPILS[role]}


@pytest.mark.parametrize("role", ROLES)
def test_it_opens_the_caseload_page_only_for_social_workers(as_role, world, role):
    path = reverse("pupils:caseload")
    response = as_role(role).get(path)
    if role == "anonymous":
        assert _login_redirect(response, path)
    elif role == "social_worker":
        assert response.status_code == 200
        assert {p.upn for p in response.context["page"]} == {world["caseload_pupil"].upn}
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("role", ROLES[1:])
@pytest.mark.parametrize("band", ["1", "5"])
def test_it_filters_pupils_by_band_only_within_what_a_role_may_see(as_role, world, role, band):
    """Every pupil is in band 1 city-wide: ?band=1 lists exactly the visible ones, ?band=5 none."""
    from django.utils import timezone

    from attendance.models import PupilSummary
    from schools.models import AcademicYear

    today = timezone.localdate()
    for name in PUPILS:
        PupilSummary.objects.create(pupil=world[name], school=None, as_of=today,
                                    academic_year=AcademicYear.start_year_for(today),
                                    possible=10, attended=10, authorised=0, unauthorised=0,
                                    band=1)
    response = as_role(role).get(reverse("pupils:list"), {"band": band})
    assert response.status_code == 200
    listed = {pupil.upn for pupil in response.context["page"]}
    visible = {world[name].upn for name in VISIBLE_PUPILS[role]}
    assert listed == (visible if band == "1" else set())


@pytest.mark.parametrize("role", ROLES)
def test_it_opens_the_admin_only_for_administrators(as_role, role):
    response = as_role(role).get(reverse("admin:index"))
    if role == "administrator":
        assert response.status_code == 200
    else:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


PUBLIC_PAGES = ["login", "password_reset", "password_reset_done", "password_reset_complete",
                "healthz"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url_name", PUBLIC_PAGES + ["password_reset_confirm"])
def test_it_opens_the_sign_in_and_password_reset_pages_to_everyone(as_role, world, role,
                                                                  url_name):
    """Signed in, the sign-in page goes home; a reset link that is not valid says so."""
    from django.utils.http import urlsafe_base64_encode

    uid = urlsafe_base64_encode(str(world["school_lead"].pk).encode())
    args = [uid, "not-a-token"] if url_name == "password_reset_confirm" else []
    response = as_role(role).get(reverse(url_name, args=args))
    if url_name == "login" and role != "anonymous":
        assert response.status_code == 302 and response["Location"] == reverse("home")
        return
    assert response.status_code == 200
    if url_name == "password_reset_confirm":
        assert response.context["validlink"] is False


@pytest.mark.parametrize("role", ROLES)
def test_it_signs_every_role_out_only_with_a_post(as_role, role):
    client = as_role(role)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert _login_redirect(client.get(reverse("home")), reverse("home"))


@pytest.mark.parametrize("role", ROLES)
def test_it_lets_every_signed_in_role_change_their_password(as_role, world, role):
    from tests.factories import PASSWORD

    client = as_role(role)
    form, done = reverse("password_change"), reverse("password_change_done")
    page = client.get(form)
    new = "a-long-new-passphrase-for-2026"
    changed = client.post(form, {"old_password": PASSWORD, "new_password1": new,
                                 "new_password2": new})
    if role == "anonymous":
        assert _login_redirect(page, form) and _login_redirect(changed, form)
        assert _login_redirect(client.get(done), done)
        return
    assert page.status_code == 200
    assert changed.status_code == 302 and changed["Location"] == done
    assert client.get(done).status_code == 200
    world[role].refresh_from_db()
    assert world[role].check_password(new)
    assert client.get(reverse("home")).status_code == 200  # still signed in


def test_it_gives_a_school_lead_a_404_for_another_schools_urls(client, school_lead, other_school,
                                                                other_pupil):
    client.force_login(school_lead)
    for path in [
        reverse("schools:detail", args=[other_school.urn]),
        reverse("pupils:detail", args=[other_pupil.upn]),
        f"{reverse('pupils:list')}?school={other_school.urn}",
        reverse("school-detail", args=[other_school.urn]),
        reverse("pupil-detail", args=[other_pupil.upn]),
        f"{reverse('pupils:list')}?school={other_school.urn}&band=1",
        reverse("pupil-attendance", args=[other_pupil.upn]),
        reverse("pupil-band-history", args=[other_pupil.upn]),
    ]:
        response = client.get(path)
        assert response.status_code == 404, path
        assert other_pupil.surname not in response.content.decode()


def test_it_shows_the_govuk_not_found_page_to_a_guessing_school_lead(client, school_lead,
                                                                      other_school):
    client.force_login(school_lead)
    response = client.get(reverse("schools:detail", args=[other_school.urn]))
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert "404.html" in [t.name for t in response.templates]


# --- API ------------------------------------------------------------------------------------

def _api_client(client, world, role):
    if role != "anonymous":
        client.force_login(world[role])
    return client


@pytest.mark.parametrize("role", ROLES)
def test_it_lists_exactly_the_allowed_schools_on_the_api(client, world, role):
    response = _api_client(client, world, role).get("/api/schools/")
    if role == "anonymous":
        assert response.status_code in (401, 403)
        return
    assert response.status_code == 200
    listed = {row["urn"] for row in response.json()["results"]}
    assert listed == {world[name].urn for name in VISIBLE_SCHOOLS[role]}


@pytest.mark.parametrize("role", ROLES)
def test_it_lists_exactly_the_allowed_pupils_on_the_api(client, world, role):
    response = _api_client(client, world, role).get("/api/pupils/")
    if role == "anonymous":
        assert response.status_code in (401, 403)
        return
    assert response.status_code == 200
    listed = {row["upn"] for row in response.json()["results"]}
    assert listed == {world[name].upn for name in VISIBLE_PUPILS[role]}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("target", SCHOOLS)
def test_it_serves_a_school_on_the_api_only_to_roles_that_may_see_it(client, world, role, target):
    response = _api_client(client, world, role).get(f"/api/schools/{world[target].urn}/")
    if role == "anonymous":
        assert response.status_code in (401, 403)
    elif target in VISIBLE_SCHOOLS[role]:
        assert response.status_code == 200
        assert response.json()["urn"] == world[target].urn
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("target", PUPILS)
def test_it_serves_a_pupil_on_the_api_only_to_roles_that_may_see_them(client, world, role,
                                                                       target):
    response = _api_client(client, world, role).get(f"/api/pupils/{world[target].upn}/")
    if role == "anonymous":
        assert response.status_code in (401, 403)
    elif target in VISIBLE_PUPILS[role]:
        assert response.status_code == 200
        assert response.json()["upn"] == world[target].upn
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("target", PUPILS)
@pytest.mark.parametrize("endpoint", ["attendance", "band-history"])
def test_it_serves_a_pupils_attendance_on_the_api_only_to_roles_that_may_see_them(
        client, world, role, target, endpoint):
    response = _api_client(client, world, role).get(
        f"/api/pupils/{world[target].upn}/{endpoint}/")
    if role == "anonymous":
        assert response.status_code in (401, 403)
    elif target in VISIBLE_PUPILS[role]:
        assert response.status_code == 200
        assert response.json()["upn"] == world[target].upn
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/"])
def test_it_serves_the_api_schema_and_docs_only_to_signed_in_users(client, world, role, path):
    response = _api_client(client, world, role).get(path)
    if role == "anonymous":
        assert response.status_code in (401, 403)
    else:
        assert response.status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_it_serves_the_api_root_only_to_signed_in_users(client, world, role):
    response = _api_client(client, world, role).get("/api/")
    if role == "anonymous":
        assert response.status_code in (401, 403)
    else:
        assert response.status_code == 200
        assert "schools" in response.json()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("target", SCHOOLS)
def test_it_serves_import_runs_on_the_api_only_to_importers(client, world, role, target,
                                                           tmp_path):
    """Only importers reach the endpoint (403 for the others: a role, not an object); among
    them a run of a school they cannot see is not listed and is a 404."""
    from attendance.models import ImportRun

    run = ImportRun.objects.create(school=world[target], original_filename="r.csv",
                                   stored_path=str(tmp_path / "r"), sha256="0" * 64)
    client = _api_client(client, world, role)
    listing, detail = client.get("/api/imports/"), client.get(f"/api/imports/{run.pk}/")
    if role == "anonymous":
        assert {listing.status_code, detail.status_code} <= {401, 403}
    elif role not in IMPORTERS:
        assert (listing.status_code, detail.status_code) == (403, 403)
    elif target in VISIBLE_SCHOOLS[role]:
        assert [row["id"] for row in listing.json()["results"]] == [run.pk]
        assert detail.status_code == 200 and detail.json()["school"] == world[target].urn
    else:
        assert listing.json()["results"] == []
        assert detail.status_code == 404


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_it_refuses_writes_on_the_read_only_api(client, manager, pupil, method):
    client.force_login(manager)
    response = getattr(client, method)(f"/api/pupils/{pupil.upn}/", {},
                                       content_type="application/json")
    assert response.status_code == 405
