"""Pupil records are special-category data: who looked and who changed what is recorded, and
pupils' names and UPNs stay out of the application's log output."""

import logging
from datetime import date

import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from pupils.models import Enrolment, SocialWorkerAllocation
from tests.factories import AllocationFactory, CharacteristicsFactory

pytestmark = pytest.mark.django_db


def _entries(instance, action):
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(type(instance)),
        object_pk=str(instance.pk),
        action=action,
    )


# --- Access ---------------------------------------------------------------------------------

def test_a_listed_page_of_pupils_is_audited_like_single_views(school_lead, pupil):
    from pupils.services import pupil_view_record, pupils_view_record
    from tests.factories import PupilFactory

    other = PupilFactory()
    pupil_view_record(pupil=pupil, user=school_lead)
    pupils_view_record(pupils=[pupil, other], user=school_lead)
    fields = ("content_type", "object_pk", "object_id", "object_repr", "actor", "actor_email")
    single, listed = _entries(pupil, LogEntry.Action.ACCESS).order_by("id").values(*fields)
    assert single == listed
    assert _entries(other, LogEntry.Action.ACCESS).get().actor == school_lead
    pupils_view_record(pupils=[], user=school_lead)  # nothing listed, nothing written
    assert LogEntry.objects.filter(action=LogEntry.Action.ACCESS).count() == 3


def test_it_logs_who_viewed_a_pupil_page(client, school_lead, pupil):
    client.force_login(school_lead)
    assert client.get(reverse("pupils:detail", args=[pupil.upn])).status_code == 200
    entries = _entries(pupil, LogEntry.Action.ACCESS)
    assert entries.count() == 1
    assert entries.get().actor == school_lead


def test_it_logs_every_view_not_just_the_first(client, social_worker, caseload_pupil):
    client.force_login(social_worker)
    for _ in range(3):
        client.get(reverse("pupils:detail", args=[caseload_pupil.upn]))
    assert _entries(caseload_pupil, LogEntry.Action.ACCESS).filter(
        actor=social_worker).count() == 3


def test_it_logs_who_read_a_pupil_on_the_api(client, la_officer, pupil):
    client.force_login(la_officer)
    assert client.get(f"/api/pupils/{pupil.upn}/").status_code == 200
    entry = _entries(pupil, LogEntry.Action.ACCESS).get()
    assert entry.actor == la_officer


def test_it_logs_no_access_when_the_pupil_was_refused(client, school_lead, other_pupil):
    client.force_login(school_lead)
    assert client.get(reverse("pupils:detail", args=[other_pupil.upn])).status_code == 404
    assert client.get(f"/api/pupils/{other_pupil.upn}/").status_code == 404
    assert not _entries(other_pupil, LogEntry.Action.ACCESS).exists()


# --- Changes --------------------------------------------------------------------------------

def test_it_logs_a_change_to_a_pupil_with_the_actor(administrator, pupil):
    with set_actor(administrator):
        pupil.surname = "Hill-Top"
        pupil.save()
    entry = _entries(pupil, LogEntry.Action.UPDATE).get()
    assert entry.actor == administrator
    assert entry.changes_dict["surname"] == ["Hilltop", "Hill-Top"]


def test_it_logs_enrolment_changes_with_the_actor(administrator, pupil, other_school):
    old = pupil.enrolments.get()
    with set_actor(administrator):
        moved = Enrolment.objects.create(pupil=pupil, school=other_school,
                                         start_date=date(2026, 1, 5))
        moved_pk = moved.pk
        old.end_date = date(2026, 1, 2)
        old.save()
        moved.delete()
    enrolment_entries = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Enrolment))
    assert _entries(old, LogEntry.Action.UPDATE).get().actor == administrator
    for action in [LogEntry.Action.CREATE, LogEntry.Action.DELETE]:
        entry = enrolment_entries.get(object_pk=str(moved_pk), action=action)
        assert entry.actor == administrator


def test_it_logs_social_worker_allocations_with_the_actor(administrator, social_worker, pupil):
    with set_actor(administrator):
        allocation = SocialWorkerAllocation.objects.create(
            pupil=pupil, social_worker=social_worker, start_date=date(2026, 2, 1))
        allocation.end_date = date(2026, 6, 30)
        allocation.save()
    assert _entries(allocation, LogEntry.Action.CREATE).get().actor == administrator
    update = _entries(allocation, LogEntry.Action.UPDATE).get()
    assert update.actor == administrator
    assert "end_date" in update.changes_dict


def test_it_records_the_signed_in_user_as_actor_for_a_change_made_in_the_admin(
    client, administrator, pupil
):
    """No explicit set_actor: AuditlogMiddleware takes the actor from the request."""
    client.force_login(administrator)
    url = reverse("admin:pupils_pupil_change", args=[pupil.pk])
    data = {
        "upn": pupil.upn, "surname": "Hilltop-Smith", "forename": pupil.forename,
        "date_of_birth": pupil.date_of_birth.isoformat(), "sex": pupil.sex,
    }
    for prefix in ["enrolments", "characteristics", "allocations"]:
        data |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0",
                 f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    pupil.refresh_from_db()
    assert pupil.surname == "Hilltop-Smith"
    entry = _entries(pupil, LogEntry.Action.UPDATE).get()
    assert entry.actor == administrator
    assert entry.changes_dict["surname"] == ["Hilltop", "Hilltop-Smith"]


# --- Personal data out of the logs ----------------------------------------------------------

def test_it_keeps_pupil_names_and_upns_out_of_the_logs_when_a_record_is_viewed(
    client, caplog, social_worker, caseload_pupil
):
    CharacteristicsFactory(pupil=caseload_pupil, cin=True)
    AllocationFactory(pupil=caseload_pupil, social_worker=social_worker,
                      start_date=date(2025, 1, 1))
    client.force_login(social_worker)
    with caplog.at_level(logging.DEBUG):
        assert client.get(reverse("pupils:detail", args=[caseload_pupil.upn])).status_code == 200
        assert client.get(f"/api/pupils/{caseload_pupil.upn}/").status_code == 200
        client.get(reverse("pupils:list"), {"q": caseload_pupil.surname})
    output = caplog.text + " ".join(str(r.args) for r in caplog.records)
    for secret in [caseload_pupil.upn, caseload_pupil.surname, caseload_pupil.forename]:
        assert secret not in output


def test_it_redacts_upns_from_the_not_found_warning_django_logs(client, caplog, school_lead,
                                                                 other_pupil):
    """Django logs every 404 with its path; pupil URLs hold the UPN."""
    client.force_login(school_lead)
    with caplog.at_level(logging.DEBUG):
        assert client.get(reverse("pupils:detail", args=[other_pupil.upn])).status_code == 404
    not_found = [r for r in caplog.records if r.name == "django.request"]
    assert not_found, "Django should still log the 404"
    assert "/pupils/[UPN]/" in not_found[0].getMessage()
    assert other_pupil.upn not in caplog.text


def test_it_redacts_search_terms_and_upns_from_request_lines():
    from portal_ui.logging import RedactPupilData

    record = logging.LogRecord("django.server", logging.INFO, __file__, 1, '"%s" %s %s',
                               ("GET /pupils/?q=Smith&sort=name HTTP/1.1", "200", "512"), None)
    RedactPupilData().filter(record)
    assert record.getMessage() == '"GET /pupils/?q=[redacted]&sort=name HTTP/1.1" 200 512'


def test_it_logs_a_change_to_a_pupils_characteristics(pupil, administrator):
    snapshot = CharacteristicsFactory(pupil=pupil, effective_date=date(2025, 9, 1), cla=False)
    with set_actor(administrator):
        snapshot.cla = True
        snapshot.save()
    entry = _entries(snapshot, LogEntry.Action.UPDATE).get()
    assert entry.actor == administrator and entry.changes["cla"] == ["False", "True"]
