"""Reviews of interventions: a part-time timetable (C2) is reviewed again and again, and the
oversight list's "Review overdue" follows the next review date set at the latest review."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from attendance_portal.errors import ApplicationError
from interventions.models import ChronologyEntry, InterventionReview, InterventionType
from interventions.selectors import intervention_next_review_due, part_time_timetables
from interventions.services import (
    case_close,
    intervention_add,
    intervention_end,
    intervention_review_record,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture
def timetable(case, la_officer):
    """A C2 timetable started 60 days ago whose first review (day 14) is long overdue."""
    start = TODAY - timedelta(days=60)
    return intervention_add(case=case, user=la_officer, type=InterventionType.PART_TIME,
                            start_date=start, review_date=start + timedelta(days=14),
                            planned_end_date=TODAY + timedelta(days=100))


def _listed(client, user, monkeypatch, on=TODAY):
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: on)
    client.force_login(user)
    response = client.get(reverse("interventions:part_time"))
    [item] = response.context["items"]
    return item, response.content.decode()


def test_it_records_a_review_with_who_when_and_the_next_date(case, timetable, school_lead):
    held = TODAY - timedelta(days=1)
    review = intervention_review_record(
        intervention=timetable, user=school_lead, reviewed_on=held,
        note="  Managing mornings; add Wednesday afternoons  ",
        next_review_date=TODAY + timedelta(days=14))
    review.refresh_from_db()
    assert (review.intervention, review.reviewed_on, review.recorded_by) == (
        timetable, held, school_lead)
    assert review.note == "Managing mornings; add Wednesday afternoons"
    assert review.next_review_date == TODAY + timedelta(days=14)
    assert review.recorded_at is not None
    entry = case.chronology.order_by("recorded_at", "pk").last()
    assert (entry.kind, entry.occurred_on, entry.recorded_by) == (
        ChronologyEntry.Kind.DECISION, held, school_lead)
    assert entry.note == ("Reduced or part-time timetable (C2) reviewed: Managing mornings; add "
                          f"Wednesday afternoons. Next review by "
                          f"{TODAY + timedelta(days=14):%d/%m/%Y}")


def test_overdue_before_the_review_not_after_it_and_again_when_the_next_date_passes(
        client, timetable, la_officer, monkeypatch):
    item, html = _listed(client, la_officer, monkeypatch)
    assert item.review_overdue and item.next_review_due == timetable.review_date
    assert 'data-testid="review-overdue"' in html
    next_date = TODAY + timedelta(days=14)
    intervention_review_record(intervention=timetable, user=la_officer, reviewed_on=TODAY,
                               note="Going well", next_review_date=next_date)
    item, html = _listed(client, la_officer, monkeypatch)
    assert not item.review_overdue and item.next_review_due == next_date
    assert item.last_reviewed_on == TODAY
    assert 'data-testid="review-overdue"' not in html
    # Due on the day itself is not yet overdue; the day after it is.
    item, _ = _listed(client, la_officer, monkeypatch, on=next_date)
    assert not item.review_overdue
    item, html = _listed(client, la_officer, monkeypatch, on=next_date + timedelta(days=1))
    assert item.review_overdue and 'data-testid="review-overdue"' in html


def test_the_latest_review_sets_the_next_date_even_when_it_brings_it_forward(timetable,
                                                                           la_officer):
    intervention_review_record(intervention=timetable, user=la_officer,
                               reviewed_on=TODAY - timedelta(days=10), note="Fine",
                               next_review_date=TODAY + timedelta(days=30))
    intervention_review_record(intervention=timetable, user=la_officer, reviewed_on=TODAY,
                               note="Struggling again: review sooner",
                               next_review_date=TODAY + timedelta(days=7))
    [item] = part_time_timetables(user=la_officer)
    assert item.next_review_due == TODAY + timedelta(days=7)
    assert intervention_next_review_due(timetable) == TODAY + timedelta(days=7)


def test_an_ended_timetable_is_not_flagged(client, timetable, la_officer, monkeypatch):
    intervention_end(intervention=timetable, user=la_officer, end_date=TODAY,
                     outcome="Back full time")
    item, html = _listed(client, la_officer, monkeypatch)
    assert not item.review_overdue and 'data-testid="review-overdue"' not in html


def test_a_review_without_a_next_date_leaves_nothing_due_for_other_interventions(
        case, la_officer):
    item = intervention_add(case=case, user=la_officer, type=InterventionType.TAC,
                            start_date=TODAY - timedelta(days=20),
                            review_date=TODAY - timedelta(days=5))
    assert intervention_next_review_due(item) == TODAY - timedelta(days=5)
    intervention_review_record(intervention=item, user=la_officer, reviewed_on=TODAY,
                               note="TAC met; no further review needed")
    assert intervention_next_review_due(item) is None


@pytest.mark.parametrize(("days", "note", "next_days", "message"), [
    (0, "  ", 14, "Enter what the review found and decided"),
    (1, "Fine", 14, "The review date cannot be in the future"),
    (-61, "Fine", 14, "cannot be before the intervention started"),
    (0, "Fine", None, "a part-time timetable must keep being reviewed"),
    (0, "Fine", 0, "The next review date must be after this review"),
])
def test_it_refuses_a_bad_review(case, timetable, la_officer, days, note, next_days, message):
    before = case.chronology.count()
    with pytest.raises(ApplicationError, match=message):
        intervention_review_record(
            intervention=timetable, user=la_officer, reviewed_on=TODAY + timedelta(days=days),
            note=note,
            next_review_date=None if next_days is None else TODAY + timedelta(days=next_days))
    assert not timetable.reviews.exists() and case.chronology.count() == before


def test_it_refuses_reviews_out_of_order_of_ended_interventions_and_closed_cases(
        case, timetable, la_officer):
    intervention_review_record(intervention=timetable, user=la_officer, reviewed_on=TODAY,
                               note="Fine", next_review_date=TODAY + timedelta(days=14))
    with pytest.raises(ApplicationError, match="Record reviews in the order they were held"):
        intervention_review_record(intervention=timetable, user=la_officer,
                                   reviewed_on=TODAY - timedelta(days=3), note="Earlier",
                                   next_review_date=TODAY + timedelta(days=7))
    intervention_end(intervention=timetable, user=la_officer, end_date=TODAY, outcome="Ended")
    with pytest.raises(ApplicationError, match="This intervention has ended"):
        intervention_review_record(intervention=timetable, user=la_officer, reviewed_on=TODAY,
                                   note="Again", next_review_date=TODAY + timedelta(days=7))
    other = intervention_add(case=case, user=la_officer, type=InterventionType.EARLY_HELP,
                             start_date=TODAY)
    case_close(case=case, user=la_officer, note="Attendance back to 97%")
    with pytest.raises(ApplicationError, match="This case is closed"):
        intervention_review_record(intervention=other, user=la_officer, reviewed_on=TODAY,
                                   note="After closing")
    assert timetable.reviews.count() == 1


def test_reviews_are_append_only(timetable, la_officer):
    review = intervention_review_record(intervention=timetable, user=la_officer,
                                        reviewed_on=TODAY, note="Fine",
                                        next_review_date=TODAY + timedelta(days=14))
    for change in (lambda: InterventionReview.objects.filter(pk=review.pk).update(note="Edited"),
                   lambda: InterventionReview.objects.filter(pk=review.pk).delete()):
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            change()


def test_it_records_a_review_through_its_page_with_the_three_boxes(client, case, timetable,
                                                                   school_lead):
    client.force_login(school_lead)
    detail = client.get(reverse("interventions:detail", args=[case.pk])).content.decode()
    url = reverse("interventions:intervention_review", args=[case.pk, timetable.pk])
    assert url in detail and 'data-testid="review-overdue"' in detail
    form = client.get(url).content.decode()
    assert 'name="reviewed_on-day"' in form and 'name="next_review_date-day"' in form
    assert f"Review due {timetable.review_date:%-d %B %Y}" in form
    nxt = TODAY + timedelta(days=21)
    missing = client.post(url, {"reviewed_on-day": TODAY.day, "reviewed_on-month": TODAY.month,
                                "reviewed_on-year": TODAY.year, "note": "Going well"})
    assert missing.status_code == 200
    assert "must keep being reviewed" in missing.content.decode()
    response = client.post(url, {
        "reviewed_on-day": TODAY.day, "reviewed_on-month": TODAY.month,
        "reviewed_on-year": TODAY.year, "note": "Going well",
        "next_review_date-day": nxt.day, "next_review_date-month": nxt.month,
        "next_review_date-year": nxt.year})
    assert response.status_code == 302
    review = timetable.reviews.get()
    assert (review.reviewed_on, review.next_review_date, review.recorded_by) == (
        TODAY, nxt, school_lead)
    detail = client.get(reverse("interventions:detail", args=[case.pk])).content.decode()
    assert "Going well. Next review by" in detail  # in the chronology
    assert f"Next review {nxt:%-d %b %Y}" in detail
    assert 'data-testid="review-overdue"' not in detail
    printed = client.get(reverse("interventions:chronology_print", args=[case.pk]))
    assert "reviewed: Going well" in printed.content.decode()


def test_a_social_worker_cannot_post_a_review(client, caseload_case, other_school_lead,
                                              social_worker):
    item = intervention_add(case=caseload_case, user=other_school_lead,
                            type=InterventionType.EARLY_HELP, start_date=TODAY)
    client.force_login(social_worker)
    response = client.post(
        reverse("interventions:intervention_review", args=[caseload_case.pk, item.pk]),
        {"reviewed_on": TODAY.isoformat(), "note": "Fine"})
    assert response.status_code == 404 and not item.reviews.exists()
