"""The managers' monthly report: who gets it, what it says (and does not), once per month, and
its schedule."""

from datetime import date

import pytest
from django.core import mail
from django_celery_beat.models import PeriodicTask

from reports.models import MonthlyReport
from reports.quarterly import quarterly_report
from reports.services import monthly_report_send
from reports.tasks import send_monthly_report
from tests.factories import UserFactory
from tests.reports.test_quarterly import term_city  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

FIRST_OF_MARCH = date(2026, 3, 1)


def test_every_active_manager_gets_text_and_html_once(term_city, manager):  # noqa: F811
    second = UserFactory(is_manager=True, email="deputy@example.gov.uk")
    UserFactory(is_manager=True, is_active=False, email="gone@example.gov.uk")
    UserFactory(is_la_officer=True, email="officer2@example.gov.uk")

    assert monthly_report_send(today=FIRST_OF_MARCH) == 2

    assert sorted(m.to[0] for m in mail.outbox) == sorted([manager.email, second.email])
    message = mail.outbox[0]
    assert message.subject == "Attendance in the city: monthly report, February 2026"
    report = quarterly_report(user=manager, academic_year=2025, term="spring")
    attendance = f"attendance {report['term']['headline'].attendance_rate}%"
    assert attendance in message.body
    html, kind = message.alternatives[0]
    assert kind == "text/html" and "<table>" in html
    assert f"{report['term']['headline'].attendance_rate}%" in html
    assert "/reports/city/quarterly/?academic_year=2025&amp;term=spring" in html
    record = MonthlyReport.objects.get()
    assert (record.month, record.recipients) == (date(2026, 2, 1), 2)


def test_no_child_or_school_is_named(term_city, manager):  # noqa: F811
    monthly_report_send(today=FIRST_OF_MARCH)
    from pupils.models import Pupil

    message = mail.outbox[0]
    html = message.alternatives[0][0]
    for pupil in Pupil.objects.all():
        for text in (message.body, html):
            assert pupil.surname not in text and pupil.upn not in text
            assert pupil.forename not in text
    for school in term_city.values():
        assert school.name not in message.body and school.name not in html


def test_a_second_run_for_the_same_month_sends_nothing(term_city, manager):  # noqa: F811
    assert monthly_report_send(today=FIRST_OF_MARCH) == 1
    assert monthly_report_send(today=date(2026, 3, 15)) == 0
    assert len(mail.outbox) == 1
    assert monthly_report_send(today=date(2026, 4, 1)) == 1  # next month goes
    assert len(mail.outbox) == 2
    assert list(MonthlyReport.objects.values_list("month", flat=True)) == [
        date(2026, 3, 1), date(2026, 2, 1)]


def test_a_failed_send_claims_nothing_so_the_retry_sends(term_city, manager, monkeypatch):  # noqa: F811
    from django.core.mail.backends.locmem import EmailBackend

    def broken(self, messages):
        raise ConnectionError("SMTP down")

    monkeypatch.setattr(EmailBackend, "send_messages", broken)
    with pytest.raises(ConnectionError):
        monthly_report_send(today=FIRST_OF_MARCH)
    assert not MonthlyReport.objects.exists()
    monkeypatch.undo()
    assert monthly_report_send(today=FIRST_OF_MARCH) == 1


def test_the_task_calls_the_service(term_city, manager, monkeypatch):  # noqa: F811
    from django.utils import timezone

    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: FIRST_OF_MARCH)
    assert send_monthly_report.delay().get() == 1
    assert len(mail.outbox) == 1


def test_with_no_manager_nothing_is_sent(db):
    assert monthly_report_send(today=FIRST_OF_MARCH) == 0
    assert mail.outbox == []


def test_the_report_is_scheduled_for_the_first_of_the_month_at_seven(db):
    task = PeriodicTask.objects.get(task="reports.tasks.send_monthly_report")
    crontab = task.crontab
    assert (crontab.minute, crontab.hour, crontab.day_of_month, crontab.month_of_year,
            crontab.day_of_week) == ("0", "7", "1", "*", "*")
    assert str(crontab.timezone) == "Europe/London"
    assert task.enabled
