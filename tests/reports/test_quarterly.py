"""The quarterly city report: term and year-to-date figures checked against pandas from the raw
marks, band movement since last term, commentary, who may see it, print page and XLSX."""

import io
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
import pytest
from django.http import Http404
from django.urls import reverse
from openpyxl import load_workbook

from attendance.bands import band_for
from attendance.classification import pupils_reclassify
from attendance.models import AttendanceCode, SessionMark
from reports.models import TermSummary
from reports.quarterly import quarterly_report, report_period_default
from reports.services import term_summaries_refresh
from schools.models import Term
from tests.attendance.test_classification import write_marks
from tests.factories import (
    CharacteristicsFactory,
    EnrolmentFactory,
    LocalityFactory,
    PupilFactory,
    SchoolFactory,
    academic_year_2025,
)

pytestmark = pytest.mark.django_db

AUTUMN_END, SPRING_DAY = date(2025, 12, 19), date(2026, 2, 13)
# (phase, fsm, autumn codes, spring codes): 40 autumn sessions, 30 spring ones
PUPILS = [
    ("primary", True, ["/"] * 40, ["/"] * 30),
    ("primary", False, ["/"] * 38 + ["I", "I"], ["/"] * 20 + ["O"] * 10),
    ("primary", True, ["/"] * 30 + ["O"] * 10, ["/"] * 30),
    ("primary", False, ["/"] * 36 + ["G", "N", "C2", "U"], ["/"] * 28 + ["M", "M"]),
    ("primary", False, ["/"] * 20 + ["N"] * 20, ["/"] * 10 + ["N"] * 20),
    ("secondary", True, ["/"] * 32 + ["O"] * 8, ["/"] * 14 + ["O"] * 16),
    ("secondary", False, ["/"] * 39 + ["L"], ["/"] * 30),
    ("secondary", True, ["/"] * 10 + ["O"] * 30, ["/"] * 5 + ["O"] * 25),
    ("secondary", False, ["/"] * 37 + ["B", "M", "I"], ["/"] * 27 + ["I"] * 3),
    ("secondary", False, ["/"] * 28 + ["E"] * 12, ["/"] * 29 + ["I"]),
    ("special", True, ["/"] * 24 + ["I"] * 16, ["/"] * 30),
]


def _half_up(numerator: int, denominator: int) -> Decimal:
    return (Decimal(100 * numerator) / Decimal(denominator)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP)


@pytest.fixture
def term_city(db):
    academic_year_2025()
    north = LocalityFactory(name="North")
    schools = {phase: SchoolFactory(phase=phase, locality=north)
               for phase in ("primary", "secondary", "special")}
    for number, (phase, fsm, autumn, spring) in enumerate(PUPILS):
        pupil = PupilFactory(surname=f"Qzquarterly{number:02d}")
        EnrolmentFactory(pupil=pupil, school=schools[phase])
        CharacteristicsFactory(pupil=pupil, effective_date=date(2025, 9, 1), fsm=fsm, sen="N",
                               year_group="7", ethnicity="WBRI")
        write_marks(pupil, schools[phase], autumn, start=date(2025, 9, 3))
        write_marks(pupil, schools[phase], spring, start=date(2026, 1, 5))
    pupils_reclassify(as_of=AUTUMN_END)  # band history at the end of the autumn term
    pupils_reclassify(as_of=SPRING_DAY)
    term_summaries_refresh(academic_year=2025, as_of=SPRING_DAY)
    return schools


def _per_pupil_terms() -> pd.DataFrame:
    """Per pupil and term, straight from SessionMark rows, the code table and the term dates."""
    marks = pd.DataFrame(SessionMark.objects.values("pupil_id", "school__phase", "date", "am",
                                                    "pm"))
    sessions = marks.melt(id_vars=["pupil_id", "school__phase", "date"], value_vars=["am", "pm"],
                          value_name="code").dropna(subset=["code"])
    codes = pd.DataFrame(AttendanceCode.objects.values(
        "code", "counts_as_possible", "counts_as_attended", "category"))
    sessions = sessions.merge(codes, on="code", how="left", validate="many_to_one")
    terms = list(Term.objects.filter(academic_year__start_year=2025).values(
        "name", "start_date", "end_date"))
    sessions["term"] = [next(t["name"] for t in terms if t["start_date"] <= d <= t["end_date"])
                        for d in sessions["date"]]
    sessions["unauthorised"] = sessions["category"].eq("unauthorised")
    return sessions.groupby(["pupil_id", "school__phase", "term"]).agg(
        possible=("counts_as_possible", "sum"), attended=("counts_as_attended", "sum"),
        unauthorised=("unauthorised", "sum")).reset_index()


def _expected(frame: pd.DataFrame) -> dict:
    per_pupil = frame.groupby("pupil_id")[["possible", "attended", "unauthorised"]].sum()
    bands = [band_for(attended=int(a), possible=int(p))
             for a, p in zip(per_pupil["attended"], per_pupil["possible"], strict=True)]
    possible, attended = int(per_pupil["possible"].sum()), int(per_pupil["attended"].sum())
    return {
        "pupils": len(per_pupil),
        "attendance": _half_up(attended, possible),
        "absence": _half_up(possible - attended, possible),
        "unauthorised": _half_up(int(per_pupil["unauthorised"].sum()), possible),
        "pa": _half_up(sum(1 for b in bands if b >= 3), len(bands)),
        "sa": _half_up(sum(1 for b in bands if b == 5), len(bands)),
    }


def _figures(cell) -> dict:
    return {"pupils": cell.pupils, "attendance": cell.attendance_rate,
            "absence": cell.absence_rate, "unauthorised": cell.unauthorised_rate,
            "pa": cell.pa_rate, "sa": cell.sa_rate}


def test_term_and_year_to_date_match_pandas_from_the_raw_marks(term_city, manager):
    expected = _per_pupil_terms()
    report = quarterly_report(user=manager, academic_year=2025, term="spring")

    spring = expected[expected["term"] == "spring"]
    assert _figures(report["term"]["headline"]) == _expected(spring)
    assert _figures(report["ytd"]["headline"]) == _expected(expected)
    phases = {c.key: c for c in report["term"]["breakdowns"][0]["cells"]}
    for phase, frame in spring.groupby("school__phase"):
        assert _figures(phases[phase]) == _expected(frame), phase
    ytd_fsm = {c.key: c for b in report["ytd"]["breakdowns"] if b["key"] == "fsm"
               for c in b["cells"]}
    assert ytd_fsm["yes"].pupils == sum(1 for p in PUPILS if p[1])


def test_the_autumn_report_counts_only_autumn_marks(term_city, manager):
    expected = _per_pupil_terms()
    report = quarterly_report(user=manager, academic_year=2025, term="autumn")
    autumn = _expected(expected[expected["term"] == "autumn"])
    assert _figures(report["term"]["headline"]) == autumn
    assert _figures(report["ytd"]["headline"]) == autumn  # the year to date is the autumn term
    assert report["term"]["headline"].benchmark("pa") == Decimal("23.5")  # autumn 2021/22 figure


def test_band_movement_compares_the_band_at_the_end_of_last_term_with_now(term_city, manager):
    expected = _per_pupil_terms()
    autumn = expected[expected["term"] == "autumn"].groupby("pupil_id")[
        ["possible", "attended"]].sum()
    ytd = expected.groupby("pupil_id")[["possible", "attended"]].sum()
    before = {p: band_for(attended=int(r.attended), possible=int(r.possible))
              for p, r in autumn.iterrows()}
    now = {p: band_for(attended=int(r.attended), possible=int(r.possible))
           for p, r in ytd.iterrows()}

    movement = quarterly_report(user=manager, academic_year=2025, term="spring")["movement"]

    assert movement["worse"] == sum(1 for p in now if now[p] > before[p])
    assert movement["better"] == sum(1 for p in now if now[p] < before[p])
    assert movement["same"] == sum(1 for p in now if now[p] == before[p])
    assert movement["worse"] > 0 and movement["new"] == 0
    for pupil, band in now.items():
        assert movement["rows"][before[pupil]]["counts"][band - 1] >= 1


def test_the_commentary_states_the_gap_to_the_national_figure(term_city, manager):
    report = quarterly_report(user=manager, academic_year=2025, term="spring")
    secondary = next(c for c in report["ytd"]["breakdowns"][0]["cells"] if c.key == "secondary")
    gap = secondary.pa_rate - Decimal("14.8")
    assert gap > 0
    assert (f"Persistent absence in secondary schools is {gap} points above the national "
            f"figure (14.8%, 2020/21) year to date.") in report["commentary"]
    assert any(s.startswith("Since the end of last term ") for s in report["commentary"])


def test_term_summaries_refresh_is_idempotent_and_drops_withdrawn_marks(term_city):
    before = TermSummary.objects.count()
    assert term_summaries_refresh(academic_year=2025, as_of=SPRING_DAY) == before
    pupil_id = TermSummary.objects.filter(term="spring").values_list("pupil_id", flat=True)[0]
    SessionMark.objects.filter(pupil_id=pupil_id, date__gte=date(2026, 1, 1)).delete()
    assert term_summaries_refresh(academic_year=2025, as_of=SPRING_DAY) == before - 1
    assert not TermSummary.objects.filter(pupil_id=pupil_id, term="spring").exists()


def _held() -> dict:
    return {(t.pupil_id, t.term): (t.possible, t.attended, t.unauthorised)
            for t in TermSummary.objects.filter(academic_year=2025)}


def _from_marks() -> dict:
    frame = _per_pupil_terms().groupby(["pupil_id", "term"])[
        ["possible", "attended", "unauthorised"]].sum()
    return {key: tuple(int(v) for v in row) for key, row in frame.iterrows()}


def test_a_per_school_refresh_rewrites_only_that_schools_pupils(term_city):
    primary, secondary = term_city["primary"], term_city["secondary"]
    at = {school: list(SessionMark.objects.filter(school=school).order_by("pupil_id")
                       .values_list("pupil_id", flat=True).distinct())
          for school in (primary, secondary)}
    # A late register at each school: spring mornings now unauthorised for one pupil each,
    # and every spring mark of a second pupil at each school withdrawn.
    for school in (primary, secondary):
        changed, withdrawn = at[school][0], at[school][1]
        SessionMark.objects.filter(pupil_id=changed, date__gte=date(2026, 1, 1)).update(am="O")
        SessionMark.objects.filter(pupil_id=withdrawn, date__gte=date(2026, 1, 1)).delete()
    stale = _held()
    term_summaries_refresh(academic_year=2025, as_of=SPRING_DAY, school_ids=[primary.pk])
    held, expected = _held(), _from_marks()
    for (pupil_id, term), figures in stale.items():
        if pupil_id in at[primary]:  # rewritten from the marks, city-wide
            assert held.get((pupil_id, term)) == expected.get((pupil_id, term)), pupil_id
        else:  # other schools' pupils untouched, even where their marks changed
            assert held[(pupil_id, term)] == figures
    assert (at[primary][1], "spring") not in held
    assert (at[secondary][1], "spring") in held
    assert held[(at[primary][0], "spring")] != stale[(at[primary][0], "spring")]
    assert held[(at[secondary][0], "spring")] == stale[(at[secondary][0], "spring")]
    # the next city-wide refresh brings everyone up to date
    term_summaries_refresh(academic_year=2025, as_of=SPRING_DAY)
    assert _held() == expected


def test_term_summaries_stop_at_as_of(term_city):
    term_summaries_refresh(academic_year=2025, as_of=date(2025, 9, 3))  # the first day only
    assert set(TermSummary.objects.values_list("term", flat=True)) == {"autumn"}
    assert set(TermSummary.objects.values_list("possible", flat=True)) == {2}


def test_the_default_period_is_the_latest_term_begun(term_city):
    assert report_period_default(day=date(2026, 2, 1)) == (2025, "spring")
    assert report_period_default(day=date(2025, 12, 25)) == (2025, "autumn")
    assert report_period_default(day=date(2026, 4, 13)) == (2025, "summer")


def test_an_unknown_term_is_refused(term_city, manager):
    with pytest.raises(ValueError):
        quarterly_report(user=manager, academic_year=2025, term="winter")
    with pytest.raises(Http404):
        quarterly_report(user=manager, academic_year=2019, term="autumn")


# --- the page ---------------------------------------------------------------------------------

def test_a_manager_sees_the_print_ready_report(term_city, manager, client):
    client.force_login(manager)
    response = client.get(reverse("reports:quarterly"), {"academic_year": 2025, "term": "spring"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Spring term 2025/26" in html
    report = quarterly_report(user=manager, academic_year=2025, term="spring")
    assert f'data-testid="term-attendance">{report["term"]["headline"].attendance_rate}%' in html
    assert 'data-testid="movement"' in html and 'data-testid="commentary"' in html
    assert "reports/quarterly.css" in html and "app-no-print" in html
    assert "<script>" not in html and 'style="' not in html  # CSP


def test_bad_filter_values_fall_back_to_the_default_period(term_city, manager, client):
    client.force_login(manager)
    response = client.get(reverse("reports:quarterly"), {"academic_year": "x", "term": "winter"})
    assert response.status_code == 200


@pytest.mark.parametrize(("persona", "status"), [
    ("administrator", 200), ("manager", 200), ("la_officer", 200), ("school_lead", 200),
    ("social_worker", 404),
])
def test_who_may_see_the_report_and_its_download(term_city, request, client, persona, status):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    query = {"academic_year": 2025, "term": "spring"}
    assert client.get(reverse("reports:quarterly"), query).status_code == status
    assert client.get(reverse("reports:quarterly_xlsx"), query).status_code == status
    assert client.get(reverse("reports:city_xlsx"), {"academic_year": 2025}).status_code == status


def test_an_anonymous_visitor_is_sent_to_sign_in(client):
    for name in ("reports:quarterly", "reports:quarterly_xlsx", "reports:city_xlsx"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "login" in response["Location"]


def test_a_school_lead_sees_no_pupil_or_school_name(term_city, school_lead, client):
    client.force_login(school_lead)
    html = client.get(reverse("reports:quarterly"),
                      {"academic_year": 2025, "term": "spring"}).content.decode()
    from pupils.models import Pupil

    for pupil in Pupil.objects.all():
        assert pupil.upn not in html and pupil.surname not in html
    for school in term_city.values():
        assert school.name not in html


# --- XLSX -------------------------------------------------------------------------------------

def _book(response):
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml")
    return load_workbook(io.BytesIO(response.content))


def test_the_city_xlsx_has_a_sheet_per_table_with_numbers_as_numbers(term_city, manager, client):
    client.force_login(manager)
    book = _book(client.get(reverse("reports:city_xlsx"), {"academic_year": 2025}))
    assert book.sheetnames[:3] == ["All pupils", "Phase", "Locality"]
    header = [c.value for c in book["All pupils"][1]]
    row = [c.value for c in book["All pupils"][2]]
    assert row[header.index("Pupils")] == len(PUPILS)
    assert isinstance(row[header.index("Attendance %")], float)
    assert row[header.index("National overall absence %")] == 4.6
    phases = {r[0].value: r for r in book["Phase"].iter_rows(min_row=2)}
    assert phases["Special"][1].value == 1


def test_the_external_xlsx_suppresses_groups_under_five(term_city, manager, client):
    client.force_login(manager)
    book = _book(client.get(reverse("reports:city_xlsx"),
                            {"academic_year": 2025, "external": "1"}))
    header = [c.value for c in book["Phase"][1]]
    phases = {r[0].value: [c.value for c in r] for r in book["Phase"].iter_rows(min_row=2)}
    assert phases["Special"][1:14] == ["c"] * 13
    assert phases["Special"][header.index("National overall absence %")] == 15.2
    assert phases["Secondary"][1] == 5  # five pupils: shown


def test_the_xlsx_neutralises_formulas_in_text_cells(term_city, manager, client):
    locality = term_city["primary"].locality
    locality.name = "=HYPERLINK(\"http://evil\")"
    locality.save()
    client.force_login(manager)
    book = _book(client.get(reverse("reports:city_xlsx"), {"academic_year": 2025}))
    labels = [r[0].value for r in book["Locality"].iter_rows(min_row=2)]
    assert "'=HYPERLINK(\"http://evil\")" in labels
    assert all(r[0].data_type != "f" for r in book["Locality"].iter_rows(min_row=2))


def test_the_quarterly_xlsx_carries_the_report(term_city, manager, client):
    client.force_login(manager)
    query = {"academic_year": 2025, "term": "spring"}
    book = _book(client.get(reverse("reports:quarterly_xlsx"), query))
    report = quarterly_report(user=manager, academic_year=2025, term="spring")
    assert {"Headline", "Band movement", "Commentary"} <= set(book.sheetnames)
    headline = {r[0].value: [c.value for c in r] for r in book["Headline"].iter_rows(min_row=2)}
    assert headline["This term"][1] == report["term"]["headline"].pupils
    assert headline["Year to date"][3] == float(report["ytd"]["headline"].attendance_rate)
    movement = [[c.value for c in r] for r in book["Band movement"].iter_rows(min_row=2)]
    assert sum(r[-1] for r in movement) == report["movement"]["pupils"]
    assert [r[0].value for r in book["Commentary"].iter_rows(min_row=2)] == report["commentary"]


def test_the_city_dashboard_links_the_xlsx_and_the_quarterly_report(term_city, manager, client):
    client.force_login(manager)
    html = client.get(reverse("reports:city"), {"academic_year": 2025,
                                                "phase": "secondary"}).content.decode()
    assert f'href="{reverse("reports:city_xlsx")}?academic_year=2025&amp;phase=secondary"' in html
    assert f'href="{reverse("reports:quarterly")}"' in html
