"""A school attendance lead signs in and can only reach their own school's data."""

import os

import pytest
from django.urls import reverse

from tests.factories import PASSWORD

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_lets_a_school_lead_see_only_their_own_school_and_pupils(
    live_server, browser_page, school_lead, school, other_school, pupil, other_pupil,
    caseload_pupil,
):
    page = browser_page
    page.goto(f"{live_server.url}{reverse('home')}")

    # Signed out: the home page sends them to sign in.
    assert "/accounts/login/" in page.url
    page.get_by_label("Email address").fill(school_lead.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("[data-testid=own-school]").inner_text() == school.name

    # Schools: their school only.
    page.get_by_role("link", name="Schools", exact=True).click()
    rows = page.locator("[data-testid=schools-table] tbody tr")
    assert rows.count() == 1
    assert school.name in rows.first.inner_text()
    assert other_school.name not in page.content()

    # Their school's pupils on roll: their pupil only.
    rows.first.get_by_role("link").click()
    assert page.locator("[data-testid=school-name]").inner_text() == school.name
    page.locator("[data-testid=on-roll]").click()
    pupil_rows = page.locator("[data-testid=pupils-table] tbody tr")
    assert pupil_rows.count() == 1
    assert pupil.upn in pupil_rows.first.inner_text()

    # All pupils they can see: still only theirs.
    page.goto(f"{live_server.url}{reverse('pupils:list')}")
    html = page.content()
    assert pupil.upn in html
    for outsider in (other_pupil, caseload_pupil):
        assert outsider.upn not in html and outsider.surname not in html

    # Guessing another school's and another pupil's URL gives the GOV.UK 404 page.
    for guessed in (reverse("schools:detail", args=[other_school.urn]),
                    reverse("pupils:detail", args=[other_pupil.upn])):
        response = page.goto(f"{live_server.url}{guessed}")
        assert response.status == 404
        assert page.locator("h1").inner_text() == "Page not found"
        assert other_school.name not in page.content()
        assert other_pupil.surname not in page.content()

    # Signing out works from the service navigation.
    page.locator("[data-testid=sign-out]").click()
    page.wait_for_url(f"{live_server.url}/accounts/login/")
