"""What each role's pages show: home figures, lists (filter, search, sort, pages), records.

Lives under tests/accounts because it is about what a signed-in person sees; the rules of who
may see what are in test_permissions.py.
"""

from datetime import date

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from tests.factories import (
    AllocationFactory,
    CharacteristicsFactory,
    EnrolmentFactory,
    PupilFactory,
    SchoolFactory,
)

pytestmark = pytest.mark.django_db


def _figures(client, user):
    client.force_login(user)
    return client.get(reverse("home")).context["figures"]


# --- Home -----------------------------------------------------------------------------------

def test_it_shows_a_school_lead_their_school_and_its_roll(client, school_lead, school, pupil,
                                                          other_pupil):
    EnrolmentFactory(school=school, start_date=date(2020, 9, 1), end_date=date(2020, 12, 1))
    client.force_login(school_lead)
    response = client.get(reverse("home"))
    figures = response.context["figures"]
    assert figures["own_school"] == school
    assert figures["own_school_on_roll"] == 1
    html = response.content.decode()
    assert 'data-testid="own-school">Hilltop Primary</a>' in html
    assert 'data-testid="figure-own-school-on-roll">1</span>' in html


def test_it_shows_an_officer_their_linked_schools_and_pupils(client, la_officer, school,
                                                             other_school, pupil, other_pupil):
    SchoolFactory(link_officer=la_officer)
    figures = _figures(client, la_officer)
    assert figures["linked_schools"] == 2
    assert figures["pupils"] == 1


def test_it_shows_a_social_worker_their_caseload_size(client, social_worker, caseload_pupil,
                                                      pupil):
    AllocationFactory(social_worker=social_worker, start_date=date(2020, 1, 1),
                      end_date=date(2020, 6, 1))  # an ended allocation does not count
    figures = _figures(client, social_worker)
    assert figures["caseload"] == 1
    assert figures["schools"] == 0


def test_it_shows_a_manager_city_wide_numbers(client, manager, pupil, other_pupil,
                                              caseload_pupil):
    figures = _figures(client, manager)
    assert figures == {"schools": 2, "pupils": 3}


def test_it_tells_a_user_without_a_role_to_ask_for_one(client, db):
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    assert "Your account has no role yet" in client.get(reverse("home")).content.decode()


def test_it_shows_each_role_only_its_navigation(client, social_worker, administrator):
    client.force_login(social_worker)
    nav = [item["text"] for item in client.get(reverse("home")).context["service_nav"]]
    assert nav == ["Home", "Your caseload", "Alerts", "Caseload figures", "Cases"]
    client.force_login(administrator)
    nav = [item["text"] for item in client.get(reverse("home")).context["service_nav"]]
    assert nav == ["Home", "Schools", "Pupils", "Alerts", "Meetings", "Dashboards", "Imports",
                   "Admin"]


# --- School page ----------------------------------------------------------------------------

def test_it_counts_pupils_on_roll_today_and_links_to_them(client, school_lead, school, pupil):
    EnrolmentFactory(school=school, start_date=date(2020, 9, 1), end_date=date(2021, 7, 20))
    dual = PupilFactory()
    EnrolmentFactory(pupil=dual, school=school, registration="S")
    client.force_login(school_lead)
    response = client.get(reverse("schools:detail", args=[school.urn]))
    assert response.context["on_roll"] == 2
    assert f'href="/pupils/?school={school.urn}"' in response.content.decode()


def test_it_finds_a_school_by_name_urn_or_dfe_number(client, manager, school, other_school):
    client.force_login(manager)
    for query in ["hilltop", school.urn, school.dfe_number, school.dfe_number.replace("/", "")]:
        page = client.get(reverse("schools:list"), {"q": query}).context["page"]
        assert list(page) == [school], query


# --- Pupil list -----------------------------------------------------------------------------

def test_it_shows_current_school_and_year_group_in_the_pupil_list(client, manager, pupil,
                                                                   school, other_school):
    CharacteristicsFactory(pupil=pupil, effective_date=date(2024, 10, 3), year_group="4")
    CharacteristicsFactory(pupil=pupil, effective_date=date(2025, 10, 2), year_group="5")
    client.force_login(manager)
    row = client.get(reverse("pupils:list")).context["page"][0]
    assert row.current_school_name == school.name
    assert row.year_group == "5"


def test_it_shows_a_moved_pupil_at_their_new_school(client, manager, pupil, school,
                                                    other_school):
    old = pupil.enrolments.get()
    old.end_date = date(2025, 7, 18)
    old.save()
    EnrolmentFactory(pupil=pupil, school=other_school, start_date=date(2025, 9, 3))
    client.force_login(manager)
    row = client.get(reverse("pupils:list"), {"q": pupil.upn}).context["page"][0]
    assert row.current_school_name == other_school.name


def test_it_filters_pupils_to_one_school(client, manager, school, other_school, pupil,
                                         other_pupil, caseload_pupil):
    client.force_login(manager)
    response = client.get(reverse("pupils:list"), {"school": other_school.urn})
    assert {p.upn for p in response.context["page"]} == {other_pupil.upn, caseload_pupil.upn}
    assert response.context["school_filter"] == other_school


def test_it_gives_404_for_a_school_filter_that_does_not_exist(client, manager, db):
    client.force_login(manager)
    assert client.get(reverse("pupils:list"), {"school": "999999"}).status_code == 404


def test_it_searches_pupils_by_name_or_upn(client, manager, pupil, other_pupil):
    client.force_login(manager)
    for query in ["hilltop", "HARRY", pupil.upn, pupil.upn.lower()]:
        page = client.get(reverse("pupils:list"), {"q": query}).context["page"]
        assert [p.upn for p in page] == [pupil.upn], query


def test_it_sorts_pupils_by_year_group_in_school_order(client, manager, school):
    for year, surname in [("10", "Ten"), ("R", "Reception"), ("2", "Two"), ("N2", "Nursery")]:
        p = PupilFactory(surname=surname)
        EnrolmentFactory(pupil=p, school=school)
        CharacteristicsFactory(pupil=p, year_group=year)
    unknown = PupilFactory(surname="Unknown")
    EnrolmentFactory(pupil=unknown, school=school)
    client.force_login(manager)
    ascending = [p.surname for p in client.get(reverse("pupils:list"),
                                               {"sort": "year"}).context["page"]]
    assert ascending == ["Nursery", "Reception", "Two", "Ten", "Unknown"]
    descending = client.get(reverse("pupils:list"), {"sort": "-year"})
    assert [p.surname for p in descending.context["page"]][:4] == [
        "Ten", "Two", "Reception", "Nursery"]
    assert 'aria-sort="descending"' in descending.content.decode()


def test_it_ignores_an_unknown_sort(client, manager, pupil):
    client.force_login(manager)
    response = client.get(reverse("pupils:list"), {"sort": "-password"})
    assert response.status_code == 200
    assert response.context["sort"] == "name"


def test_it_pages_long_lists_and_keeps_the_filter_in_the_links(client, manager, school):
    for n in range(55):
        EnrolmentFactory(pupil=PupilFactory(surname=f"Pupil{n:02d}"), school=school)
    client.force_login(manager)
    first = client.get(reverse("pupils:list"), {"school": school.urn, "sort": "name"})
    assert len(first.context["page"]) == 50
    html = first.content.decode()
    assert 'class="govuk-pagination"' in html
    assert f'href="?school={school.urn}&amp;sort=name&amp;page=2"' in html
    second = client.get(reverse("pupils:list"), {"school": school.urn, "sort": "name",
                                                 "page": 2})
    assert [p.surname for p in second.context["page"]] == [f"Pupil{n}" for n in range(50, 55)]
    assert 'aria-current="page">2</a>' in second.content.decode()


def test_it_captions_the_tables_for_screen_readers(client, manager, pupil, school):
    client.force_login(manager)
    for url in [reverse("schools:list"), reverse("pupils:list"),
                reverse("pupils:detail", args=[pupil.upn])]:
        html = client.get(url).content.decode()
        assert '<caption class="govuk-table__caption' in html, url


# --- Pupil record ---------------------------------------------------------------------------

def test_it_shows_the_pupil_record_with_tags_and_social_worker(client, manager, social_worker,
                                                               pupil):
    CharacteristicsFactory(pupil=pupil, year_group="6", fsm=True, sen="E", eal=True,
                           ethnicity="WBRI", cin=True, cp=True, cla=False)
    AllocationFactory(pupil=pupil, social_worker=social_worker)
    client.force_login(manager)
    html = client.get(reverse("pupils:detail", args=[pupil.upn])).content.decode()
    assert "Year 6" in html
    assert '<strong class="govuk-tag govuk-tag--red">Child protection plan (CP)</strong>' in html
    assert '<strong class="govuk-tag govuk-tag--orange">Child in need (CIN)</strong>' in html
    assert "Child looked after (CLA)" not in html
    assert "FSM eligible" in html and "EHC plan" in html
    assert "White – British (WBRI)" in html
    assert social_worker.full_name in html
    assert "On roll" in html


def test_it_uses_the_latest_snapshot_that_has_started(client, manager, pupil):
    CharacteristicsFactory(pupil=pupil, effective_date=date(2024, 10, 3), year_group="4")
    CharacteristicsFactory(pupil=pupil, effective_date=date(2025, 10, 2), year_group="5")
    CharacteristicsFactory(pupil=pupil, effective_date=date(2099, 1, 1), year_group="6")
    client.force_login(manager)
    response = client.get(reverse("pupils:detail", args=[pupil.upn]))
    assert response.context["characteristics"].year_group == "5"


def test_it_says_when_no_characteristics_are_loaded(client, manager, pupil):
    client.force_login(manager)
    html = client.get(reverse("pupils:detail", args=[pupil.upn])).content.decode()
    assert "No census characteristics have been loaded" in html


# --- Error pages ----------------------------------------------------------------------------

def test_it_renders_the_500_page_without_a_request():
    html = render_to_string("500.html")
    assert "Sorry, there is a problem with the service" in html
    assert "govuk-header" in html


def test_it_renders_the_403_page(rf, school_lead):
    request = rf.get("/")
    request.user = school_lead
    html = render_to_string("403.html", request=request)
    assert "You cannot use this page" in html
