"""seed_demo: a small deterministic city with the right shape, users for every role."""

from collections import Counter
from datetime import date

import pytest
from django.core.management import call_command
from stdnum.gb import upn as upn_checker

from accounts.models import User
from pupils import demo
from pupils.models import Characteristics, Enrolment, Pupil, SocialWorkerAllocation
from schools.models import AcademicYear, ClosureDay, School

PHASES = {"all_through": 1, "nursery": 2, "infant": 3, "junior": 2, "primary": 64,
          "secondary": 18, "special": 7, "ap": 1}
PRIMARY_YEARS = {"R", "1", "2", "3", "4", "5", "6"}


@pytest.fixture
def city(db):
    call_command("seed_demo", "--pupils", "600", "--seed", "7", "--no-marks")


def test_it_builds_the_same_city_from_the_same_seed(db):
    demo.demo_city_generate(pupils=600, seed=7)
    first = sorted(Pupil.objects.values_list("upn", "surname", "date_of_birth"))
    schools = sorted(School.objects.values_list("urn", "name"))

    call_command("seed_demo", "--pupils", "600", "--seed", "7", "--reset", "--no-marks")

    assert sorted(Pupil.objects.values_list("upn", "surname", "date_of_birth")) == first
    assert sorted(School.objects.values_list("urn", "name")) == schools
    demo.demo_city_reset()
    demo.demo_city_generate(pupils=600, seed=8)
    assert sorted(Pupil.objects.values_list("upn", flat=True)) != [u for u, _, _ in first]


def test_it_has_plymouths_phase_mix_and_valid_upns(city):
    assert Counter(School.objects.values_list("phase", flat=True)) == PHASES
    assert School.objects.filter(la_code="879").count() == 98
    assert Pupil.objects.count() == 600
    assert all(upn_checker.is_valid(u) for u in Pupil.objects.values_list("upn", flat=True))


def test_it_enrols_every_pupil_in_a_year_group_that_fits_the_phase(city):
    assert not Pupil.objects.filter(enrolments__isnull=True).exists()
    assert Characteristics.objects.filter(effective_date=demo.CENSUS_DAY).count() == 600
    pairs = Enrolment.objects.exclude(registration="M").filter(end_date__isnull=True).filter(
        pupil__characteristics__effective_date=demo.CENSUS_DAY).values_list(
        "school__phase", "pupil__characteristics__year_group")
    assert len(pairs) == Enrolment.objects.exclude(registration="M").filter(
        end_date__isnull=True).count()
    for phase, year in pairs:
        if phase in ("primary", "infant", "junior"):
            assert year in PRIMARY_YEARS
        elif phase in ("secondary", "ap"):
            assert year in {"7", "8", "9", "10", "11", "12", "13"}
        elif phase == "nursery":
            assert year in {"N1", "N2"}


def test_it_dual_registers_a_few_ap_pupils_with_a_secondary(city):
    subsidiary = Enrolment.objects.filter(registration="S")
    assert subsidiary.exists() and all(e.school.phase == "ap" for e in subsidiary)
    for enrolment in subsidiary:
        main = Enrolment.objects.get(pupil=enrolment.pupil, registration="M")
        assert main.school.phase == "secondary"


def test_it_creates_users_for_every_role_with_the_printed_password(city):
    admin = User.objects.get(email="admin@demo.test")
    assert admin.check_password(demo.DEFAULT_PASSWORD)
    assert admin.is_administrator and admin.is_superuser and admin.is_staff
    assert User.objects.get(email="manager@demo.test").is_manager
    assert User.objects.filter(is_la_officer=True).count() == 8
    assert User.objects.filter(is_social_worker=True).count() == 10
    leads = User.objects.filter(is_school_lead=True)
    assert leads.count() == 98 and not leads.filter(school__isnull=True).exists()
    assert set(leads.values_list("school", flat=True)) == set(School.objects.values_list(
        "id", flat=True))


def test_it_links_officer_and_lead_to_the_first_secondary(city):
    officer = User.objects.get(email="officer@demo.test")
    lead = User.objects.get(email="lead@demo.test")
    assert lead.school.phase == "secondary" and lead.school.link_officer == officer
    assert officer.linked_schools.count() > 3
    assert not School.objects.filter(link_officer__isnull=True).exists()


def test_it_allocates_every_cin_cp_and_cla_pupil_to_a_social_worker(city):
    flagged = set(Characteristics.objects.filter(cin=True).values_list("pupil", flat=True)) | set(
        Characteristics.objects.filter(cp=True).values_list("pupil", flat=True)) | set(
        Characteristics.objects.filter(cla=True).values_list("pupil", flat=True))
    allocated = set(SocialWorkerAllocation.objects.values_list("pupil", flat=True))
    assert allocated == flagged
    assert User.objects.get(email="socialworker@demo.test").is_social_worker


def test_it_creates_academic_years_with_terms_and_bank_holidays(city):
    years = AcademicYear.objects.order_by("start_year")
    assert [y.start_year for y in years] == [2024, 2025, 2026]
    assert all(y.terms.count() == 3 for y in years)
    assert ClosureDay.objects.filter(school=None, reason="Early May bank holiday").count() == 3


def test_it_sets_the_demo_in_the_academic_year_of_today():
    from datetime import date

    from pupils import demo

    assert demo.CURRENT_YEAR == min(AcademicYear.start_year_for(date.today()), 2026)
    assert demo.PREVIOUS_YEAR == demo.CURRENT_YEAR - 1


def test_it_does_nothing_when_the_city_exists(city, capsys):
    call_command("seed_demo", "--pupils", "50", "--no-marks")

    assert "already exists" in capsys.readouterr().out
    assert Pupil.objects.count() == 600


def test_it_prints_the_demo_sign_ins(db, capsys):
    call_command("seed_demo", "--pupils", "200", "--password", "another-long-password",
                 "--no-marks")

    out = capsys.readouterr().out
    for email in ("admin@demo.test", "manager@demo.test", "officer@demo.test",
                  "lead@demo.test", "socialworker@demo.test", "another-long-password"):
        assert email in out


def test_it_hits_the_seeds_rates_at_moderate_size(db):
    demo.demo_city_generate(pupils=8000, seed=2026)
    snapshots = Characteristics.objects.filter(effective_date=demo.CENSUS_DAY)
    n = snapshots.count()

    def share(**kw):
        return snapshots.filter(**kw).count() / n

    assert 0.24 < share(fsm=True) < 0.30
    assert 0.12 < share(sen="K") < 0.16
    assert 0.03 < share(sen="E") < 0.05
    assert 0.05 < share(eal=True) < 0.07
    assert 0.83 < share(ethnicity="WBRI") < 0.88
    assert 0.45 < Pupil.objects.filter(sex="F").count() / n < 0.55


def test_it_calls_the_marks_generator_when_attendance_provides_one(db, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(demo, "demo_marks_generator",
                        lambda: lambda **kw: calls.append(kw) or 42)

    call_command("seed_demo", "--pupils", "100", "--seed", "3")

    last_year, this_year = calls
    assert last_year["academic_year"].start_year == demo.PREVIOUS_YEAR
    assert this_year["academic_year"].start_year == demo.CURRENT_YEAR
    assert {last_year["seed"], this_year["seed"]} == {3 + demo.PREVIOUS_YEAR,
                                                     3 + demo.CURRENT_YEAR}
    assert this_year["school_ids"] is None
    assert "Session marks for" in capsys.readouterr().out


def test_this_years_year_7_were_last_years_year_6_at_a_city_primary(city):
    """The Y6→Y7 transition cohort: last year's enrolment at a primary, ended before this year,
    and last year's census snapshot in Year 6."""
    year_start = date(demo.CURRENT_YEAR, 9, 1)
    # Ids as lists, not nested subqueries: on tables filled in this transaction (no
    # statistics) PostgreSQL planned the nested version into minutes.
    year7 = list(Enrolment.objects.filter(
        school__phase="secondary", end_date__isnull=True,
        pupil__characteristics__effective_date=demo.CENSUS_DAY,
        pupil__characteristics__year_group="7").values_list("pupil", flat=True))
    assert len(year7) > 20
    left = Enrolment.objects.filter(pupil__in=year7, end_date__isnull=False)
    assert left.count() >= 0.85 * len(year7)  # all but those who moved into the city
    assert {e.school.phase for e in left} <= {"primary", "junior"}
    assert all(e.end_date == demo.PREVIOUS_YEAR_END < year_start and e.start_date < e.end_date
               for e in left)
    before = Characteristics.objects.filter(pupil__in=list(left.values_list("pupil", flat=True)),
                                            effective_date=demo.PREVIOUS_CENSUS_DAY)
    assert set(before.values_list("year_group", flat=True)) == {"6"}
    assert before.count() == left.count()
    # Pupils already in the city last year have last year's snapshot, a year group lower.
    year8 = Characteristics.objects.filter(effective_date=demo.CENSUS_DAY, year_group="8")
    earlier = Characteristics.objects.filter(
        pupil__in=list(year8.values_list("pupil", flat=True)),
        effective_date=demo.PREVIOUS_CENSUS_DAY)
    assert set(earlier.values_list("year_group", flat=True)) == {"7"}
    # Nobody new to school this year (Reception at a primary) has a snapshot last year.
    reception = list(Characteristics.objects.filter(
        effective_date=demo.CENSUS_DAY, year_group="R",
        pupil__enrolments__school__phase="primary").values_list("pupil", flat=True))
    assert not Characteristics.objects.filter(pupil__in=reception,
                                              effective_date=demo.PREVIOUS_CENSUS_DAY).exists()


@pytest.mark.django_db(transaction=False)
def test_the_demo_has_a_transition_cohort_with_marks_last_year(db):
    """With marks for both years and the nightly classification, the Y6→Y7 dashboard has
    pupils with a rate last year (at their primary) and this year (at their secondary)."""
    from attendance.models import PupilSummary
    from reports.cohorts import cohort_dashboard

    call_command("seed_demo", "--pupils", "400", "--seed", "5")
    manager = User.objects.get(email="manager@demo.test")
    dashboard = cohort_dashboard(user=manager, slug="transition",
                                 academic_year=demo.CURRENT_YEAR)
    transition = dashboard["transition"]
    assert transition["before"].pupils == transition["after"].pupils > 0
    assert transition["before"].possible > 0 and transition["after"].possible > 0
    # Mostly from primaries; the rest were in Year 6 at an all-through or special school.
    primaries = set(School.objects.filter(phase__in=["primary", "junior"]).values_list(
        "name", flat=True))
    from_primary = sum(r["after"].pupils for r in transition["by_from"] if r["label"] in primaries)
    assert from_primary >= 0.8 * transition["after"].pupils
    assert {r["label"] for r in transition["by_to"]}.isdisjoint(primaries)
    assert PupilSummary.objects.filter(academic_year=demo.PREVIOUS_YEAR, school__phase="primary",
                                       pupil__enrolments__school__phase="secondary").exists()
