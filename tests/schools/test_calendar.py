"""School days and school weeks from term dates and closure days (schools/calendar.py).

2025/26 as in tests/factories.py: autumn Wed 3 Sep – Fri 19 Dec 2025 with half term 27–31 Oct;
summer Mon 13 Apr – Wed 22 Jul 2026 with half term 25–29 May. The expected figures below are
counted by hand from a wall calendar, not computed by the code under test.
"""

from datetime import date

import pytest

from schools import calendar
from schools.models import ClosureDay
from tests.factories import academic_year_2025

pytestmark = pytest.mark.django_db

AUTUMN = {"start": date(2025, 9, 1), "end": date(2025, 12, 31)}
# Autumn 2025: Sep 20 weekdays from the 3rd, Oct 18 before half term, Nov 20, Dec 15 to the 19th.
AUTUMN_DAYS = 20 + 18 + 20 + 15
# Mondays of the autumn school weeks: 1 Sep (Wed–Fri) … 20 Oct, half term, 3 Nov … 15 Dec.
AUTUMN_WEEKS = ([date(2025, 9, d) for d in (1, 8, 15, 22, 29)]
                + [date(2025, 10, d) for d in (6, 13, 20)]
                + [date(2025, 11, d) for d in (3, 10, 17, 24)]
                + [date(2025, 12, d) for d in (1, 8, 15)])


@pytest.fixture(autouse=True)
def year(db):
    return academic_year_2025()


def test_term_dates_alone_give_weekdays_in_term_outside_half_term():
    days = calendar.school_days(**AUTUMN)
    assert len(days) == AUTUMN_DAYS
    assert (days[0], days[-1]) == (date(2025, 9, 3), date(2025, 12, 19))
    assert date(2025, 10, 28) not in days  # half term
    assert date(2025, 9, 6) not in days  # a Saturday
    assert calendar.school_weeks(**AUTUMN) == AUTUMN_WEEKS


def test_a_bank_holiday_is_no_school_day_for_any_school_but_leaves_its_week(school):
    ClosureDay.objects.create(date=date(2026, 5, 4), reason="Early May bank holiday")
    week = {"start": date(2026, 5, 4), "end": date(2026, 5, 10)}
    expected = [date(2026, 5, d) for d in (5, 6, 7, 8)]
    assert calendar.school_days(**week) == expected
    assert calendar.school_days(**week, school_id=school.pk) == expected
    assert calendar.school_weeks(**week) == [date(2026, 5, 4)]  # four days: still a week
    # Sessions from the start of summer term to Sun 10 May: three full weeks, then four days.
    assert calendar.remaining_sessions_in_term(as_of=date(2026, 4, 12)) - \
        calendar.remaining_sessions_in_term(as_of=date(2026, 5, 10)) == 2 * (5 + 5 + 5 + 4)


def test_an_inset_day_closes_only_its_own_school(school, other_school):
    ClosureDay.objects.create(date=date(2026, 4, 13), school=school, reason="INSET day")
    first_week = {"start": date(2026, 4, 13), "end": date(2026, 4, 19)}
    whole_week = [date(2026, 4, d) for d in (13, 14, 15, 16, 17)]
    assert calendar.school_days(**first_week, school_id=school.pk) == whole_week[1:]
    assert calendar.school_days(**first_week, school_id=other_school.pk) == whole_week
    assert calendar.school_days(**first_week) == whole_week  # the LA's calendar: no INSET


def test_a_week_a_school_is_closed_throughout_is_not_one_of_its_school_weeks(school,
                                                                             other_school):
    """Hilltop takes its three INSET days at the start of term, Wed 3 – Fri 5 Sep 2025, so its
    first school week is the one of 8 Sep; Riverside's is still the one of 1 Sep."""
    for day in (3, 4, 5):
        ClosureDay.objects.create(date=date(2025, 9, day), school=school, reason="INSET day")
    hilltop = calendar.school_days(**AUTUMN, school_id=school.pk)
    assert len(hilltop) == AUTUMN_DAYS - 3 and hilltop[0] == date(2025, 9, 8)
    assert calendar.school_weeks(**AUTUMN, school_id=school.pk) == AUTUMN_WEEKS[1:]
    assert calendar.school_weeks(**AUTUMN, school_id=other_school.pk) == AUTUMN_WEEKS
    assert calendar.school_weeks(**AUTUMN) == AUTUMN_WEEKS


def test_a_week_every_school_is_closed_is_no_school_week_at_all(school):
    """An LA-wide closure Monday to Friday (say, snow) takes the week out of every calendar,
    so a 10-school-week window reaches one week further back."""
    for day in (8, 9, 10, 11, 12):
        ClosureDay.objects.create(date=date(2025, 12, day), reason="Snow: all schools closed")
    assert calendar.school_days(start=date(2025, 12, 8), end=date(2025, 12, 14)) == []
    weeks = [w for w in AUTUMN_WEEKS if w != date(2025, 12, 8)]
    assert calendar.school_weeks(**AUTUMN) == weeks
    assert calendar.school_weeks(**AUTUMN, school_id=school.pk) == weeks
    assert len(calendar.school_days(**AUTUMN)) == AUTUMN_DAYS - 5
    # The last four school weeks up to Fri 19 Dec: 15 Dec, 1 Dec, 24 Nov, 17 Nov.
    assert calendar.recent_window_start(as_of=date(2025, 12, 19)) == date(2025, 11, 17)
