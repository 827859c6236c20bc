"""Who may open, list and acknowledge which alert, and set their own email preference: every role.

The world of tests/accounts/test_permissions.py, with three alerts: to ``social_worker`` about
``caseload_pupil`` (Riverside), to ``la_officer`` about Hilltop falling silent, and to
``school_lead`` about ``pupil`` (Hilltop). An alert is seen by its recipient, by the link officer
of its school or its pupil's school (``la_officer`` for Hilltop), and by managers and
administrators; anyone else gets a 404.
"""

import pytest
from django.urls import reverse

from alerts.models import Alert, AlertPreference, Rule
from tests.accounts.test_permissions import ROLES
from tests.alerts.test_alerts import _raise

pytestmark = pytest.mark.django_db

ALERTS = ["to_social_worker", "to_la_officer", "to_school_lead"]
SEES_ALL = {"administrator", "manager"}
VISIBLE = {
    "anonymous": set(),
    "administrator": set(ALERTS),
    "manager": set(ALERTS),
    "la_officer": {"to_la_officer", "to_school_lead"},
    "school_lead": {"to_school_lead"},
    "other_school_lead": set(),
    "social_worker": {"to_social_worker"},
}


@pytest.fixture
def world(request, school, other_school, la_officer, school_lead, other_school_lead,
          social_worker, manager, administrator, pupil, other_pupil, caseload_pupil):
    found = {name: request.getfixturevalue(name) for name in ROLES[1:]}
    _raise(social_worker, caseload_pupil, other_school, key="a")
    _raise(school_lead, pupil, school, key="c", rule=Rule.ENTERED_SA)
    found["alert:to_la_officer"] = Alert.objects.create(
        recipient=la_officer, school=school, rule=Rule.SCHOOL_SILENT,
        summary="Hilltop Primary sent no marks for 5 school days", dedup_key="b",
        evidence={"school days without marks": 5})
    found["alert:to_social_worker"] = Alert.objects.get(recipient=social_worker)
    found["alert:to_school_lead"] = Alert.objects.get(recipient=school_lead)
    return found


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


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("target", ALERTS)
def test_it_opens_an_alert_only_for_roles_that_may_see_it(as_role, world, role, target):
    alert = world[f"alert:{target}"]
    response = as_role(role).get(reverse("alerts:detail", args=[alert.pk]))
    if role == "anonymous":
        assert _login_redirect(response)
    elif target in VISIBLE[role]:
        assert response.status_code == 200
        assert response.context["alert"] == alert
        may = alert.recipient == world[role] or role == "la_officer"
        html = response.content.decode()
        assert ('data-testid="acknowledge"' in html) == may
        assert ('data-testid="not-yours"' in html) == (not may)
    else:
        assert response.status_code == 404
        assert alert.summary not in response.content.decode()


@pytest.mark.parametrize("role", ROLES)
def test_it_lists_exactly_the_alerts_a_role_may_see_in_the_inbox(as_role, world, role):
    response = as_role(role).get(reverse("alerts:inbox"))
    if role == "anonymous":
        assert _login_redirect(response)
        return
    listed = {alert.pk for alert in response.context["page"]}
    assert listed == {world[f"alert:{name}"].pk for name in VISIBLE[role]}


@pytest.mark.parametrize("role", ROLES)
def test_it_lets_every_signed_in_role_choose_how_alerts_come(as_role, world, role):
    client = as_role(role)
    path = reverse("alerts:preferences")
    page = client.get(path)
    saved = client.post(path, {"delivery": "digest"})
    if role == "anonymous":
        assert _login_redirect(page) and _login_redirect(saved)
        assert not AlertPreference.objects.exists()
        return
    assert page.status_code == 200
    assert saved.status_code == 302 and saved["Location"] == reverse("alerts:inbox")
    assert list(AlertPreference.objects.values_list("user", "delivery")) == [
        (world[role].pk, "digest")]  # their own preference, nobody else's


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("target", ALERTS)
def test_it_serves_and_acknowledges_an_alert_on_the_api_only_within_scope(as_role, world, role,
                                                                          target):
    alert = world[f"alert:{target}"]
    client = as_role(role)
    listing = client.get("/api/alerts/")
    detail = client.get(f"/api/alerts/{alert.pk}/")
    acknowledged = client.post(f"/api/alerts/{alert.pk}/acknowledge/", {"note": "Seen"},
                               content_type="application/json")
    if role == "anonymous":
        assert {listing.status_code, detail.status_code, acknowledged.status_code} <= {401, 403}
        return
    listed = {row["id"] for row in listing.json()["results"]}
    assert listed == {world[f"alert:{name}"].pk for name in VISIBLE[role]}
    alert.refresh_from_db()
    if target not in VISIBLE[role]:
        assert (detail.status_code, acknowledged.status_code) == (404, 404)
        assert alert.acknowledged_at is None
        return
    assert detail.status_code == 200 and detail.json()["id"] == alert.pk
    if alert.recipient == world[role] or role == "la_officer":  # DOMAIN.md: the worker or
        assert acknowledged.status_code == 200  # the linked officer
        assert alert.acknowledged_by == world[role]
    else:  # a manager or administrator sees every alert but does not act on another's
        assert acknowledged.status_code == 400
        assert "Only the person this alert was sent to" in acknowledged.json()["detail"]
        assert alert.acknowledged_at is None
