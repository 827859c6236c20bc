import pytest
from django.core import mail
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from alerts.models import Alert, AlertPreference, Rule
from alerts.selectors import alert_list, unread_count
from alerts.services import (
    alert_acknowledge,
    alerts_email_immediate,
    alerts_insert_from_select,
    alerts_send_digest,
)
from attendance_portal.errors import ApplicationError

pytestmark = pytest.mark.django_db

SELECT = (
    "SELECT %s::bigint, %s::bigint, %s::bigint, %s, %s, '{\"rate\": \"84.2%%\"}'::jsonb, %s"
)


def _raise(recipient, pupil, school, key="k1", rule=Rule.ENTERED_PA):
    return alerts_insert_from_select(
        select_sql=SELECT,
        params=[recipient.pk, pupil.pk, school.pk, rule, "Attendance 84.2%", key],
    )


def test_it_never_raises_the_same_event_twice(social_worker, caseload_pupil, other_school):
    first = _raise(social_worker, caseload_pupil, other_school)
    again = _raise(social_worker, caseload_pupil, other_school)
    assert len(first) == 1 and again == []
    assert Alert.objects.count() == 1


def test_it_raises_a_new_alert_for_a_new_episode(social_worker, caseload_pupil, other_school):
    _raise(social_worker, caseload_pupil, other_school, key="pa:2025-10-01")
    _raise(social_worker, caseload_pupil, other_school, key="pa:2026-02-01")
    assert Alert.objects.count() == 2


def test_it_shows_alerts_to_their_recipient_and_the_link_officer_only(
    social_worker, pupil, school, la_officer, other_school_lead, manager
):
    _raise(social_worker, pupil, school)
    assert alert_list(user=social_worker).count() == 1
    assert alert_list(user=la_officer).count() == 1  # pupil is on a linked school's roll
    assert alert_list(user=other_school_lead).count() == 0
    assert alert_list(user=manager).count() == 1
    assert unread_count(user=social_worker) == 1
    assert unread_count(user=la_officer) == 0


def test_it_records_who_acknowledged_and_refuses_twice(social_worker, pupil, school):
    _raise(social_worker, pupil, school)
    alert = Alert.objects.get()
    alert_acknowledge(alert=alert, user=social_worker, note="Called the family")
    alert.refresh_from_db()
    assert alert.acknowledged_by == social_worker and alert.read_at is not None
    with pytest.raises(ApplicationError, match="already acknowledged"):
        alert_acknowledge(alert=alert, user=social_worker)


def test_it_lets_only_the_recipient_or_the_link_officer_acknowledge(
        social_worker, la_officer, manager, pupil, school):
    _raise(social_worker, pupil, school)
    alert = Alert.objects.get()
    with pytest.raises(ApplicationError, match="Only the person this alert was sent to"):
        alert_acknowledge(alert=alert, user=manager)
    alert.refresh_from_db()
    assert alert.acknowledged_at is None
    alert_acknowledge(alert=alert, user=la_officer)  # the school's link officer
    alert.refresh_from_db()
    assert alert.acknowledged_by == la_officer


def test_an_alert_without_evidence_can_still_be_acknowledged(social_worker, pupil, school):
    _raise(social_worker, pupil, school)
    Alert.objects.update(evidence={})
    alert_acknowledge(alert=Alert.objects.get(), user=social_worker)
    assert Alert.objects.get().acknowledged_by == social_worker


def test_it_emails_immediately_without_naming_the_child(social_worker, caseload_pupil,
                                                        other_school):
    ids = _raise(social_worker, caseload_pupil, other_school)
    assert alerts_email_immediate(alert_ids=ids) == 1
    assert alerts_email_immediate(alert_ids=ids) == 0  # never twice
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [social_worker.email]
    assert caseload_pupil.surname not in message.body and caseload_pupil.upn not in message.body


def test_it_sends_digest_users_one_email_a_day(social_worker, caseload_pupil, other_school):
    AlertPreference.objects.create(user=social_worker, delivery="digest")
    ids = _raise(social_worker, caseload_pupil, other_school, key="a")
    ids += _raise(social_worker, caseload_pupil, other_school, key="b", rule=Rule.ENTERED_SA)
    assert alerts_email_immediate(alert_ids=ids) == 0
    assert alerts_send_digest() == 1
    assert "2 new" in mail.outbox[0].subject
    assert alerts_send_digest() == 0


def test_it_schedules_the_digest_in_beat():
    assert PeriodicTask.objects.filter(task="alerts.tasks.send_daily_digest").exists()


def test_it_lets_the_worker_acknowledge_from_the_inbox(client, social_worker, caseload_pupil,
                                                       other_school):
    _raise(social_worker, caseload_pupil, other_school)
    alert = Alert.objects.get()
    client.force_login(social_worker)
    inbox = client.get(reverse("alerts:inbox"))
    assert inbox.status_code == 200 and "Entered persistent absence" in inbox.content.decode()
    response = client.post(reverse("alerts:detail", args=[alert.pk]), {"note": "Visited"})
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.acknowledgement_note == "Visited"


def test_it_gives_an_outsider_404_for_an_alert(client, social_worker, caseload_pupil,
                                               other_school, school_lead):
    _raise(social_worker, caseload_pupil, other_school)
    client.force_login(school_lead)
    assert client.get(reverse("alerts:detail", args=[Alert.objects.get().pk])).status_code == 404


def test_it_acknowledges_through_the_api(client, social_worker, caseload_pupil, other_school,
                                         school_lead):
    _raise(social_worker, caseload_pupil, other_school)
    pk = Alert.objects.get().pk
    client.force_login(school_lead)
    assert client.post(f"/api/alerts/{pk}/acknowledge/", {}).status_code == 404
    client.force_login(social_worker)
    listing = client.get("/api/alerts/").json()
    assert listing["count"] == 1
    response = client.post(f"/api/alerts/{pk}/acknowledge/", {"note": "ok"},
                           content_type="application/json")
    assert response.status_code == 200 and response.json()["acknowledged_at"]
    again = client.post(f"/api/alerts/{pk}/acknowledge/", {}, content_type="application/json")
    assert again.status_code == 400 and "already acknowledged" in again.json()["detail"]


def test_the_alert_page_lists_the_evidence_in_reading_order(client, la_officer, pupil, school):
    """jsonb keeps keys shortest first; the page puts "Window from" before "Window to"."""
    _raise(la_officer, pupil, school, rule=Rule.PENALTY_THRESHOLD)
    alert = Alert.objects.get()
    alert.evidence = {"window to": "07/12/2025", "unauthorised sessions": 10,
                      "window from": "29/09/2025", "something new": "x"}
    alert.save()
    alert.refresh_from_db()
    assert list(alert.evidence)[0] == "window to"  # as PostgreSQL gives them back
    client.force_login(la_officer)
    page = client.get(reverse("alerts:detail", args=[alert.pk])).content.decode()
    keys = ["Unauthorised sessions", "Window from", "Window to", "Something new"]
    assert [page.index(f">{key}<") for key in keys] == sorted(page.index(f">{key}<")
                                                              for key in keys)
