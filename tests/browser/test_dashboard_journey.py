"""A manager filters the city dashboard to secondary FSM pupils, follows "See every school" to
the schools table, drills into a school's report, downloads the XLSX, and the file holds the
figures shown on screen."""

import os

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from tests.factories import PASSWORD
from tests.reports.test_city_dashboard import small_city  # noqa: F401  (fixture)

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, base, user):
    page.goto(f"{base}{reverse('login')}")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


def _screen_figure(text: str):
    """A table cell as the XLSX holds it: an int, a float or text (a dash is empty)."""
    text = text.strip()
    if text in ("–", ""):
        return None
    number = text.replace(",", "")  # thousands separators
    try:
        return int(number)
    except ValueError:
        try:
            return float(number)
        except ValueError:
            return text


def test_a_manager_filters_drills_into_a_school_and_downloads_its_figures(
        live_server, browser_page, small_city, manager, tmp_path):  # noqa: F811
    base, page = live_server.url, browser_page
    school = small_city["secondary"]
    sign_in(page, base, manager)

    page.get_by_role("link", name="Dashboards").first.click()
    filters = page.locator("[data-testid=dashboard-filters]")
    filters.get_by_label("Phase").select_option("secondary")
    filters.get_by_label("Characteristic").select_option("fsm")
    filters.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**phase=secondary**")
    city_pupils = page.locator("[data-testid=headline-pupils]").inner_text()
    assert city_pupils == "2"  # the two secondary pupils with free school meals

    page.locator("[data-testid=see-every-school]").click()
    page.wait_for_url("**/reports/schools/?**")
    assert "characteristic=fsm" in page.url and "phase=secondary" in page.url
    rows = page.locator("[data-testid=schools-table] tbody tr")
    assert rows.count() == 1
    assert rows.first.locator("[data-col=pupils]").inner_text() == "2"

    rows.first.get_by_role("link", name=school.name).click()
    page.wait_for_url(f"**/reports/schools/{school.urn}/**")
    assert page.locator("[data-testid=characteristic]").inner_text() == (
        "free school meals pupils only")
    page.wait_for_selector("[data-figure=chart-bands] .main-svg")  # plotly drew the chart
    headline = page.locator("[data-testid=table-headline] tbody tr")
    on_screen = [[_screen_figure(c) for c in headline.nth(i).locator("th, td").all_inner_texts()]
                 for i in range(headline.count())]
    assert on_screen[0][0] == school.name and on_screen[0][1] == 2
    assert on_screen[-1][0].startswith("National")  # the published figure for FSM pupils
    weeks_on_screen = page.locator("[data-testid=table-weeks] tbody tr").count()

    with page.expect_download() as download_info:
        page.locator("[data-testid=school-xlsx]").click()
    path = tmp_path / "report.xlsx"
    download_info.value.save_as(path)
    book = load_workbook(path)
    in_file = [list(row) for row in book["Headline figures"].iter_rows(min_row=2,
                                                                      values_only=True)]
    assert in_file == on_screen
    assert book["Week by week"].max_row - 1 == weeks_on_screen
    bands_on_screen = [_screen_figure(t) for t in page.locator(
        "[data-testid=table-bands] tbody td:nth-child(2)").all_inner_texts()]
    assert [r[1] for r in book["Pupils by absence band"].iter_rows(min_row=2, values_only=True)
            ] == bands_on_screen
    assert sum(bands_on_screen) == 2
