"""Writing session marks on given dates for casework tests."""

from datetime import date, timedelta

from attendance.models import SessionMark
from schools.calendar import school_days


def mark_days(pupil, school, days, am="/", pm="/"):
    SessionMark.objects.bulk_create(
        [SessionMark(pupil=pupil, school=school, date=day, am=am, pm=pm) for day in days]
    )


def week_days(monday: date) -> list[date]:
    """The school days of the week starting ``monday``."""
    return school_days(start=monday, end=monday + timedelta(days=6))
