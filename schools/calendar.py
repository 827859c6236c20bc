"""The LA's school calendar: school days and school weeks from terms, half terms and closures.

A school day is a weekday inside a term, outside its half term, and not an LA-wide closure day
(bank holiday). A school week is any Monday-to-Sunday week with at least one school day
(National Framework). A school's own INSET days are removed where a school is given.
"""

from datetime import date, timedelta

from django.db.models import Q

from schools.models import ClosureDay, Term


def school_days(*, start: date, end: date, school_id: int | None = None) -> list[date]:
    terms = Term.objects.filter(start_date__lte=end, end_date__gte=start)
    closures = set(
        ClosureDay.objects.filter(date__range=(start, end))
        .filter(Q(school__isnull=True) | Q(school_id=school_id))
        .values_list("date", flat=True)
    )
    days = []
    for term in terms:
        for day in term.school_days():
            if start <= day <= end and day not in closures:
                days.append(day)
    return sorted(set(days))


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def school_weeks(*, start: date, end: date, school_id: int | None = None) -> list[date]:
    """Mondays of the school weeks between start and end (of that school's, where given: a week
    it is closed for throughout is not one of its school weeks)."""
    return sorted({week_start(day) for day in school_days(start=start, end=end,
                                                          school_id=school_id)})


def recent_window_start(*, as_of: date, weeks: int = 4) -> date:
    """The first day of the last ``weeks`` school weeks up to and including as_of."""
    mondays = school_weeks(start=as_of - timedelta(days=400), end=as_of)
    if not mondays:
        return as_of
    return mondays[-weeks] if len(mondays) >= weeks else mondays[0]


def school_days_before(*, as_of: date, count: int) -> date | None:
    """The school day ``count`` school days before as_of (as_of itself not counted)."""
    days = [d for d in school_days(start=as_of - timedelta(days=120), end=as_of) if d < as_of]
    return days[-count] if len(days) >= count else None


def remaining_sessions_in_term(*, as_of: date) -> int:
    """Sessions left in the term containing as_of (or the next term, in a holiday)."""
    term = (
        Term.objects.filter(end_date__gte=as_of).order_by("start_date").first()
    )
    if term is None:
        return 0
    start = max(as_of + timedelta(days=1), term.start_date)
    return 2 * len(school_days(start=start, end=term.end_date))
