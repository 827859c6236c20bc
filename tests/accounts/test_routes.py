"""Every named route of the portal is in a role matrix: walked from the URL resolver.

``COVERED_BY`` names, for each route, the tests that open it as each role. The walk fails for a
route that is not listed (a new page or endpoint needs its matrix), for a listed route that no
longer exists, for a listed test that does not exist, and for a route whose tests leave out one
of the six roles. A test's roles are read from its ``role``/``persona`` parametrization; a test
that is about one role says so in brackets (``…::test_name[anonymous]``). The anonymous visitor
is covered for every route at once by ``test_it_sends_an_anonymous_visitor_away_from_every_route``
below. The admin (Django's own, staff only: ``test_it_opens_the_admin_only_for_administrators``)
and static files are not walked.
"""

import importlib
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

ROLES = {"administrator", "manager", "la_officer", "school_lead", "social_worker", "anonymous"}
ROLE_ARGUMENTS = {"role", "persona"}
ROOT = Path(__file__).resolve().parents[2]

# Pages and endpoints open to a visitor who has not signed in.
PUBLIC = {"login", "password_reset", "password_reset_done", "password_reset_confirm",
          "password_reset_complete", "healthz", "logout"}

ACCOUNTS = "tests/accounts/test_permissions.py::"
INTERVENTIONS = "tests/interventions/test_permissions.py::"
TSM = "tests/tsm/test_permissions.py::"
BOOKING_API = "tests/tsm/test_booking_api.py::"
REPORT_SCHOOLS = "tests/reports/test_school_permissions.py::"
COHORTS = "tests/reports/test_cohort_permissions.py::"
ALERTS = "tests/alerts/test_permissions.py::"
REPORTS_API = "tests/reports/test_reports_api_scoped.py::"
COHORT_DOWNLOADS = "tests/reports/test_cohort_downloads.py::"

_top = ACCOUNTS + "test_it_lets_every_signed_in_role_open_the_top_level_pages"
_public = ACCOUNTS + "test_it_opens_the_sign_in_and_password_reset_pages_to_everyone"
_imports = ACCOUNTS + "test_it_opens_the_import_pages_only_for_roles_that_import"
_import_run = ACCOUNTS + "test_it_opens_an_import_run_only_for_importers_who_may_see_its_school"
_meeting_pages = TSM + "test_it_shows_a_meetings_pages_only_to_those_who_see_the_school"
_tsm_posts = TSM + "test_it_lets_each_role_make_only_its_own_changes_to_a_meeting"
_tsm_managers = TSM + "test_it_keeps_rounds_and_coverage_for_managers"
_tsm_api = TSM + "test_it_scopes_the_meetings_api"
_case_reads = INTERVENTIONS + "test_it_opens_a_case_page_only_for_roles_that_may_read_it"
_case_edits = INTERVENTIONS + "test_it_opens_a_change_page_only_for_roles_that_may_add_to_the_case"
_case_lists = INTERVENTIONS + "test_it_opens_the_lists_for_caseworkers_only"
_case_api = INTERVENTIONS + "test_it_reads_cases_interventions_and_chronology_in_the_api_by_scope"
_report_list = REPORT_SCHOOLS + "test_it_lists_exactly_the_schools_a_role_may_see"
_report_school = REPORT_SCHOOLS + \
    "test_it_opens_a_school_report_only_for_roles_that_may_see_the_school"
_city = "tests/reports/test_city_permissions.py::test_every_role_on_the_city_dashboard_and_its_csv"
_quarterly = "tests/reports/test_quarterly.py::test_who_may_see_the_report_and_its_download"
_reports_api = "tests/reports/test_reports_api.py::test_every_role_on_every_endpoint"
_alert_pages = ALERTS + "test_it_opens_an_alert_only_for_roles_that_may_see_it"
_alert_api = ALERTS + "test_it_serves_and_acknowledges_an_alert_on_the_api_only_within_scope"

COVERED_BY: dict[str, list[str]] = {
    # accounts
    "home": [_top],
    "account": [_top],
    "login": [_public],
    "logout": [ACCOUNTS + "test_it_signs_every_role_out_only_with_a_post"],
    "password_change": [ACCOUNTS + "test_it_lets_every_signed_in_role_change_their_password"],
    "password_change_done": [
        ACCOUNTS + "test_it_lets_every_signed_in_role_change_their_password"],
    "password_reset": [_public],
    "password_reset_done": [_public],
    "password_reset_confirm": [_public],
    "password_reset_complete": [_public],
    "healthz": [_public],
    # schools and pupils
    "schools:list": [_top],
    "schools:detail": [ACCOUNTS + "test_it_opens_a_school_page_only_for_roles_that_may_see_it"],
    "pupils:list": [_top],
    "pupils:caseload": [ACCOUNTS + "test_it_opens_the_caseload_page_only_for_social_workers"],
    "pupils:detail": [ACCOUNTS + "test_it_opens_a_pupil_page_only_for_roles_that_may_see_them"],
    # alerts
    "alerts:inbox": [_top],
    "alerts:preferences": [ALERTS + "test_it_lets_every_signed_in_role_choose_how_alerts_come"],
    "alerts:detail": [_alert_pages],
    # register imports
    "imports:list": [_imports],
    "imports:new": [_imports],
    "imports:detail": [_import_run],
    "imports:errors_csv": [_import_run],
    # Targeting Support Meetings
    "tsm:list": [TSM + "test_it_lists_only_the_meetings_each_persona_may_see"],
    "tsm:round-open": [_tsm_managers],
    "tsm:coverage": [_tsm_managers],
    "tsm:coverage-csv": [_tsm_managers],
    "tsm:coverage-xlsx": [_tsm_managers],
    "tsm:detail": [_meeting_pages],
    "tsm:pack": [_meeting_pages],
    "tsm:record": [_meeting_pages],
    "tsm:minutes": [_meeting_pages],
    "tsm:ics": [_meeting_pages],
    "tsm:cancel": [_meeting_pages, _tsm_posts],
    "tsm:propose": [_tsm_posts],
    "tsm:confirm": [_tsm_posts],
    "tsm:hold": [_tsm_posts],
    "tsm:agenda-add": [_tsm_posts],
    "tsm:agenda-notes": [_tsm_posts],
    "tsm:pupil-note": [_tsm_posts],
    "tsm:action-create": [_tsm_posts],
    "tsm:action-status": [_tsm_posts],
    "tsm:action-description": [_tsm_posts],
    # casework
    "interventions:list": [
        _case_lists, INTERVENTIONS + "test_it_lists_exactly_the_cases_a_role_may_see"],
    "interventions:open": [
        INTERVENTIONS + "test_it_opens_a_case_only_for_pupils_a_role_may_add_to"],
    "interventions:social_worker": [
        INTERVENTIONS + "test_it_opens_the_social_worker_page_for_social_workers_only"],
    "interventions:part_time": [_case_lists],
    "interventions:ap": [_case_lists],
    "interventions:under_20": [_case_lists],
    "interventions:missing": [_case_lists],
    "interventions:threshold": [_case_lists],
    "interventions:penalty_notices": [_case_lists],
    "interventions:penalty_notice_status": [
        INTERVENTIONS + "test_it_opens_a_penalty_notice_only_for_roles_that_may_add_to_its_case"],
    "interventions:detail": [_case_reads],
    "interventions:chronology_print": [_case_reads],
    "interventions:chronology_add": [_case_edits],
    "interventions:stage": [_case_edits],
    "interventions:close": [_case_edits],
    "interventions:family_link": [_case_edits],
    "interventions:intervention_add": [_case_edits],
    "interventions:intervention_review": [_case_edits],
    "interventions:intervention_end": [
        INTERVENTIONS + "test_it_opens_the_end_of_an_intervention_only_for_roles_that_may_add"],
    "interventions:consultation": [_case_edits],
    "interventions:alternatives": [_case_edits],
    "interventions:sw_decision": [
        INTERVENTIONS + "test_it_lets_only_the_allocated_social_worker_decide"],
    "interventions:hold": [_case_edits],
    "interventions:hold_review": [
        INTERVENTIONS + "test_it_opens_the_hold_review_only_for_roles_that_may_add_to_the_case"],
    "interventions:prosecution": [
        INTERVENTIONS + "test_it_lets_only_officers_and_managers_open_the_prosecution_page"],
    "interventions:penalty_add": [_case_edits],
    "case-prosecution": [
        INTERVENTIONS + "test_it_lets_only_officers_and_managers_start_a_prosecution_in_the_api"],
    "case-social-worker-decision": [
        INTERVENTIONS + "test_it_lets_only_the_allocated_social_worker_decide_in_the_api"],
    # dashboards and reports
    "reports:city": [_city],
    "reports:city_csv": [_city],
    "reports:city_xlsx": [_quarterly],
    "reports:quarterly": [_quarterly],
    "reports:quarterly_xlsx": [_quarterly],
    "reports:schools": [_report_list],
    "reports:schools_csv": [_report_list],
    "reports:schools_xlsx": [_report_list],
    "reports:school": [_report_school],
    "reports:school_csv": [_report_school],
    "reports:school_xlsx": [_report_school],
    "reports:cohorts": [COHORTS + "test_the_index_is_open_to_every_signed_in_role_with_a_scope"],
    "reports:cohort": [COHORTS + "test_every_role_on_every_cohort_page"],
    "reports:cohort_csv": [COHORTS + "test_every_role_on_every_cohort_csv"],
    "reports:cohort_xlsx": [COHORT_DOWNLOADS + "test_every_role_gets_the_xlsx_of_its_own_scope"],
    "reports:cohort_pupils_csv": [
        COHORT_DOWNLOADS + "test_every_role_gets_only_the_pupils_the_page_lists"],
    # API
    "api-root": [ACCOUNTS + "test_it_serves_the_api_root_only_to_signed_in_users"],
    "api-schema": [ACCOUNTS + "test_it_serves_the_api_schema_and_docs_only_to_signed_in_users"],
    "api-docs": [ACCOUNTS + "test_it_serves_the_api_schema_and_docs_only_to_signed_in_users"],
    "school-list": [ACCOUNTS + "test_it_lists_exactly_the_allowed_schools_on_the_api"],
    "school-detail": [
        ACCOUNTS + "test_it_serves_a_school_on_the_api_only_to_roles_that_may_see_it"],
    "pupil-list": [ACCOUNTS + "test_it_lists_exactly_the_allowed_pupils_on_the_api"],
    "pupil-detail": [
        ACCOUNTS + "test_it_serves_a_pupil_on_the_api_only_to_roles_that_may_see_them"],
    "pupil-attendance": [ACCOUNTS + "test_it_serves_a_pupils_attendance_on_the_api_only_to_roles_"
                                    "that_may_see_them"],
    "pupil-band-history": [ACCOUNTS + "test_it_serves_a_pupils_attendance_on_the_api_only_to_"
                                      "roles_that_may_see_them"],
    "alert-list": [_alert_api],
    "alert-detail": [_alert_api],
    "alert-acknowledge": [_alert_api],
    "import-list": [ACCOUNTS + "test_it_serves_import_runs_on_the_api_only_to_importers"],
    "import-detail": [ACCOUNTS + "test_it_serves_import_runs_on_the_api_only_to_importers"],
    "tsm-meeting-list": [_tsm_api],
    "tsm-meeting-detail": [_tsm_api],
    "tsm-meeting-pack": [_tsm_api],
    "tsm-meeting-propose": [
        BOOKING_API + "test_only_the_link_officer_proposes_the_first_date"],
    "tsm-meeting-confirm": [BOOKING_API + "test_only_the_school_confirms_the_officers_date"],
    "tsm-meeting-cancel": [
        BOOKING_API + "test_the_link_officer_or_a_manager_cancels_with_a_reason"],
    "tsm-meeting-hold": [BOOKING_API + "test_only_the_link_officer_holds_the_meeting"],
    "tsm-action-list": [_tsm_api],
    "tsm-action-detail": [_tsm_api],
    "case-list": [INTERVENTIONS + "test_it_lists_cases_in_the_api_by_scope"],
    "case-detail": [_case_api],
    "intervention-list": [_case_api],
    "intervention-detail": [_case_api],
    "chronology-entry-list": [_case_api],
    "chronology-entry-detail": [_case_api],
    "reports-city-headline": [_reports_api],
    "reports-city-weeks": [REPORTS_API + "test_city_weeks_for_every_role"],
    "reports-schools": [REPORTS_API + "test_the_schools_list_for_every_role"],
    "reports-school": [REPORTS_API + "test_a_school_report_for_every_role_and_school"],
    "reports-cohort": [REPORTS_API + "test_a_cohort_for_every_role"],
    "reports-city-bands": [_reports_api],
    "reports-city-breakdowns": [_reports_api],
    "reports-city-breakdown": [_reports_api],
}


def _walk(patterns, namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = entry.namespace or ""
            if inner == "admin":
                continue
            yield from _walk(entry.url_patterns, f"{namespace}{inner}:" if inner else namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", entry


def named_routes() -> dict[str, URLPattern]:
    """Each route name with its first pattern (DRF adds a format-suffix twin under one name)."""
    routes: dict[str, URLPattern] = {}
    for name, pattern in _walk(get_resolver().url_patterns):
        routes.setdefault(name, pattern)
    return routes


def _roles_of(reference: str) -> set[str]:
    path, _, name = reference.partition("::")
    name, _, stated = name.partition("[")
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    test = getattr(module, name, None)
    assert callable(test), f"{reference}: no such test"
    if stated:
        return {role.strip() for role in stated.rstrip("]").split(",")}
    roles: set[str] = set()
    for mark in getattr(test, "pytestmark", []):
        if mark.name != "parametrize":
            continue
        names = mark.args[0]
        names = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
        for position, argument in enumerate(names):
            if argument in ROLE_ARGUMENTS:
                for value in mark.args[1]:
                    value = getattr(value, "values", value)  # pytest.param(...)
                    roles.add(value[position] if len(names) > 1 else value)
    assert roles, f"{reference} is not parametrized by role: say which roles it covers in []"
    return roles


def _mentions(reference: str, route: str) -> bool:
    """The test's file names the route, by name or by the last fixed part of its path."""
    source = (ROOT / reference.partition("::")[0]).read_text()
    short = route.rpartition(":")[2]
    samples = _sample_kwargs(named_routes()[route])
    path = reverse(route, kwargs=samples)
    fixed = [part for part in path.split("/") if part and part not in samples.values()]
    candidates = {route, short, short.replace("_", "-"), short.replace("-", "_")} | set(fixed[-1:])
    return any(candidate in source for candidate in candidates)


def test_every_named_route_is_in_a_role_matrix():
    routes = set(named_routes())
    assert sorted(routes - set(COVERED_BY)) == [], "routes without a role matrix"
    assert sorted(set(COVERED_BY) - routes) == [], "listed routes that no longer exist"
    gaps = {}
    for route, references in COVERED_BY.items():
        covered = {"anonymous"} if route not in PUBLIC else set()
        for reference in references:
            covered |= _roles_of(reference)
            assert _mentions(reference, route), f"{reference} does not open {route}"
        if ROLES - covered:
            gaps[route] = sorted(ROLES - covered)
    assert gaps == {}, "routes whose matrix leaves out a role"


def _sample_kwargs(pattern: URLPattern) -> dict[str, str]:
    names = list(getattr(pattern.pattern, "converters", None) or pattern.pattern.regex.groupindex)
    samples = {"uidb64": "MQ", "token": "set-password", "format": "json"}
    return {name: samples.get(name, "999999") for name in names if name != "format"}


@pytest.mark.django_db
@pytest.mark.parametrize("route", sorted(set(COVERED_BY) - PUBLIC))
def test_it_sends_an_anonymous_visitor_away_from_every_route(client, route):
    """Signed out, every page redirects to sign in and every API endpoint refuses, before any
    lookup: an unknown id gets the same answer as a real one. Routes that only accept a POST
    answer a GET the same way (login_required is checked first); a POST is refused the same
    way, or with a 405 where the route takes no POST."""
    pattern = named_routes()[route]
    path = reverse(route, kwargs=_sample_kwargs(pattern))
    for method in ("get", "post"):
        response = getattr(client, method)(path, {})
        if method == "post" and response.status_code == 405:
            continue
        if path.startswith("/api/"):
            assert response.status_code in (401, 403), (method, path, response.status_code)
        else:
            assert response.status_code == 302, (method, path, response.status_code)
            assert response["Location"].startswith(f"{reverse('login')}?next="), path
