"""Penalty notices: amounts and the three-year rule (National Framework, from 19 August 2024)."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from attendance_portal.errors import ApplicationError
from interventions import services
from interventions.models import PenaltyNotice
from interventions.services import penalty_notice_record, penalty_notice_status_set

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr(services, "_today", lambda: date(2028, 6, 1))


def _record(pupil, user, on, parent="Jane Smith", **kw):
    return penalty_notice_record(pupil=pupil, user=user, parent_name=parent, issued_on=on, **kw)


def test_it_records_a_first_notice_at_160_reduced_to_80_within_21_days(pupil, la_officer):
    notice = _record(pupil, la_officer, date(2025, 1, 10))
    assert (notice.sequence, notice.amount, notice.reduced_amount) == (1, Decimal("160.00"),
                                                                       Decimal("80.00"))
    assert notice.reduced_by == date(2025, 1, 31) and notice.pay_by == date(2025, 2, 7)
    assert notice.recorded_by == la_officer and notice.status == PenaltyNotice.Status.UNPAID


def test_it_charges_a_second_notice_within_three_years_a_flat_160(pupil, la_officer):
    _record(pupil, la_officer, date(2025, 1, 10))
    second = _record(pupil, la_officer, date(2027, 12, 1), parent="  jane   SMITH ")
    assert (second.sequence, second.amount, second.reduced_amount, second.reduced_by) == (
        2, Decimal("160.00"), None, None)
    assert second.period_start == date(2025, 1, 10)


def test_it_refuses_a_third_notice_within_three_years_and_names_the_alternatives(pupil,
                                                                                 la_officer):
    first = _record(pupil, la_officer, date(2025, 1, 10))
    penalty_notice_status_set(notice=first, user=la_officer, status="paid",
                              paid_on=date(2025, 1, 20))
    _record(pupil, la_officer, date(2025, 6, 1))  # unpaid: counts too
    with pytest.raises(ApplicationError) as error:
        _record(pupil, la_officer, date(2028, 1, 9))
    message = error.value.message
    assert "two penalty notices" in message and "10 January 2028" in message
    assert "section 444" in message and "prosecution" in message
    assert PenaltyNotice.objects.count() == 2


def test_it_does_not_count_withdrawn_notices(pupil, la_officer):
    _record(pupil, la_officer, date(2025, 1, 10))
    second = _record(pupil, la_officer, date(2025, 3, 1))
    penalty_notice_status_set(notice=second, user=la_officer, status="withdrawn",
                              outcome="Issued in error: illness evidence found")
    again = _record(pupil, la_officer, date(2025, 5, 1))
    assert again.sequence == 2 and again.amount == Decimal("160.00")


def test_it_treats_a_notice_after_a_withdrawn_first_as_a_first(pupil, la_officer):
    first = _record(pupil, la_officer, date(2025, 1, 10))
    penalty_notice_status_set(notice=first, user=la_officer, status="withdrawn",
                              outcome="Wrong parent")
    notice = _record(pupil, la_officer, date(2025, 2, 1))
    assert notice.sequence == 1 and notice.reduced_amount == Decimal("80.00")


def test_it_allows_a_new_first_notice_after_three_years(pupil, la_officer):
    _record(pupil, la_officer, date(2025, 1, 10))
    _record(pupil, la_officer, date(2025, 6, 1))
    notice = _record(pupil, la_officer, date(2028, 1, 10))  # three years to the day
    assert (notice.sequence, notice.period_start, notice.reduced_amount) == (
        1, date(2028, 1, 10), Decimal("80.00"))


def test_it_counts_each_parent_separately(pupil, la_officer):
    _record(pupil, la_officer, date(2025, 1, 10))
    _record(pupil, la_officer, date(2025, 2, 10))
    other = _record(pupil, la_officer, date(2025, 3, 10), parent="John Smith")
    assert other.sequence == 1


def test_it_counts_each_child_separately(pupil, other_pupil, la_officer):
    _record(pupil, la_officer, date(2025, 1, 10))
    _record(pupil, la_officer, date(2025, 2, 10))
    assert _record(other_pupil, la_officer, date(2025, 3, 10)).sequence == 1


def test_it_refuses_future_and_pre_framework_and_out_of_order_notices(pupil, la_officer):
    with pytest.raises(ApplicationError, match="future"):
        _record(pupil, la_officer, date(2028, 6, 2))
    with pytest.raises(ApplicationError, match="19 August 2024"):
        _record(pupil, la_officer, date(2024, 8, 18))
    _record(pupil, la_officer, date(2025, 3, 1))
    with pytest.raises(ApplicationError, match="order they were issued"):
        _record(pupil, la_officer, date(2025, 2, 1))


def test_the_database_refuses_a_third_notice_slipped_in_as_a_new_first(pupil, la_officer):
    _record(pupil, la_officer, date(2025, 1, 10))
    _record(pupil, la_officer, date(2025, 2, 10))
    with pytest.raises(IntegrityError, match="three-year period"), transaction.atomic():
        PenaltyNotice.objects.create(
            pupil=pupil, parent_name="Jane Smith", parent_key="jane smith",
            issued_on=date(2025, 4, 1), sequence=1, period_start=date(2025, 4, 1),
            amount=Decimal("160.00"), reduced_amount=Decimal("80.00"),
            reduced_by=date(2025, 4, 22), pay_by=date(2025, 4, 29), recorded_by=la_officer)


def test_the_database_refuses_a_second_notice_priced_as_a_first(pupil, la_officer):
    _record(pupil, la_officer, date(2025, 1, 10))
    with pytest.raises(IntegrityError), transaction.atomic():
        PenaltyNotice.objects.create(
            pupil=pupil, parent_name="Jane Smith", parent_key="jane smith",
            issued_on=date(2025, 4, 1), sequence=2, period_start=date(2025, 1, 10),
            amount=Decimal("160.00"), reduced_amount=Decimal("80.00"),
            reduced_by=date(2025, 4, 22), pay_by=date(2025, 4, 29), recorded_by=la_officer)


def test_it_writes_the_notice_into_the_case_chronology(case, la_officer):
    _record(case.pupil, la_officer, date(2025, 1, 10), case=case)
    letter = case.chronology.get(kind="letter")
    assert letter.occurred_on == date(2025, 1, 10)
    assert "£80.00 if paid within 21 days" in letter.note


def test_it_asks_for_a_payment_date_and_a_withdrawal_reason(pupil, la_officer):
    notice = _record(pupil, la_officer, date(2025, 1, 10))
    with pytest.raises(ApplicationError, match="date the notice was paid"):
        penalty_notice_status_set(notice=notice, user=la_officer, status="paid")
    with pytest.raises(ApplicationError, match="why the notice was withdrawn"):
        penalty_notice_status_set(notice=notice, user=la_officer, status="withdrawn")
