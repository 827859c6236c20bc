"""An officer runs a case to the legal route for a child in need, with the social worker.

Opens a case from the pupil page, records two interventions and a contact, records the
consultation and the alternatives, tries to start a prosecution and is told the social worker
has not agreed; the social worker agrees from their own page; the case proceeds.
"""

import os
from datetime import date

import pytest
from django.urls import reverse

from tests.browser.conftest import ARTIFACTS
from tests.factories import PASSWORD, AllocationFactory, CharacteristicsFactory

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, base, user):
    page.goto(f"{base}{reverse('login')}")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


def _sign_out(page):
    page.locator("[data-testid=sign-out]").click()


def _shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"case_journey_{name}.png"), full_page=True)


def test_it_takes_a_cin_case_to_prosecution_only_after_the_social_worker_agrees(
    live_server, browser_page, la_officer, social_worker, school, pupil,
):
    CharacteristicsFactory(pupil=pupil, effective_date=date(2024, 9, 1), cin=True)
    AllocationFactory(pupil=pupil, social_worker=social_worker)
    page, base = browser_page, live_server.url

    # The officer opens a case from the pupil's page.
    _sign_in(page, base, la_officer)
    page.goto(f"{base}{reverse('pupils:detail', args=[pupil.upn])}")
    page.locator("[data-testid=open-case]").click()
    page.get_by_label("Why are you opening a case?").fill(
        "Attendance 72% this term; mostly unauthorised Mondays.")
    page.get_by_label("Stage on the DfE ladder").select_option("listen_and_understand")
    page.get_by_role("button", name="Open case").click()
    assert page.locator("[data-testid=case-pupil]").inner_text() == pupil.full_name
    case_url = page.url

    # Two interventions.
    for kind in ("early_help_assessment", "team_around_the_child"):
        page.locator("[data-testid=add-intervention]").click()
        page.get_by_label("Type of intervention").select_option(kind)
        page.get_by_role("button", name="Add intervention").click()
        assert page.locator(f"[data-testid=intervention-{kind}]").count() == 1
    assert page.locator("[data-testid=case-stage]").inner_text() == "Facilitate support"

    # A contact in the chronology.
    page.locator("[data-testid=add-chronology]").click()
    page.get_by_label("Type").select_option("contact")
    page.get_by_label("What happened").fill("Phoned mum: agreed to a TAC meeting next week.")
    page.get_by_role("button", name="Add entry").click()
    assert "Phoned mum" in page.locator("[data-testid=chronology]").inner_text()

    # The school consulted its officer; alternatives recorded.
    page.get_by_role("link", name="School has consulted its attendance officer").click()
    page.get_by_role("button", name="Save").click()
    page.get_by_role("link", name="Alternatives to legal action considered and recorded").click()
    page.get_by_label("Alternatives considered").fill(
        "Early help and a TAC offered; not engaged with. Attendance contract declined.")
    page.get_by_role("button", name="Save").click()
    assert "Not yet done" in page.locator("[data-testid=gate-social_worker_agreed]").inner_text()
    _shot(page, "case_page")

    # Trying to start a prosecution: refused, and told why.
    page.locator("[data-testid=start-prosecution]").click()
    page.get_by_role("button", name="Proceed as prosecution").click()
    summary = page.locator("[data-testid=error-summary]")
    assert "cannot proceed as a prosecution yet" in summary.inner_text()
    missing = page.locator("[data-testid=missing-gates] li")
    assert missing.count() == 1
    reason = missing.first.inner_text()
    assert "child in need plan" in reason and social_worker.full_name in reason
    _shot(page, "refusal")
    _sign_out(page)

    # The social worker agrees from their caseload's legal decisions page.
    _sign_in(page, base, social_worker)
    page.get_by_role("link", name="Cases", exact=True).click()
    page.get_by_role("link", name="Legal decisions for your caseload").click()
    page.get_by_role("link", name="Agree or decline").click()
    page.get_by_label("Agreed").check()
    page.get_by_label("Your reasons").fill("Agreed at the CIN review: support not engaged with.")
    page.get_by_role("button", name="Record my decision").click()
    assert "Completed" in page.locator("[data-testid=gate-social_worker_agreed]").inner_text()
    _sign_out(page)

    # The case proceeds.
    _sign_in(page, base, la_officer)
    page.goto(case_url)
    page.locator("[data-testid=start-prosecution]").click()
    page.get_by_role("button", name="Proceed as prosecution").click()
    assert "proceeds as a prosecution" in page.locator(
        "[data-testid=prosecution-started]").inner_text()
    assert page.locator("[data-testid=case-stage]").inner_text() == "Enforce"
    _shot(page, "proceeds")
