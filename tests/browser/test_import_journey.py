"""A school attendance lead uploads a register with two mistakes, reads the report, fixes the
file, uploads it again and sees it imported."""

import os
from datetime import date

import pytest
from django.urls import reverse

from attendance.models import ImportRun, SessionMark
from tests.browser.conftest import ARTIFACTS
from tests.factories import PASSWORD, EnrolmentFactory, PupilFactory, academic_year_2025, make_upn

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"import_journey_{name}.png"), full_page=True)


def test_it_lets_a_school_lead_fix_a_rejected_register_and_import_it(
        live_server, browser_page, school_lead, school, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    academic_year_2025()
    ava, ben = (PupilFactory(upn=make_upn(serial)) for serial in (601, 602))
    for pupil in (ava, ben):
        EnrolmentFactory(pupil=pupil, school=school, start_date=date(2020, 9, 1))
    wrong_upn = ("B" if ben.upn[0] != "B" else "C") + ben.upn[1:]
    header = "UPN,Date,AM,PM\n"
    broken = tmp_path / "september.csv"
    broken.write_text(header + f"{ava.upn},03/09/2025,/,QQ\n{wrong_upn},03/09/2025,/,\\\n"
                      f"{ava.upn},04/09/2025,/,\\\n")
    page = browser_page
    base = live_server.url

    page.goto(f"{base}{reverse('login')}")
    page.get_by_label("Email address").fill(school_lead.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")

    # From their school's page to the upload form: the school is fixed to theirs.
    page.goto(f"{base}{reverse('schools:detail', args=[school.urn])}")
    page.locator("[data-testid=upload-register]").click()
    assert page.locator("[data-testid=fixed-school]").inner_text().startswith(school.name)
    page.locator("input[type=file]").set_input_files(str(broken))
    _shot(page, "1_upload")
    page.locator("[data-testid=upload]").click()

    # The report: nothing imported, both mistakes with their line numbers.
    outcome = page.locator("[data-testid=outcome]")
    outcome.wait_for()
    assert outcome.get_attribute("data-outcome") == "rejected"
    assert "not imported" in outcome.inner_text()
    rows = page.locator("[data-testid=error-row]")
    assert rows.count() == 2
    texts = [rows.nth(i).inner_text() for i in range(2)]
    assert any(t.startswith("2") and "QQ" in t for t in texts), texts
    assert any(t.startswith("3") and "UPN" in t for t in texts), texts
    _shot(page, "2_rejected")
    assert SessionMark.objects.count() == 0

    # Fix both mistakes and upload the corrected file.
    fixed = tmp_path / "september-fixed.csv"
    fixed.write_text(header + f"{ava.upn},03/09/2025,/,N\n{ben.upn},03/09/2025,/,\\\n"
                     f"{ava.upn},04/09/2025,/,\\\n")
    page.locator("[data-testid=upload-again]").click()
    page.locator("input[type=file]").set_input_files(str(fixed))
    page.locator("[data-testid=upload]").click()
    outcome = page.locator("[data-testid=outcome]")
    outcome.wait_for()
    assert outcome.get_attribute("data-outcome") == "done"
    assert page.locator("[data-testid=count-inserted]").inner_text() == "6"
    _shot(page, "3_applied")

    # The marks are held, and the history lists both uploads.
    assert SessionMark.objects.filter(pupil=ava).count() == 2
    assert ImportRun.objects.filter(status="applied").count() == 1
    page.get_by_role("link", name="Imports", exact=True).click()
    history = page.locator("[data-testid=import-row]")
    assert history.count() == 2
    assert "september-fixed.csv" in history.first.inner_text()
    assert "Imported" in history.first.inner_text()
    assert "Not imported" in history.nth(1).inner_text()
