"""Pupil, caseload and school pages built on the nightly summaries (issue 5), on real PostgreSQL.

Marks are written for known dates in 2025/26 and classified with the real nightly service; the
pages are read with "today" fixed inside that year.
"""

import re
from datetime import date
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from alerts.models import Alert, Rule
from attendance.bands import RECOMMENDED_ACTIONS, Band
from attendance.classification import pupils_reclassify
from attendance.models import SessionMark
from interventions.models import InterventionType
from interventions.services import case_close, case_open, chronology_add, intervention_add
from schools.calendar import school_days
from tests.factories import (
    AllocationFactory,
    CharacteristicsFactory,
    EnrolmentFactory,
    PupilFactory,
    academic_year_2025,
)

pytestmark = pytest.mark.django_db

START = date(2025, 9, 3)  # the first school day of 2025/26
TODAY = date(2025, 9, 18)  # a Thursday; 17 and 18 September have no marks


@pytest.fixture(autouse=True)
def _today(db, monkeypatch):
    academic_year_2025()
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)


def write_marks(pupil, school, codes, start=START):
    """One code per session, AM then PM, over school days from ``start``; returns the last day."""
    days = school_days(start=start, end=date(2026, 7, 22))
    rows = []
    for i in range(0, len(codes), 2):
        am, pm = codes[i], codes[i + 1] if i + 1 < len(codes) else None
        rows.append(SessionMark(pupil=pupil, school=school, date=days[i // 2], am=am, pm=pm))
    SessionMark.objects.bulk_create(rows)
    return days[(len(codes) - 1) // 2]


# 9 days present, then illness (authorised) in the morning and O (unauthorised) in the afternoon
# of 16 September: 18 of 20 sessions, exactly 90.00%, band 3.
NINETY_PERCENT = ["/", "\\"] * 9 + ["I", "O"]


def classified(pupil, school, codes=NINETY_PERCENT):
    last = write_marks(pupil, school, codes)
    pupils_reclassify(as_of=last)
    return last


def page(client, user, pupil):
    client.force_login(user)
    response = client.get(reverse("pupils:detail", args=[pupil.upn]))
    assert response.status_code == 200
    return response.content.decode()


def cell(html, day: date) -> str:
    """The heat-map cell of one date."""
    match = re.search(rf'<td class="app-cal__day"[^>]*data-date="{day.isoformat()}".*?</td>',
                      html, re.S)
    assert match, f"no calendar cell for {day}"
    return match.group(0)


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


# --- Pupil page -------------------------------------------------------------------------------

def test_it_shows_exactly_ninety_percent_as_band_3_persistent_absence(client, school_lead,
                                                                     school, pupil):
    classified(pupil, school)
    html = page(client, school_lead, pupil)
    rate = re.search(r'data-testid="city-rate">([^<]+)<', html).group(1)
    assert rate == "90.0%"
    band = re.search(r'data-testid="city-band">(.*?)</p>', html, re.S).group(1)
    assert 'app-band-3' in band and "Band 3: Persistent absence" in band
    summary = text(re.search(r'data-testid="city-summary">(.*?)</dl>', html, re.S).group(1))
    assert "Possible sessions 20" in summary and "Attended 18" in summary
    assert "Authorised absence 1 session" in summary
    assert "Unauthorised absence 1 session" in summary


def test_it_shows_the_recent_and_projected_band_and_says_what_projected_means(
        client, school_lead, school, pupil):
    classified(pupil, school)
    html = page(client, school_lead, pupil)
    assert "app-band-3" in re.search(r'data-testid="city-recent">(.*?)</dd>', html, re.S).group(1)
    assert "app-band-" in re.search(r'data-testid="city-projected">(.*?)</dd>', html,
                                    re.S).group(1)
    meaning = text(re.search(r'data-testid="projected-meaning">(.*?)</p>', html, re.S).group(1))
    assert "end of this term" in meaning and "last four school weeks" in meaning


def test_it_recommends_the_next_steps_for_the_pupils_band(client, school_lead, school, pupil):
    classified(pupil, school)
    html = page(client, school_lead, pupil)
    inset = re.search(r'data-testid="recommended-actions">(.*?)</div>', html, re.S).group(1)
    assert "govuk-inset-text" in html
    for action in RECOMMENDED_ACTIONS[Band.PERSISTENT_ABSENCE]:
        assert action in text(inset)
    assert RECOMMENDED_ACTIONS[Band.SEVERE_ABSENCE][0] not in inset


def _steps(html):
    """(tag, action) for each recommended step on the pupil page; tag None when unmarked."""
    inset = re.search(r'data-testid="recommended-actions">(.*?)</div>', html, re.S)
    if inset is None:
        return None
    found = []
    for item in re.findall(r"<li>(.*?)</li>", inset.group(1), re.S):
        tag = re.search(r'<strong class="govuk-tag[^"]*"[^>]*>([^<]+)</strong>', item)
        action = text(re.sub(r"<strong.*?</strong>", "", item, flags=re.S))
        found.append((tag.group(1) if tag else None, unescape(action)))
    return found


def _case_with_some_steps_done(pupil, user):
    """A case with an early help assessment and a home visit (band 3: two of five steps)."""
    case = case_open(pupil=pupil, user=user, reason="90% and falling")
    intervention_add(case=case, user=user, type=InterventionType.EARLY_HELP, start_date=TODAY)
    chronology_add(case=case, user=user, occurred_on=TODAY, kind="visit", note="Home visit")
    return case


BAND_3_MARKED = [
    ("Done", "Complete an early help assessment"),
    ("Not done yet", "Consider a TAC and whole-family support"),
    ("Done", "Keep a detailed chronology of visits, contacts and outcomes"),
    ("Not done yet", "Consider an attendance contract or education supervision order"),
    ("Not done yet", "Legal intervention may be considered once support has been explored"),
]


@pytest.mark.parametrize("user", ["school_lead", "la_officer", "manager"])
def test_it_marks_each_recommended_step_done_or_not_from_the_live_case(client, request, user,
                                                                        school, pupil):
    classified(pupil, school)
    case = _case_with_some_steps_done(pupil, request.getfixturevalue("school_lead"))
    html = page(client, request.getfixturevalue(user), pupil)
    assert _steps(html) == BAND_3_MARKED
    assert reverse("interventions:detail", args=[case.pk]) + "#next-steps" in html
    assert 'data-testid="steps-open-case"' not in html


def test_it_marks_more_steps_done_as_the_case_records_them(client, school_lead, la_officer,
                                                           school, pupil):
    classified(pupil, school)
    case = _case_with_some_steps_done(pupil, school_lead)
    intervention_add(case=case, user=la_officer, type=InterventionType.ATTENDANCE_CONTRACT,
                     start_date=TODAY)
    assert _steps(page(client, school_lead, pupil)) == [
        ("Done", "Complete an early help assessment"),
        ("Not done yet", "Consider a TAC and whole-family support"),
        ("Done", "Keep a detailed chronology of visits, contacts and outcomes"),
        ("Done", "Consider an attendance contract or education supervision order"),
        ("Not done yet", "Legal intervention may be considered once support has been explored"),
    ]


def test_it_says_check_for_a_step_the_portal_cannot_tell(client, school_lead, school, pupil):
    # 15 of 20 sessions: 75%, band 4 (at risk of severe absence).
    classified(pupil, school, ["/", "\\"] * 7 + ["O", "O"] * 3)
    case_open(pupil=pupil, user=school_lead, reason="75%")
    steps = dict((action, tag) for tag, action in _steps(page(client, school_lead, pupil)))
    assert steps == {
        "Review all support: what is working and what is not": "Check",
        "Consult the school's attendance officer (required before legal proceedings)":
            "Not done yet",
        "Consult the early help advisor": "Check",
        "Consider alternative provision": "Not done yet",
    }


def test_it_lists_the_steps_with_a_link_to_open_a_case_when_there_is_none(client, school_lead,
                                                                         school, pupil):
    classified(pupil, school)
    html = page(client, school_lead, pupil)
    assert _steps(html) == [(None, action) for action in RECOMMENDED_ACTIONS[
        Band.PERSISTENT_ABSENCE]]
    link = re.search(r'<a [^>]*data-testid="steps-open-case"', html).group(0)
    assert reverse("interventions:open", args=[pupil.upn]) in link
    assert "No case is open for Harry" in text(html)


def test_it_does_not_mark_steps_from_a_closed_case(client, school_lead, school, pupil):
    classified(pupil, school)
    case = _case_with_some_steps_done(pupil, school_lead)
    case_close(case=case, user=school_lead, note="Back to 97%")
    html = page(client, school_lead, pupil)
    assert {tag for tag, _ in _steps(html)} == {None}
    assert 'data-testid="steps-open-case"' in html


def test_it_shows_a_social_worker_the_marks_but_no_link_to_open_a_case(
        client, social_worker, other_school, other_school_lead, caseload_pupil):
    classified(caseload_pupil, other_school)
    html = page(client, social_worker, caseload_pupil)
    assert {tag for tag, _ in _steps(html)} == {None}
    assert 'data-testid="steps-open-case"' not in html  # social workers do not open cases
    _case_with_some_steps_done(caseload_pupil, other_school_lead)
    assert _steps(page(client, social_worker, caseload_pupil)) == BAND_3_MARKED


def test_it_never_marks_steps_from_a_case_the_user_may_not_see(client, administrator,
                                                               school_lead, school, pupil):
    """Administrators see pupil pages but hold no casework role: no marks, no case, no link."""
    classified(pupil, school)
    case = _case_with_some_steps_done(pupil, school_lead)
    html = page(client, administrator, pupil)
    assert _steps(html) == [(None, action) for action in RECOMMENDED_ACTIONS[
        Band.PERSISTENT_ABSENCE]]
    assert reverse("interventions:detail", args=[case.pk]) not in html
    assert 'data-testid="steps-open-case"' not in html and "No case is open" not in html


def test_it_shows_each_school_and_all_schools_for_a_dual_registered_pupil(
        client, manager, school, other_school, pupil):
    EnrolmentFactory(pupil=pupil, school=other_school, registration="S")
    write_marks(pupil, school, ["/", "/", "D", "D"] * 5)
    last = write_marks(pupil, other_school, ["D", "D", "/", "I"] * 5)
    pupils_reclassify(as_of=last)
    html = page(client, manager, pupil)
    table = re.search(r'data-testid="school-summaries">(.*?)</table>', html, re.S).group(1)
    rows = [text(r) for r in re.findall(r"<tr class=\"govuk-table__row[^\"]*\">(.*?)</tr>",
                                        table, re.S)]
    assert any(r.startswith("Hilltop Primary 100.0% 10 10 0 0 Band 1") for r in rows), rows
    assert any(r.startswith("Riverside Academy 50.0% 10 5 5 0 Band 5") for r in rows), rows
    assert any(r.startswith("All schools 75.0% 20 15 5 0 Band 4") for r in rows), rows


def test_it_draws_the_register_with_the_codes_of_known_dates(client, school_lead, school,
                                                            pupil):
    classified(pupil, school)
    html = page(client, school_lead, pupil)
    first = cell(html, date(2025, 9, 3))
    assert first.count("app-cal__s--present") == 2
    assert "AM: </span>/" in first and "PM: </span>\\" in first
    ill = cell(html, date(2025, 9, 16))
    assert re.search(r'app-cal__s--authorised"[^>]*><span class="govuk-visually-hidden">AM: '
                     r'</span>I<', ill)
    assert re.search(r'app-cal__s--unauthorised"[^>]*><span class="govuk-visually-hidden">, PM: '
                     r'</span>O<', ill)
    # A school day since the last mark has no mark; tomorrow is not drawn as a register day.
    assert cell(html, date(2025, 9, 17)).count("app-cal__s--none") == 2
    assert 'data-date="2025-09-19"' not in html
    key = text(re.search(r'data-testid="calendar-key"[^>]*>(.*?)</ul>', html, re.S).group(1))
    assert "Present or approved educational activity (18 sessions)" in key
    assert "Unauthorised absence (1 session)" in key
    assert "No mark received (4 sessions)" in key  # 17 and 18 September


def test_it_shows_a_dual_registered_pupils_register_from_the_school_they_were_at(
        client, manager, school, other_school, pupil):
    EnrolmentFactory(pupil=pupil, school=other_school, registration="S")
    write_marks(pupil, school, ["D", "D", "/", "\\"])
    write_marks(pupil, other_school, ["/", "U", "D", "D"])
    html = page(client, manager, pupil)
    assert "AM: </span>/<" in cell(html, date(2025, 9, 3))
    assert "PM: </span>U<" in cell(html, date(2025, 9, 3))
    assert "D<" not in cell(html, date(2025, 9, 4))


def test_it_lists_the_band_history_newest_first(client, school_lead, school, pupil):
    first = write_marks(pupil, school, ["/"] * 4)
    pupils_reclassify(as_of=first)
    days = school_days(start=first, end=date(2025, 12, 19))
    SessionMark.objects.bulk_create(
        [SessionMark(pupil=pupil, school=school, date=d, am="/", pm="I") for d in days[1:4]]
    )
    pupils_reclassify(as_of=days[3])
    html = page(client, school_lead, pupil)
    table = re.search(r'data-testid="band-history">.*?<tbody[^>]*>(.*?)</tbody>', html,
                      re.S).group(1)
    rows = [text(r) for r in re.findall(r"<tr class=\"govuk-table__row\">(.*?)</tr>", table,
                                        re.S)]
    assert rows == [
        "9 Sep 2025 Band 1: Expected Band 4: At risk of severe absence 70.0% (7 of 10)",
        "4 Sep 2025 First classification Band 1: Expected 100.0% (4 of 4)",
    ]


def test_it_shows_the_social_worker_the_open_alerts_about_the_pupil(client, social_worker,
                                                                   other_school,
                                                                   caseload_pupil):
    classified(caseload_pupil, other_school)
    Alert.objects.create(recipient=social_worker, pupil=caseload_pupil, rule=Rule.ENTERED_PA,
                         summary="Attendance 90.0% this year", dedup_key="a")
    Alert.objects.create(recipient=social_worker, pupil=caseload_pupil, rule=Rule.WORSE_BAND,
                         summary="Old news", dedup_key="b", read_at=timezone.now(),
                         acknowledged_at=timezone.now(), acknowledged_by=social_worker)
    html = page(client, social_worker, caseload_pupil)
    banner = re.search(r'data-testid="open-alerts">(.*?)</ul>', html, re.S).group(1)
    assert "Entered persistent absence" in banner and "Attendance 90.0% this year" in banner
    assert "Old news" not in banner
    assert "1 open alert<" in html


def test_it_does_not_show_a_school_lead_a_social_workers_alert(client, school_lead,
                                                              social_worker, school, pupil):
    Alert.objects.create(recipient=social_worker, pupil=pupil, rule=Rule.ENTERED_SA,
                         summary="Private to the worker", dedup_key="a")
    html = page(client, school_lead, pupil)
    assert "Private to the worker" not in html


def test_it_says_so_when_a_pupil_has_no_figures_yet(client, school_lead, pupil):
    html = page(client, school_lead, pupil)
    assert 'data-testid="no-figures"' in html
    assert "No band changes recorded in 2025/26" in html


def test_it_builds_the_pupil_page_in_a_few_queries(client, school_lead, school, pupil,
                                                  django_assert_max_num_queries):
    classified(pupil, school, ["/", "I", "O", "\\"] * 40)
    client.force_login(school_lead)
    with django_assert_max_num_queries(40):
        response = client.get(reverse("pupils:detail", args=[pupil.upn]))
    assert response.status_code == 200


@pytest.mark.parametrize(("user", "target"), [("other_school_lead", "pupil"),
                                              ("social_worker", "pupil"),
                                              ("school_lead", "caseload_pupil")])
def test_it_gives_an_outsider_a_404_for_a_pupil_page(client, request, user, target):
    client.force_login(request.getfixturevalue(user))
    victim = request.getfixturevalue(target)
    response = client.get(reverse("pupils:detail", args=[victim.upn]))
    assert response.status_code == 404
    assert victim.surname not in response.content.decode()


# --- Caseload ---------------------------------------------------------------------------------

def test_it_lists_exactly_the_social_workers_caseload_with_their_bands(
        client, social_worker, school, other_school, caseload_pupil, pupil, other_pupil):
    second = PupilFactory(surname="Second", forename="Sid")
    EnrolmentFactory(pupil=second, school=school)
    AllocationFactory(pupil=second, social_worker=social_worker)
    CharacteristicsFactory(pupil=second, effective_date=date(2025, 9, 1), cp=True, cin=True,
                           year_group="4")
    former = PupilFactory(surname="Former")
    EnrolmentFactory(pupil=former, school=school)
    AllocationFactory(pupil=former, social_worker=social_worker, end_date=date(2025, 7, 1))
    someone_elses = PupilFactory(surname="Elsewhere")
    EnrolmentFactory(pupil=someone_elses, school=school)
    AllocationFactory(pupil=someone_elses)
    write_marks(caseload_pupil, other_school, NINETY_PERCENT)
    write_marks(second, school, ["/"] * 20)
    write_marks(pupil, school, ["/"] * 20)
    pupils_reclassify(as_of=date(2025, 9, 16))

    client.force_login(social_worker)
    response = client.get(reverse("pupils:caseload"))
    assert response.status_code == 200
    assert {p.upn for p in response.context["page"]} == {caseload_pupil.upn, second.upn}
    html = response.content.decode()
    for outsider in (pupil, other_pupil, former, someone_elses):
        assert outsider.upn not in html
    rows = {upn: body for upn, body in
            re.findall(r'<tr class="govuk-table__row" data-upn="([^"]+)">(.*?)</tr>', html, re.S)}
    assert "90.0%" in rows[caseload_pupil.upn]
    assert "Band 3: Persistent absence" in rows[caseload_pupil.upn]
    assert "Band 1: Expected" in rows[second.upn] and "100.0%" in rows[second.upn]
    assert ">CP<" in rows[second.upn] and ">CIN<" in rows[second.upn]
    assert "Year 4" in rows[second.upn]
    # Worst band first by default.
    assert [p.upn for p in response.context["page"]] == [caseload_pupil.upn, second.upn]


def test_it_shows_the_trend_latest_marks_and_open_alerts_on_the_caseload(
        client, social_worker, other_school, caseload_pupil):
    classified(caseload_pupil, other_school)
    Alert.objects.create(recipient=social_worker, pupil=caseload_pupil, rule=Rule.ENTERED_PA,
                         summary="x", dedup_key="a")
    Alert.objects.create(recipient=social_worker, pupil=caseload_pupil, rule=Rule.WORSE_BAND,
                         summary="y", dedup_key="b")
    client.force_login(social_worker)
    html = client.get(reverse("pupils:caseload")).content.decode()
    row = re.search(rf'data-upn="{caseload_pupil.upn}">(.*?)</tr>', html, re.S).group(1)
    assert "Steady" in text(row)  # the last four weeks are the whole year so far
    assert 'data-testid="open-alerts">2<' in row
    # The last five school days up to 18 September: 12, 15, 16, 17, 18.
    marks = text(re.search(r'<span class="app-marks">(.*)</span></td>', row, re.S).group(1))
    assert marks.startswith("Fri 12 Sep: / , \\ ;")
    assert "Tue 16 Sep: I , O ;" in marks
    assert "Thu 18 Sep: no mark, no mark;" in marks


def test_it_sorts_the_caseload_by_rate(client, social_worker, school, caseload_pupil,
                                      other_school):
    better = PupilFactory(surname="Better")
    EnrolmentFactory(pupil=better, school=school)
    AllocationFactory(pupil=better, social_worker=social_worker)
    write_marks(better, school, ["/"] * 20)
    write_marks(caseload_pupil, other_school, NINETY_PERCENT)
    pupils_reclassify(as_of=date(2025, 9, 16))
    client.force_login(social_worker)
    ascending = client.get(reverse("pupils:caseload"), {"sort": "rate"}).context["page"]
    descending = client.get(reverse("pupils:caseload"), {"sort": "-rate"}).context["page"]
    assert [p.surname for p in ascending] == ["Caseload", "Better"]
    assert [p.surname for p in descending] == ["Better", "Caseload"]


@pytest.mark.parametrize("user", ["school_lead", "la_officer", "manager"])
def test_it_gives_users_without_a_caseload_a_404(client, request, user):
    client.force_login(request.getfixturevalue(user))
    assert client.get(reverse("pupils:caseload")).status_code == 404


def test_it_points_the_social_workers_navigation_at_the_caseload(client, social_worker):
    client.force_login(social_worker)
    nav = client.get(reverse("home")).context["service_nav"]
    caseload = next(item for item in nav if item["text"] == "Your caseload")
    assert caseload["href"] == reverse("pupils:caseload")
    # Pupil pages sit in the caseload section for a social worker.
    response = client.get(reverse("pupils:caseload"))
    assert [i["text"] for i in response.context["service_nav"] if i["active"]] == [
        "Your caseload"]


# --- Unread alerts in the header --------------------------------------------------------------

@pytest.mark.parametrize("user", ["social_worker", "school_lead", "la_officer", "manager"])
def test_it_shows_the_unread_alert_count_next_to_alerts(client, request, user):
    person = request.getfixturevalue(user)
    for key in ("a", "b", "c"):
        Alert.objects.create(recipient=person, rule=Rule.SCHOOL_SILENT, summary=key,
                             dedup_key=key, read_at=timezone.now() if key == "c" else None)
    client.force_login(person)
    html = client.get(reverse("home")).content.decode()
    badge = re.search(r'<a class="govuk-service-navigation__link" href="/alerts/"[^>]*>(.*?)</a>',
                      html, re.S).group(1)
    assert text(badge) == "Alerts 2 unread"
    assert 'data-testid="unread-alerts">2<' in badge


def test_it_shows_alerts_without_a_count_when_all_are_read(client, school_lead):
    client.force_login(school_lead)
    nav = client.get(reverse("home")).context["service_nav"]
    assert "Alerts" in [item["text"] for item in nav]
    assert 'data-testid="unread-alerts"' not in client.get(reverse("home")).content.decode()


# --- School page and pupil list ---------------------------------------------------------------

def _school_with_bands(school):
    """Four pupils at the school: bands 1, 3, 3 and 5, and one with no marks."""
    pupils = []
    for name, codes in [("Alpha", ["/"] * 20), ("Bravo", NINETY_PERCENT),
                        ("Charlie", ["/"] * 16 + ["I"] * 4), ("Delta", ["/"] * 10 + ["O"] * 10),
                        ("Echo", None)]:
        p = PupilFactory(surname=name)
        EnrolmentFactory(pupil=p, school=school)
        if codes:
            write_marks(p, school, codes)
        pupils.append(p)
    pupils_reclassify(as_of=date(2025, 9, 16))
    return pupils


def test_it_counts_the_schools_pupils_in_each_band(client, school_lead, school):
    _school_with_bands(school)
    client.force_login(school_lead)
    html = client.get(reverse("schools:detail", args=[school.urn])).content.decode()
    table = re.search(r'data-testid="band-counts">(.*?)</table>', html, re.S).group(1)
    rows = dict(re.findall(r'data-band="(\d)">(.*?)</tr>', table, re.S))
    assert text(rows["1"]).endswith("1 pupil in band 1 25.0%")
    assert text(rows["2"]).endswith("0 0.0%")
    assert text(rows["3"]).endswith("2 pupils in band 3 50.0%")
    assert text(rows["5"]).endswith("1 pupil in band 5 25.0%")
    link = f'href="/pupils/?school={school.urn}&amp;band=3&amp;sort=band"'
    assert link in rows["3"]
    assert "1 pupil on roll has no band yet" in html


def test_it_filters_the_pupil_list_by_band_with_rate_and_band_columns(client, school_lead,
                                                                     school):
    _school_with_bands(school)
    client.force_login(school_lead)
    response = client.get(reverse("pupils:list"), {"school": school.urn, "band": "3"})
    assert [p.surname for p in response.context["page"]] == ["Bravo", "Charlie"]
    html = response.content.decode()
    assert "90.0%" in html and "80.0%" in html and "Band 3: Persistent absence" in html
    assert 'data-testid="band-filter"' in html


def test_it_ignores_a_band_filter_that_is_not_a_band(client, school_lead, school):
    _school_with_bands(school)
    client.force_login(school_lead)
    response = client.get(reverse("pupils:list"), {"band": "9"})
    assert response.context["page"].paginator.count == 5


def test_it_keeps_the_band_filter_inside_the_users_scope(client, other_school_lead, school,
                                                         other_school, other_pupil):
    _school_with_bands(school)
    write_marks(other_pupil, other_school, ["/"] * 10 + ["O"] * 10)
    pupils_reclassify(as_of=date(2025, 9, 16))
    client.force_login(other_school_lead)
    response = client.get(reverse("pupils:list"), {"band": "5"})
    assert [p.upn for p in response.context["page"]] == [other_pupil.upn]
    assert client.get(reverse("pupils:list"), {"school": school.urn, "band": "5"}
                      ).status_code == 404


def test_it_shows_the_schools_own_figures_when_filtered_by_school(client, manager, school,
                                                                  other_school, pupil):
    EnrolmentFactory(pupil=pupil, school=other_school, registration="S")
    write_marks(pupil, school, ["/", "/", "D", "D"] * 5)
    last = write_marks(pupil, other_school, ["D", "D", "/", "I"] * 5)
    pupils_reclassify(as_of=last)
    client.force_login(manager)
    at_school = client.get(reverse("pupils:list"), {"school": school.urn}).context["page"][0]
    at_other = client.get(reverse("pupils:list"), {"school": other_school.urn}).context["page"][0]
    city = client.get(reverse("pupils:list")).context["page"][0]
    assert (at_school.att_rate, at_school.att_band) == (100.0, 1)
    assert (at_other.att_rate, at_other.att_band) == (50.0, 5)
    assert (city.att_rate, city.att_band) == (75.0, 4)
