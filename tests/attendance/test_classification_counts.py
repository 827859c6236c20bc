"""MarkCount, WeeklyAttendance and MarkSpan stay equal to a recount of the marks, whoever writes
them (triggers, migrations 0006 and 0011): bulk_create, queryset update and delete, the
importer's COPY + upsert, TRUNCATE."""

from collections import Counter
from datetime import date, timedelta

import numpy as np
import pytest
from django.db import connection, transaction

from attendance.classification import mark_counts_rebuild
from attendance.importers.formats import EPOCH_ORDINAL
from attendance.importers.validate import CodeTable
from attendance.loading import marks_load
from attendance.models import (
    AttendanceCode,
    MarkCount,
    MarkSpan,
    SessionMark,
    WeeklyAttendance,
)
from schools.models import AcademicYear
from tests.factories import PupilFactory

pytestmark = pytest.mark.django_db


def recount() -> tuple[Counter, dict, dict]:
    """Counted in Python from the marks: sessions per (academic year, pupil, school, code),
    (possible, attended, authorised, unauthorised) per (pupil, school, academic year, Monday),
    and the first and last marked day per (pupil, school, academic year)."""
    flags = {c.code: c for c in AttendanceCode.objects.all()}
    codes, weeks, spans = Counter(), {}, {}
    for m in SessionMark.objects.all():
        year = AcademicYear.start_year_for(m.date)
        first, last = spans.get((m.pupil_id, m.school_id, year), (m.date, m.date))
        spans[(m.pupil_id, m.school_id, year)] = (min(first, m.date), max(last, m.date))
        key = (m.pupil_id, m.school_id, year, m.date - timedelta(days=m.date.weekday()))
        week = weeks.setdefault(key, [0, 0, 0, 0])
        for code in (m.am, m.pm):
            if code:
                codes[(year, m.pupil_id, m.school_id, code)] += 1
                c = flags[code]
                week[0] += c.counts_as_possible
                week[1] += c.counts_as_attended
                week[2] += c.category == "authorised"
                week[3] += c.category == "unauthorised"
    return codes, {k: tuple(v) for k, v in weeks.items()}, spans


def held() -> tuple[Counter, dict, dict]:
    rows = MarkCount.objects.values_list("academic_year", "pupil_id", "school_id", "code",
                                         "sessions")
    assert all(r[-1] > 0 for r in rows), "a code with no sessions left must be removed"
    weeks = WeeklyAttendance.objects.values_list(
        "pupil_id", "school_id", "academic_year", "week_start", "possible", "attended",
        "authorised", "unauthorised")
    spans = MarkSpan.objects.values_list("pupil_id", "school_id", "academic_year",
                                         "first_marked", "last_marked")
    return (Counter({r[:-1]: r[-1] for r in rows}), {r[:4]: tuple(r[4:]) for r in weeks},
            {r[:3]: r[3:] for r in spans})


def marks(pupil, school, start, codes):
    """One row a day from ``start`` (weekends included: the counts do not care)."""
    return [SessionMark(pupil=pupil, school=school, date=start + timedelta(days=i), am=am, pm=pm)
            for i, (am, pm) in enumerate(codes)]


def test_it_counts_bulk_created_marks_per_year_code_and_week(school, pupil):
    # 27 Aug to 9 Sep 2026: the week of Monday 31 August straddles two academic years.
    SessionMark.objects.bulk_create(marks(pupil, school, date(2026, 8, 27),
                                          [("/", "\\")] * 10 + [("I", None), (None, "N")] * 2))
    assert held() == recount()
    straddling = dict(WeeklyAttendance.objects.filter(week_start=date(2026, 8, 31))
                      .values_list("academic_year", "attended"))
    assert straddling == {2025: 2, 2026: 10}  # Monday 31 August; Tuesday 1 to Saturday 5 Sept
    assert MarkCount.objects.get(academic_year=2026, code="/").sessions == 5
    assert MarkCount.objects.get(code="N").sessions == 2


def test_it_keeps_a_week_of_marks_that_are_not_possible_sessions(school, pupil):
    SessionMark.objects.bulk_create(marks(pupil, school, date(2025, 9, 1), [("X", "X")] * 2))
    assert list(WeeklyAttendance.objects.values_list("possible", "attended")) == [(0, 0)]
    SessionMark.objects.filter(date=date(2025, 9, 1)).delete()
    assert WeeklyAttendance.objects.count() == 1  # Tuesday's X marks are still held
    SessionMark.objects.all().delete()
    assert not WeeklyAttendance.objects.exists() and not MarkCount.objects.exists()


def test_it_follows_updates_and_deletes(school, other_school, pupil):
    other = PupilFactory()
    SessionMark.objects.bulk_create(marks(pupil, school, date(2025, 9, 1), [("/", "\\")] * 12)
                                    + marks(other, other_school, date(2025, 9, 1),
                                            [("/", "O")] * 12))
    SessionMark.objects.filter(pupil=pupil, date__lte=date(2025, 9, 3)).update(am="I")
    SessionMark.objects.filter(pupil=other, date=date(2025, 9, 9)).update(pm=None)
    SessionMark.objects.filter(pupil=other, date=date(2025, 9, 10)).update(
        school=school, date=date(2025, 12, 1))  # a key column changes too
    assert held() == recount()
    SessionMark.objects.filter(pupil=pupil, date__gte=date(2025, 9, 8)).delete()
    assert held() == recount()
    assert not WeeklyAttendance.objects.filter(pupil=pupil, week_start=date(2025, 9, 8)).exists()
    SessionMark.objects.filter(pupil=pupil).update(am="/")  # I → / again: I rows go
    assert not MarkCount.objects.filter(pupil=pupil, code="I").exists()
    assert held() == recount()


def _load(pupil_ids, school_id, days, am, pm):
    codes = CodeTable.load().codes
    index = {c: i for i, c in enumerate(codes) if c}
    with transaction.atomic():
        return marks_load(
            pupil_id=np.array(pupil_ids, dtype=np.int64),
            school_id=np.full(len(pupil_ids), school_id, dtype=np.int64),
            day=np.array([d.toordinal() - EPOCH_ORDINAL for d in days], dtype=np.int32),
            am=np.array([index.get(c, 0) for c in am], dtype=np.uint8),
            pm=np.array([index.get(c, 0) for c in pm], dtype=np.uint8), codes=codes)


def test_it_follows_the_importers_copy_and_upsert(school, pupil):
    other = PupilFactory()
    days = [date(2025, 9, 1) + timedelta(days=i) for i in range(5)]
    # A first import (plain INSERT), then a re-import that changes, adds and leaves blanks.
    _load([pupil.id] * 5 + [other.id] * 5, school.id, days * 2, ["/"] * 10, ["\\"] * 10)
    assert held() == recount()
    more = days + [date(2025, 9, 8)]
    counts = _load([pupil.id] * 6, school.id, more, ["/", "I", "", "/", "O", "/"],
                   ["\\", "I", "N", "", "O", "\\"])
    assert counts.inserted == 2 and counts.updated == 5
    assert held() == recount()
    assert MarkCount.objects.get(pupil=pupil, code="I").sessions == 2


def test_it_empties_with_a_truncate_and_rebuilds_from_the_marks(school, pupil):
    SessionMark.objects.bulk_create(marks(pupil, school, date(2025, 9, 1), [("/", "L")] * 3))
    with connection.cursor() as cursor:
        cursor.execute("UPDATE attendance_markcount SET sessions = sessions + 7")
        cursor.execute("DELETE FROM attendance_weeklyattendance")
        cursor.execute("UPDATE attendance_markspan SET first_marked = last_marked")
    assert held()[2] != recount()[2]
    mark_counts_rebuild()
    assert held() == recount()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE pupils_pupil CASCADE")  # marks go by the cascade
    assert not SessionMark.objects.exists() and not MarkCount.objects.exists()
    assert not WeeklyAttendance.objects.exists() and not MarkSpan.objects.exists()


def test_a_span_narrows_when_its_first_or_last_day_goes(school, other_school, pupil):
    """The first and last marked day: an insert widens the span; taking away the first or the
    last day (a delete, or an update that moves the mark) looks the new one up; a day in
    between changes nothing; no mark left, no span."""
    SessionMark.objects.bulk_create(marks(pupil, school, date(2025, 9, 1), [("/", "/")] * 10))

    def span(at=school, year=2025):
        return MarkSpan.objects.filter(pupil=pupil, school=at, academic_year=year).values_list(
            "first_marked", "last_marked").first()

    assert span() == (date(2025, 9, 1), date(2025, 9, 10))
    SessionMark.objects.filter(date=date(2025, 9, 5)).delete()  # in between
    assert span() == (date(2025, 9, 1), date(2025, 9, 10))
    SessionMark.objects.filter(date__in=[date(2025, 9, 1), date(2025, 9, 2)]).delete()
    assert span() == (date(2025, 9, 3), date(2025, 9, 10))
    # The last day moves to another school, and into the next academic year.
    SessionMark.objects.filter(date=date(2025, 9, 10)).update(school=other_school)
    SessionMark.objects.filter(date=date(2025, 9, 9)).update(date=date(2026, 9, 9))
    assert span() == (date(2025, 9, 3), date(2025, 9, 8))
    assert span(other_school) == (date(2025, 9, 10), date(2025, 9, 10))
    assert span(year=2026) == (date(2026, 9, 9), date(2026, 9, 9))
    # Codes changed in place keep the span.
    SessionMark.objects.filter(school=school).update(am="N")
    assert span() == (date(2025, 9, 3), date(2025, 9, 8))
    SessionMark.objects.bulk_create(marks(pupil, school, date(2025, 8, 30), [("/", "/")]))
    assert span() == (date(2025, 9, 3), date(2025, 9, 8))
    assert span(year=2024) == (date(2025, 8, 30), date(2025, 8, 30))  # 30 August: 2024/25
    SessionMark.objects.filter(school=other_school).delete()
    assert span(other_school) is None
    assert held() == recount()
