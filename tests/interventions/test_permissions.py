"""Who may open which casework page and endpoint: every persona against every URL.

Cases: one for ``pupil`` (Hilltop, linked to ``la_officer``, led by ``school_lead``), one for
``other_pupil`` and one for ``caseload_pupil`` (both Riverside, led by ``other_school_lead``;
``caseload_pupil`` is on ``social_worker``'s caseload). Each case has one current intervention.
Managers see all; administrators, who are not caseworkers, see none. Outside the scope is a 404,
never a 403, on the pages.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from interventions.models import Case, InterventionType
from interventions.services import case_hold, case_open, intervention_add, penalty_notice_record

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "administrator", "manager", "la_officer", "school_lead",
         "other_school_lead", "social_worker"]
CASES = ["pupil", "other_pupil", "caseload_pupil"]
READS = {
    "anonymous": set(), "administrator": set(), "manager": set(CASES),
    "la_officer": {"pupil"}, "school_lead": {"pupil"},
    "other_school_lead": {"other_pupil", "caseload_pupil"}, "social_worker": {"caseload_pupil"},
}
EDITS = {**READS, "social_worker": set()}
READ_PAGES = ["detail", "chronology_print"]
EDIT_PAGES = ["stage", "close", "family_link", "intervention_add", "chronology_add",
              "consultation", "alternatives", "hold", "hold_review", "penalty_add",
              "intervention_end", "intervention_review"]
ITEM_PAGES = {"intervention_end", "intervention_review"}  # /cases/<case>/interventions/<item>/...
LIST_PAGES = ["list", "part_time", "ap", "under_20", "missing", "threshold", "penalty_notices"]


@pytest.fixture
def world(request, school, other_school, la_officer, school_lead, other_school_lead,
          social_worker, manager, administrator, pupil, other_pupil, caseload_pupil):
    found = {name: request.getfixturevalue(name) for name in ROLES[1:] + CASES}
    for name in CASES:
        found[f"case:{name}"] = case_open(pupil=found[name], user=manager, reason="Concern")
        found[f"item:{name}"] = intervention_add(
            case=found[f"case:{name}"], user=manager, type=InterventionType.EARLY_HELP,
            start_date=timezone.localdate())
    return found


def _page_args(world, page, target):
    case = world[f"case:{target}"]
    return [case.pk, world[f"item:{target}"].pk] if page in ITEM_PAGES else [case.pk]


@pytest.fixture
def as_role(client, world):
    def sign_in(role):
        if role != "anonymous":
            client.force_login(world[role])
        return client
    return sign_in


def _expect(response, role, allowed, path):
    if role == "anonymous":
        assert response.status_code == 302 and reverse("login") in response["Location"], path
    elif allowed:
        assert response.status_code == 200, path
    else:
        assert response.status_code == 404, path


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("target", CASES)
@pytest.mark.parametrize("page", READ_PAGES)
def test_it_opens_a_case_page_only_for_roles_that_may_read_it(as_role, world, role, target,
                                                              page):
    path = reverse(f"interventions:{page}", args=[world[f"case:{target}"].pk])
    response = as_role(role).get(path)
    _expect(response, role, target in READS[role], path)
    if response.status_code == 404:
        assert world[target].surname not in response.content.decode()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("target", CASES)
@pytest.mark.parametrize("page", EDIT_PAGES)
def test_it_opens_a_change_page_only_for_roles_that_may_add_to_the_case(as_role, world, role,
                                                                        target, page):
    path = reverse(f"interventions:{page}", args=_page_args(world, page, target))
    _expect(as_role(role).get(path), role, target in EDITS[role], path)


@pytest.mark.parametrize("page", sorted(ITEM_PAGES))
def test_it_gives_a_404_for_an_intervention_of_another_case(as_role, world, page):
    """The manager may change both cases, but an intervention is reached only through its own."""
    path = reverse(f"interventions:{page}", args=[world["case:pupil"].pk,
                                                  world["item:other_pupil"].pk])
    assert as_role("manager").get(path).status_code == 404


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("target", CASES)
def test_it_lets_only_officers_and_managers_open_the_prosecution_page(as_role, world, role,
                                                                      target):
    path = reverse("interventions:prosecution", args=[world[f"case:{target}"].pk])
    allowed = target in EDITS[role] and role in {"manager", "la_officer"}
    _expect(as_role(role).get(path), role, allowed, path)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("target", CASES)
def test_it_lets_only_the_allocated_social_worker_decide(as_role, world, role, target):
    path = reverse("interventions:sw_decision", args=[world[f"case:{target}"].pk])
    allowed = role == "social_worker" and target == "caseload_pupil"
    _expect(as_role(role).get(path), role, allowed, path)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("target", CASES)
def test_it_opens_a_case_only_for_pupils_a_role_may_add_to(as_role, world, role, target):
    path = reverse("interventions:open", args=[world[target].upn])
    _expect(as_role(role).get(path), role, target in EDITS[role], path)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", LIST_PAGES)
def test_it_opens_the_lists_for_caseworkers_only(as_role, world, role, page):
    path = reverse(f"interventions:{page}")
    _expect(as_role(role).get(path), role, role not in {"administrator"}, path)


@pytest.mark.parametrize("role", ROLES)
def test_it_lists_exactly_the_cases_a_role_may_see(as_role, world, role):
    response = as_role(role).get(reverse("interventions:list"))
    if role in {"anonymous", "administrator"}:
        assert response.status_code in {302, 404}
        return
    listed = {case.pupil.upn for case in response.context["page"]}
    assert listed == {world[name].upn for name in READS[role]}


@pytest.mark.parametrize("role", ROLES)
def test_it_opens_the_social_worker_page_for_social_workers_only(as_role, world, role):
    path = reverse("interventions:social_worker")
    _expect(as_role(role).get(path), role, role == "social_worker", path)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("target", CASES)
def test_it_opens_the_hold_review_only_for_roles_that_may_add_to_the_case(as_role, world, role,
                                                                         target):
    case = world[f"case:{target}"]
    case_hold(case=case, user=world["manager"], reason="Family engaging with early help",
              review_due=timezone.localdate() + timedelta(days=28))
    path = reverse("interventions:hold_review", args=[case.pk])
    response = as_role(role).get(path)
    _expect(response, role, target in EDITS[role], path)
    if response.status_code == 404:
        assert world[target].upn not in response.content.decode()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("target", CASES)
def test_it_opens_the_end_of_an_intervention_only_for_roles_that_may_add(as_role, world, role,
                                                                         target):
    case = world[f"case:{target}"]
    item = intervention_add(case=case, user=world["manager"], type="early_help_assessment",
                            start_date=timezone.localdate())
    path = reverse("interventions:intervention_end", args=[case.pk, item.pk])
    _expect(as_role(role).get(path), role, target in EDITS[role], path)


@pytest.mark.parametrize("role", ["manager", "la_officer", "school_lead"])
def test_it_gives_404_for_another_cases_intervention_under_a_case_a_role_may_add_to(as_role,
                                                                                   world, role):
    """The intervention is looked up inside the case: a guessed id from another case is a 404,
    even for a manager who may add to both."""
    mine = world["case:pupil"]
    theirs = intervention_add(case=world["case:other_pupil"], user=world["manager"],
                              type="early_help_assessment", start_date=timezone.localdate())
    path = reverse("interventions:intervention_end", args=[mine.pk, theirs.pk])
    assert as_role(role).get(path).status_code == 404


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("target", CASES)
def test_it_opens_a_penalty_notice_only_for_roles_that_may_add_to_its_case(as_role, world, role,
                                                                          target):
    notice = penalty_notice_record(pupil=world[target], user=world["manager"],
                                   parent_name="Jane Smith", issued_on=timezone.localdate(),
                                   case=world[f"case:{target}"])
    path = reverse("interventions:penalty_notice_status", args=[notice.pk])
    response = as_role(role).get(path)
    _expect(response, role, target in EDITS[role], path)
    if response.status_code == 404:
        assert "Jane Smith" not in response.content.decode()


def test_it_refuses_a_social_worker_posting_a_chronology_entry(as_role, world):
    case = world["case:caseload_pupil"]
    before = case.chronology.count()
    response = as_role("social_worker").post(
        reverse("interventions:chronology_add", args=[case.pk]),
        {"occurred_on": "2025-10-01", "kind": "contact", "note": "Called mum"})
    assert response.status_code == 404
    assert case.chronology.count() == before
    assert not case.chronology.filter(note="Called mum").exists()


@pytest.mark.parametrize("role", ROLES[1:])
def test_it_shows_the_cases_link_on_the_pupil_page_within_scope(as_role, world, role):
    for name in CASES:
        response = as_role(role).get(reverse("pupils:detail", args=[world[name].upn]))
        if response.status_code != 200:
            continue
        html = response.content.decode()
        link = reverse("interventions:detail", args=[world[f"case:{name}"].pk])
        assert (link in html) == (name in READS[role])


# --- API ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_it_lists_cases_in_the_api_by_scope(as_role, world, role):
    response = as_role(role).get("/api/cases/")
    if role == "anonymous":
        assert response.status_code in {401, 403}
        return
    assert response.status_code == 200
    listed = {row["pupil_upn"] for row in response.json()["results"]}
    assert listed == {world[name].upn for name in READS[role]}


@pytest.mark.parametrize("role", ROLES)
def test_it_lists_exactly_the_interventions_a_role_may_see_in_the_api(as_role, world, role):
    response = as_role(role).get("/api/interventions/")
    if role == "anonymous":
        assert response.status_code in {401, 403}
        return
    assert response.status_code == 200
    listed = {row["id"] for row in response.json()["results"]}
    assert listed == {world[f"item:{name}"].pk for name in READS[role]}
    for name in CASES:  # filtering by a case never reaches outside the scope
        rows = as_role(role).get("/api/interventions/", {"case": world[f"case:{name}"].pk})
        assert {row["id"] for row in rows.json()["results"]} == (
            {world[f"item:{name}"].pk} if name in READS[role] else set())


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("target", CASES)
def test_it_lets_only_the_allocated_social_worker_decide_in_the_api(as_role, world, role,
                                                                    target):
    case = world[f"case:{target}"]
    response = as_role(role).post(f"/api/cases/{case.pk}/social-worker-decision/",
                                  {"decision": "agreed", "note": "Agreed at CIN review"})
    if role == "anonymous":
        assert response.status_code in {401, 403}
    elif target not in READS[role]:
        assert response.status_code == 404
    elif role == "social_worker":
        assert response.status_code == 201
        assert response.json()["social_worker"] == "Sian Worker"
    else:
        assert response.status_code == 403
        assert "allocated social worker" in response.json()["detail"]
    assert case.social_worker_decisions.exists() == (response.status_code == 201)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("target", CASES)
def test_it_lets_only_officers_and_managers_start_a_prosecution_in_the_api(as_role, world, role,
                                                                           target):
    case = world[f"case:{target}"]
    response = as_role(role).post(f"/api/cases/{case.pk}/prosecution/", {"note": ""})
    if role == "anonymous":
        assert response.status_code in {401, 403}
    elif target not in READS[role]:
        assert response.status_code == 404
    elif role in {"manager", "la_officer"}:
        # Allowed to ask, refused by the gates: nothing is recorded on these cases yet.
        assert response.status_code == 400
        assert response.json()["missing_gates"] == ["officer_consulted",
                                                    "alternatives_considered"]
    else:
        assert response.status_code == 403
        assert "LA attendance officer or a manager" in response.json()["detail"]
    assert not case.legal_decisions.exists()


@pytest.mark.parametrize("role", ROLES[1:])
@pytest.mark.parametrize("target", CASES)
def test_it_reads_a_case_and_its_rows_in_the_api_only_within_scope(as_role, world, role, target):
    case = world[f"case:{target}"]
    client = as_role(role)
    detail = client.get(f"/api/cases/{case.pk}/")
    assert detail.status_code == (200 if target in READS[role] else 404)
    rows = client.get("/api/chronology/", {"case": case.pk}).json()["results"]
    assert bool(rows) == (target in READS[role])


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("target", CASES)
def test_it_reads_cases_interventions_and_chronology_in_the_api_by_scope(as_role, world, role,
                                                                         target):
    case = world[f"case:{target}"]
    item = intervention_add(case=case, user=world["manager"], type="early_help_assessment",
                            start_date=timezone.localdate())
    entry = case.chronology.first()
    client = as_role(role)
    details = [client.get(f"/api/cases/{case.pk}/"),
               client.get(f"/api/interventions/{item.pk}/"),
               client.get(f"/api/chronology/{entry.pk}/")]
    lists = [client.get("/api/interventions/"), client.get("/api/chronology/")]
    if role == "anonymous":
        assert {r.status_code for r in details + lists} <= {401, 403}
        return
    visible = target in READS[role]
    assert [r.status_code for r in details] == [200 if visible else 404] * 3
    interventions = {row["id"] for row in lists[0].json()["results"]}
    entries = {row["id"] for row in lists[1].json()["results"]}
    assert (item.pk in interventions, entry.pk in entries) == (visible, visible)


@pytest.mark.parametrize("role", ROLES[1:])
@pytest.mark.parametrize("target", CASES)
def test_it_creates_chronology_and_interventions_in_the_api_only_where_a_role_may_add(
        as_role, world, role, target):
    case = world[f"case:{target}"]
    client = as_role(role)
    entry = client.post("/api/chronology/", {"case": case.pk, "occurred_on": "2025-10-01",
                                             "kind": "visit", "note": "Home visit, no answer"})
    item = client.post("/api/interventions/", {"case": case.pk, "type": "early_help_assessment",
                                               "start_date": "2025-10-01"})
    expected = 201 if target in EDITS[role] else 404
    assert (entry.status_code, item.status_code) == (expected, expected)


@pytest.mark.parametrize("role", ROLES[1:])
def test_it_opens_cases_in_the_api_only_where_a_role_may_add(as_role, world, role):
    Case.objects.all().update(status="closed", closed_at="2025-10-01T00:00Z",
                              closed_by=world["manager"])
    client = as_role(role)
    for name in CASES:
        response = client.post("/api/cases/", {"pupil_upn": world[name].upn, "reason": "Test"})
        assert response.status_code == (201 if name in EDITS[role] else 404), name


def test_it_turns_a_service_refusal_into_a_400(as_role, world):
    response = as_role("manager").post("/api/cases/", {"pupil_upn": world["pupil"].upn,
                                                       "reason": "Again"})
    assert response.status_code == 400
    assert "already has an open case" in response.json()["detail"]


def test_it_puts_the_casework_endpoints_in_the_schema(as_role, world):
    schema = as_role("manager").get("/api/schema/", {"format": "json"}).json()
    for path in ("/api/cases/", "/api/cases/{id}/", "/api/interventions/", "/api/chronology/"):
        assert path in schema["paths"]
    assert "post" in schema["paths"]["/api/chronology/"]
    for path in ("/api/cases/{id}/social-worker-decision/", "/api/cases/{id}/prosecution/"):
        post = schema["paths"][path]["post"]
        assert {"201", "400", "403", "404"} <= set(post["responses"]), path
        assert "requestBody" in post, path
    refusal = schema["components"]["schemas"]["LegalGateRefusal"]["properties"]
    assert {"detail", "missing_gates", "reasons"} <= set(refusal)
