"""The city dashboard week by week: the weekly figures checked against an independent pandas
computation straight from the raw marks, the dashboard's filters, the chart and its table, the
CSV and XLSX downloads, suppression, caching and who may see them."""

import csv
import io
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pandas as pd
import pytest
from django.http import Http404
from django.urls import reverse
from openpyxl import load_workbook

from attendance.classification import pupils_reclassify
from attendance.models import AttendanceCode, ReclassificationRun, SessionMark, WeeklyAttendance
from pupils.models import Pupil
from reports.selectors import city_dashboard, city_weeks, city_weeks_cached
from tests.attendance.test_classification import write_marks
from tests.factories import CharacteristicsFactory, EnrolmentFactory, PupilFactory
from tests.reports.test_city_dashboard import PUPILS, _half_up

pytestmark = pytest.mark.django_db


def _spec(pupil: Pupil) -> tuple:
    """The PUPILS entry a small-city pupil was made from (surname Qzsurname<index>)."""
    return PUPILS[int(pupil.surname[-2:])]


def _pupil_ids(keep=lambda spec: True) -> list[int]:
    return [p.pk for p in Pupil.objects.filter(surname__startswith="Qzsurname") if keep(_spec(p))]


def _weeks_from_marks(pupil_ids) -> list[tuple]:
    """(Monday, pupils, possible, attended, authorised, unauthorised, attendance %, absence %,
    authorised %, unauthorised %) per week, from the SessionMark rows and the code table only."""
    marks = pd.DataFrame(SessionMark.objects.filter(pupil_id__in=pupil_ids).values(
        "pupil_id", "date", "am", "pm"))
    sessions = marks.melt(id_vars=["pupil_id", "date"], value_vars=["am", "pm"],
                          value_name="code").dropna(subset=["code"])
    codes = pd.DataFrame(AttendanceCode.objects.values(
        "code", "counts_as_possible", "counts_as_attended", "category"))
    sessions = sessions.merge(codes, on="code", how="left", validate="many_to_one")
    sessions["authorised"] = sessions["category"].eq("authorised") & sessions["counts_as_possible"]
    sessions["unauthorised"] = (sessions["category"].eq("unauthorised")
                                & sessions["counts_as_possible"])
    sessions["monday"] = [d - timedelta(days=d.weekday()) for d in sessions["date"]]
    sessions["counted_pupil"] = sessions["pupil_id"].where(sessions["counts_as_possible"])
    weeks = sessions.groupby("monday").agg(
        pupils=("counted_pupil", "nunique"), possible=("counts_as_possible", "sum"),
        attended=("counts_as_attended", "sum"), authorised=("authorised", "sum"),
        unauthorised=("unauthorised", "sum"))
    rows = []
    for monday, w in weeks.iterrows():
        possible = int(w.possible)

        def rate(n, possible=possible):
            return _half_up(Decimal(int(n) * 100) / possible) if possible else None

        rows.append((monday, int(w.pupils), possible, int(w.attended), int(w.authorised),
                     int(w.unauthorised), rate(w.attended), rate(possible - w.attended),
                     rate(w.authorised), rate(w.unauthorised)))
    return rows


def _tuples(weeks) -> list[tuple]:
    return [(w.week_start, w.pupils, w.possible, w.attended, w.authorised, w.unauthorised,
             w.attendance_rate, w.absence_rate, w.authorised_rate, w.unauthorised_rate)
            for w in weeks]


# --- figures ------------------------------------------------------------------------------------

def test_the_weeks_match_the_raw_marks_grouped_by_monday(small_city, manager):
    weeks = city_weeks(user=manager, academic_year=2025)
    expected = _weeks_from_marks(_pupil_ids())
    assert _tuples(weeks) == expected
    assert len(weeks) == 5  # 20 school days from Wednesday 3 September
    assert all(w.week_start.weekday() == 0 for w in weeks)
    # Every mark is in the year to date: the weeks add up to the headline.
    headline = city_dashboard(user=manager, academic_year=2025, breakdowns=())["headline"]
    assert sum(w.possible for w in weeks) == headline.possible
    assert sum(w.attended for w in weeks) == headline.attended
    assert sum(w.unauthorised for w in weeks) == headline.unauthorised


def _pa_sa_from_marks(pupil_ids) -> dict:
    """Monday → (pupils with possible sessions that week, of them with attendance from
    1 September to that Sunday of 90% or less, of 50% or less), from the raw marks."""
    marks = pd.DataFrame(SessionMark.objects.filter(pupil_id__in=pupil_ids).values(
        "pupil_id", "date", "am", "pm"))
    sessions = marks.melt(id_vars=["pupil_id", "date"], value_vars=["am", "pm"],
                          value_name="code").dropna(subset=["code"])
    codes = pd.DataFrame(AttendanceCode.objects.values(
        "code", "counts_as_possible", "counts_as_attended"))
    sessions = sessions.merge(codes, on="code", how="left", validate="many_to_one")
    sessions["monday"] = [d - timedelta(days=d.weekday()) for d in sessions["date"]]
    per = sessions.groupby(["pupil_id", "monday"])[
        ["counts_as_possible", "counts_as_attended"]].sum().reset_index()
    result = {}
    for monday in sorted(per["monday"].unique()):
        this_week = per[(per["monday"] == monday) & (per["counts_as_possible"] > 0)]
        pa = sa = 0
        for pupil_id in this_week["pupil_id"]:
            to_date = per[(per["pupil_id"] == pupil_id) & (per["monday"] <= monday)]
            rate = Fraction(int(to_date["counts_as_attended"].sum()),
                            int(to_date["counts_as_possible"].sum()))
            pa += rate <= Fraction(9, 10)
            sa += rate <= Fraction(1, 2)
        result[monday] = (len(this_week), pa, sa)
    return result


def test_persistent_and_severe_absence_week_by_week_follow_the_year_to_date(small_city,
                                                                            manager):
    weeks = city_weeks(user=manager, academic_year=2025)
    expected = _pa_sa_from_marks(_pupil_ids())
    assert {w.week_start: (w.pupils, w.pa, w.sa) for w in weeks} == expected
    assert any(w.pa for w in weeks) and any(w.sa for w in weeks)
    last = weeks[-1]  # the last week's year to date is the headline's year to date
    headline = city_dashboard(user=manager, academic_year=2025, breakdowns=())["headline"]
    assert (last.pa, last.sa) == (headline.pa, headline.sa)
    assert last.pa_rate == _half_up(Decimal(last.pa * 100) / last.pupils)


def test_the_page_shows_persistent_and_severe_absence_each_week(small_city, manager, client):
    client.force_login(manager)
    html = client.get(reverse("reports:city"), {"academic_year": 2025}).content.decode()
    assert 'data-figure="chart-weeks-pa"' in html
    expected = {f"{monday:%Y-%m-%d}": [f"{_half_up(Decimal(pa * 100) / n)}%",
                                       f"{_half_up(Decimal(sa * 100) / n)}%"]
                for monday, (n, pa, sa) in _pa_sa_from_marks(_pupil_ids()).items()}
    assert _table(html, slice(6, 8)) == expected


@pytest.mark.parametrize(("filters", "keep"), [
    ({"phase": "secondary"}, lambda spec: spec[0] == "secondary"),
    ({"phase": "primary"}, lambda spec: spec[0] == "primary"),
    ({"characteristic": "fsm"}, lambda spec: spec[2]),
    ({"characteristic": "ehcp"}, lambda spec: spec[3] == "E"),
    ({"phase": "primary", "characteristic": "sen_support"},
     lambda spec: spec[0] == "primary" and spec[3] == "K"),
])
def test_the_weeks_follow_the_dashboards_filters(small_city, manager, filters, keep):
    weeks = city_weeks(user=manager, academic_year=2025, filters=filters)
    assert _tuples(weeks) == _weeks_from_marks(_pupil_ids(keep))


def test_the_locality_filter_counts_the_pupils_of_that_localitys_schools(small_city, manager):
    north = small_city["primary"].locality  # primary and special are in the North
    weeks = city_weeks(user=manager, academic_year=2025, filters={"locality": north.pk})
    assert _tuples(weeks) == _weeks_from_marks(_pupil_ids(lambda s: s[0] != "secondary"))


def test_a_filter_matching_nobody_gives_no_weeks(small_city, manager):
    assert city_weeks(user=manager, academic_year=2025, filters={"characteristic": "cla"}) == []
    assert city_weeks(user=manager, academic_year=2024) == []


def test_a_dual_registered_pupil_counts_once_with_their_sessions_at_both_schools(
        small_city, manager):
    pupil = PupilFactory()
    EnrolmentFactory(pupil=pupil, school=small_city["special"], registration="M")
    EnrolmentFactory(pupil=pupil, school=small_city["primary"], registration="S")
    CharacteristicsFactory(pupil=pupil, effective_date=date(2025, 9, 1), year_group="8")
    # Wednesday to Friday of the first week: mornings at the primary, afternoons at the special.
    write_marks(pupil, small_city["primary"], ["/", None, "O", None, "/", None])
    write_marks(pupil, small_city["special"], [None, "/", None, "/", None, "N"])
    pupils_reclassify(as_of=date(2025, 9, 30))  # the small city's last day of marks

    weeks = city_weeks(user=manager, academic_year=2025, filters={"phase": "special"})
    first = weeks[0]
    assert first.week_start == date(2025, 9, 1)
    assert first.pupils == 2  # the special school's pupil and the dual-registered one, once
    expected = _weeks_from_marks([*_pupil_ids(lambda s: s[0] == "special"), pupil.pk])
    assert _tuples(weeks) == expected


# --- the page -----------------------------------------------------------------------------------

def _table(html: str, columns=slice(0, 6)) -> dict[str, list[str]]:
    """The weeks table on the page: ISO Monday -> the text of its cells (by default up to the
    unauthorised rate; ``slice(6, 8)``: persistent and severe absence)."""
    table = html.split('data-testid="weeks-table"')[1].split("</table>")[0]
    rows = {}
    for row in table.split('data-week="')[1:]:
        cells = row.split("</tr>")[0].split("<td")[1:]
        rows[row[:10]] = [c.split(">", 1)[1].split("<")[0] for c in cells][columns]
    return rows


def _shown(week: tuple) -> list[str]:
    return [str(week[1]), str(week[2]), *[f"{r}%" for r in week[6:]]]


def test_the_page_draws_the_weeks_with_a_table_of_the_same_figures(small_city, manager, client):
    client.force_login(manager)
    html = client.get(reverse("reports:city"), {"academic_year": 2025}).content.decode()
    assert 'data-figure="chart-weeks"' in html and 'data-figure="chart-weeks-absence"' in html
    assert '<script id="chart-weeks-absence" type="application/json">' in html
    assert _table(html) == {f"{w[0]:%Y-%m-%d}": _shown(w) for w in _weeks_from_marks(
        _pupil_ids())}
    assert "table=weeks" in html


def test_the_page_follows_the_filters_in_the_weeks(small_city, manager, client):
    client.force_login(manager)
    html = client.get(reverse("reports:city"), {"academic_year": 2025,
                                                "phase": "special"}).content.decode()
    assert _table(html) == {f"{w[0]:%Y-%m-%d}": _shown(w) for w in _weeks_from_marks(
        _pupil_ids(lambda s: s[0] == "special"))}


# --- downloads ----------------------------------------------------------------------------------

def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


def _text(value) -> str:
    return "" if value is None else str(value)


def test_the_weeks_csv_holds_every_week(small_city, manager, client):
    client.force_login(manager)
    response = client.get(reverse("reports:city_csv"), {"academic_year": 2025, "table": "weeks"})
    assert response.status_code == 200
    assert "city-attendance-weeks-2025-2026.csv" in response["Content-Disposition"]
    rows = _csv(response)
    assert rows[0][:3] == ["Week beginning", "Pupils", "Possible sessions"]
    assert [r[:10] for r in rows[1:]] == [[w[0].isoformat(), *[_text(v) for v in w[1:]]]
                                          for w in _weeks_from_marks(_pupil_ids())]
    assert rows[0][10:] == ["Persistent absence % (year to date)",
                            "Severe absence % (year to date)"]
    assert [r[10:] for r in rows[1:]] == [
        [_text(_half_up(Decimal(pa * 100) / n)), _text(_half_up(Decimal(sa * 100) / n))]
        for n, pa, sa in _pa_sa_from_marks(_pupil_ids()).values()]


def test_the_external_weeks_csv_suppresses_weeks_of_fewer_than_five_pupils(
        small_city, manager, client):
    client.force_login(manager)
    url = reverse("reports:city_csv")
    special = _csv(client.get(url, {"academic_year": 2025, "phase": "special", "table": "weeks",
                                    "external": "1"}))
    assert special[1][0] == "2025-09-01" and special[1][1:] == ["c"] * 11
    everyone = _csv(client.get(url, {"academic_year": 2025, "table": "weeks", "external": "1"}))
    assert everyone[1][1] == "12"  # 12 pupils: shown


def test_an_unknown_csv_table_is_404(small_city, manager, client):
    client.force_login(manager)
    assert client.get(reverse("reports:city_csv"), {"table": "pupils"}).status_code == 404


def test_the_xlsx_has_a_weeks_sheet_with_dates_and_numbers(small_city, manager, client):
    client.force_login(manager)
    response = client.get(reverse("reports:city_xlsx"), {"academic_year": 2025,
                                                         "characteristic": "fsm"})
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames[-1] == "Weeks"
    rows = list(book["Weeks"].iter_rows(values_only=True))
    assert rows[0][:2] == ("Week beginning", "Pupils")
    expected = _weeks_from_marks(_pupil_ids(lambda spec: spec[2]))
    assert [(r[0].date(), *r[1:6]) for r in rows[1:]] == [w[:6] for w in expected]
    assert [r[6:10] for r in rows[1:]] == [tuple(float(v) for v in w[6:]) for w in expected]
    assert [r[10:] for r in rows[1:]] == [
        (float(_half_up(Decimal(pa * 100) / n)), float(_half_up(Decimal(sa * 100) / n)))
        for n, pa, sa in _pa_sa_from_marks(_pupil_ids(lambda spec: spec[2])).values()]


def test_the_external_xlsx_suppresses_small_weeks(small_city, manager, client):
    client.force_login(manager)
    response = client.get(reverse("reports:city_xlsx"), {"academic_year": 2025,
                                                         "phase": "special", "external": "1"})
    rows = list(load_workbook(io.BytesIO(response.content))["Weeks"].iter_rows(values_only=True))
    assert rows[1][1:] == ("c",) * 11


# --- caching and permissions --------------------------------------------------------------------

def test_the_weeks_are_cached_until_the_next_run(small_city, manager):
    before = city_weeks_cached(user=manager, academic_year=2025)
    WeeklyAttendance.objects.filter(week_start=date(2025, 9, 1)).delete()
    assert city_weeks_cached(user=manager, academic_year=2025) == before
    assert city_weeks_cached(user=manager, academic_year=2025,
                             filters={"phase": "primary"})[0].week_start == date(2025, 9, 8)
    ReclassificationRun.objects.create(as_of=date(2025, 10, 1), school_ids=[])
    assert city_weeks_cached(user=manager, academic_year=2025)[0].week_start == date(2025, 9, 8)


@pytest.mark.parametrize("persona", ["administrator", "manager", "la_officer", "school_lead"])
def test_every_role_with_the_dashboard_sees_the_weeks(small_city, request, persona, client):
    user = request.getfixturevalue(persona)
    assert len(city_weeks(user=user, academic_year=2025)) == 5
    client.force_login(user)
    response = client.get(reverse("reports:city_csv"), {"academic_year": 2025, "table": "weeks"})
    assert response.status_code == 200 and len(_csv(response)) == 6


def test_a_social_worker_gets_404_for_the_weeks(small_city, social_worker, client):
    with pytest.raises(Http404):
        city_weeks(user=social_worker, academic_year=2025)
    with pytest.raises(Http404):
        city_weeks_cached(user=social_worker, academic_year=2025)
    client.force_login(social_worker)
    assert client.get(reverse("reports:city_csv"), {"table": "weeks"}).status_code == 404


def test_an_anonymous_visitor_is_sent_to_sign_in_for_the_weeks(client):
    response = client.get(reverse("reports:city_csv"), {"table": "weeks"})
    assert response.status_code == 302 and "login" in response["Location"]
