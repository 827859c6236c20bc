"""A TSM from booking to the next term: the officer proposes a date, the school lead confirms,
the officer holds the meeting and records three actions live, and next term's meeting shows
them open (carried forward)."""

import os
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import PASSWORD
from tests.tsm.conftest import terms  # noqa: F401  (fixture)
from tsm import services
from tsm.models import TargetingSupportMeeting

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, base, user):
    page.goto(f"{base}{reverse('login')}")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


def sign_out(page, base):
    page.locator("[data-testid=sign-out]").click()
    page.wait_for_url(f"{base}{reverse('login')}")


def open_meeting(page, school_name):
    page.get_by_role("link", name="Meetings", exact=True).click()
    page.locator("[data-testid=meetings-table]").get_by_role("link", name=school_name).click()


def test_it_books_holds_records_and_carries_actions_to_next_term(
        live_server, browser_page, terms, manager, school, la_officer, school_lead, pupil):  # noqa: F811
    base = live_server.url
    page = browser_page
    services.tsm_round_open(term=terms["now"], theme="Severe absence", user=manager)
    day = timezone.localdate() + timedelta(days=5)

    # The officer proposes a date.
    sign_in(page, base, la_officer)
    open_meeting(page, school.name)
    assert page.locator("[data-testid=meeting-status]").inner_text() == "Not booked yet"
    page.get_by_label("Day").fill(str(day.day))
    page.get_by_label("Month").fill(str(day.month))
    page.get_by_label("Year").fill(str(day.year))
    page.get_by_label("Start time").fill("14:00")
    page.get_by_label("Where (optional)").fill("Hilltop, head's office")
    page.locator("[data-testid=propose-submit]").click()
    assert page.locator("[data-testid=meeting-status]").inner_text() == "Date proposed"
    assert "Waiting for the school to confirm" in page.locator("[data-testid=next-step]").inner_text()
    sign_out(page, base)

    # The school lead confirms it, and can download the invitation.
    sign_in(page, base, school_lead)
    open_meeting(page, school.name)
    page.locator("[data-testid=confirm]").click()
    assert page.locator("[data-testid=meeting-status]").inner_text() == "Confirmed"
    with page.expect_download() as download:
        page.locator("[data-testid=ics]").click()
    assert download.value.suggested_filename == f"tsm-{school.urn}.ics"
    sign_out(page, base)

    # The officer holds the meeting: the pack freezes and recording opens.
    sign_in(page, base, la_officer)
    open_meeting(page, school.name)
    page.locator("[data-testid=hold]").click()
    page.wait_for_url(f"**{reverse('tsm:record', args=[TargetingSupportMeeting.objects.get().pk])}")

    # Notes save as they type (htmx), with no reload.
    notes = page.locator("[data-testid=agenda-notes]").first
    notes.fill("School priority: Year 9 punctuality")
    notes.press("End")
    page.get_by_text("Saved at").first.wait_for()
    meeting = TargetingSupportMeeting.objects.get()
    assert meeting.agenda_items.get(order=1).notes == "School priority: Year 9 punctuality"

    # Three actions, recorded live.
    due = (timezone.localdate() + timedelta(days=20)).strftime("%d/%m/%Y")
    for description, owner in [("Home visit to the Hilltop family", la_officer),
                               ("Attendance contract meeting", school_lead),
                               ("Early help referral for Year 9", school_lead)]:
        form = page.locator("[data-testid=action-form]")
        form.get_by_label("What will be done").fill(description)
        form.get_by_label("Owner").select_option(str(owner.pk))
        form.get_by_label("Due by").fill(due)
        form.locator("[data-testid=add-action]").click()
        page.get_by_text("Action recorded.").wait_for()
    assert page.locator("[data-testid=action]").count() == 3
    page.get_by_role("link", name="Meeting pack").first.click()
    assert page.locator("[data-testid=pack-frozen]").is_visible()
    sign_out(page, base)

    # Next term: the manager opens the round; the officer finds the three actions still open.
    sign_in(page, base, manager)
    page.goto(f"{base}{reverse('tsm:round-open')}")
    page.get_by_label("Term", exact=True).select_option(str(terms["next"].pk))
    page.get_by_label("Theme for the term").fill("Persistent absence in Year 9")
    page.locator("[data-testid=open-round-submit]").click()
    page.get_by_text("round is open").wait_for()
    sign_out(page, base)

    sign_in(page, base, la_officer)
    following = TargetingSupportMeeting.objects.get(round__term=terms["next"])
    page.goto(f"{base}{reverse('tsm:list')}?term={terms['next'].pk}")
    page.locator("[data-testid=meetings-table]").get_by_role("link", name=school.name).click()
    assert page.url.endswith(reverse("tsm:detail", args=[following.pk]))
    page.locator("[data-testid=record-link]").click()
    actions = page.locator("[data-testid=action]")
    assert actions.count() == 3
    for i in range(3):
        assert actions.nth(i).locator("[data-testid=action-status]").inner_text() == "Open"
        assert f"Carried forward from {terms['now']}" in actions.nth(i).inner_text()
    assert "Home visit to the Hilltop family" in page.content()
