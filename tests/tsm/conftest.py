"""TSM fixtures: terms placed around today (the booking rules compare with the real clock),
an open round, and a meeting at each step of booking."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from schools.models import AcademicYear, Term
from tsm import services

LONDON = ZoneInfo("Europe/London")


def _year(start_year: int) -> AcademicYear:
    year, _ = AcademicYear.objects.get_or_create(
        start_year=start_year,
        defaults={"start_date": date(start_year, 9, 1), "end_date": date(start_year + 1, 8, 31)},
    )
    return year


@pytest.fixture
def terms(db):
    """last (ended 50 days ago), now (around today), next (starts in 40 days)."""
    today = timezone.localdate()
    this_year = _year(AcademicYear.start_year_for(today))
    last_year = _year(this_year.start_year - 1)
    now_start = max(today - timedelta(days=35), this_year.start_date)
    return {
        "last": Term.objects.create(academic_year=last_year, name="summer",
                                    start_date=today - timedelta(days=150),
                                    end_date=today - timedelta(days=50)),
        "now": Term.objects.create(academic_year=this_year, name="autumn", start_date=now_start,
                                   end_date=today + timedelta(days=25)),
        "next": Term.objects.create(academic_year=this_year, name="spring",
                                    start_date=today + timedelta(days=40),
                                    end_date=today + timedelta(days=100)),
    }


def at(day: date, hour: int = 14) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=LONDON)


def soon(days: int = 7) -> datetime:
    return at(timezone.localdate() + timedelta(days=days))


@pytest.fixture
def tsm_round(terms, manager, school, la_officer):
    tsm_round, _, _ = services.tsm_round_open(term=terms["now"], theme="Severe absence",
                                              user=manager)
    return tsm_round


@pytest.fixture
def meeting(tsm_round, school):
    return tsm_round.meetings.get(school=school)


@pytest.fixture
def proposed(meeting, la_officer):
    return services.meeting_propose(meeting=meeting, start=soon(), user=la_officer,
                                    location="School office")


@pytest.fixture
def confirmed(proposed, school_lead):
    return services.meeting_confirm(meeting=proposed, user=school_lead)


@pytest.fixture
def held(confirmed, la_officer):
    return services.meeting_hold(meeting=confirmed, user=la_officer)


@pytest.fixture(autouse=True)
def _empty_cache():
    """The pack is cached per classification run: every test starts with nothing cached."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
