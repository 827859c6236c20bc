"""The nightly reclassification: summaries, bands, history and alerts on real PostgreSQL."""

from datetime import date

import pytest
from django.db import connection

from alerts.models import Alert, Rule
from attendance.bands import Band, band_for
from attendance.classification import (
    LOCK_KEY,
    ReclassificationBusy,
    pupils_reclassify,
)
from attendance.models import (
    BandHistory,
    PupilSummary,
    SessionMark,
    SummaryRecord,
    WeeklyAttendance,
)
from schools.calendar import recent_window_start, remaining_sessions_in_term, school_days
from tests.factories import (
    AllocationFactory,
    EnrolmentFactory,
    PupilFactory,
    SchoolFactory,
    academic_year_2025,
)

pytestmark = pytest.mark.django_db

START = date(2025, 9, 3)


@pytest.fixture(autouse=True)
def _year(db):
    academic_year_2025()


def write_marks(pupil, school, codes, start=START):
    """Give the pupil one code per session, AM then PM, over school days from ``start``."""
    days = school_days(start=start, end=date(2026, 7, 22))
    rows = []
    for i in range(0, len(codes), 2):
        am, pm = codes[i], codes[i + 1] if i + 1 < len(codes) else None
        rows.append(SessionMark(pupil=pupil, school=school, date=days[i // 2], am=am, pm=pm))
    SessionMark.objects.bulk_create(rows)
    return days[(len(codes) - 1) // 2]


def city(pupil):
    return PupilSummary.objects.get(pupil=pupil, school=None)


@pytest.mark.parametrize(
    ("present", "absent", "band"),
    [(19, 1, Band.EXPECTED), (18, 2, Band.PERSISTENT_ABSENCE), (16, 4, Band.PERSISTENT_ABSENCE),
     (15, 5, Band.AT_RISK_OF_SA), (10, 10, Band.SEVERE_ABSENCE), (11, 9, Band.AT_RISK_OF_SA),
     (37, 3, Band.AT_RISK_OF_PA)],
)
def test_it_bands_each_pupil_on_exact_session_counts(school, pupil, present, absent, band):
    last = write_marks(pupil, school, ["/"] * present + ["I"] * absent)
    pupils_reclassify(as_of=last)
    summary = city(pupil)
    assert (summary.attended, summary.possible, summary.band) == (present, present + absent, band)


def test_it_ignores_sessions_that_are_not_possible(school, pupil):
    last = write_marks(pupil, school, ["/"] * 18 + ["I", "I"] + ["D", "X", "Y1", "Z", "#", "Q"])
    pupils_reclassify(as_of=last)
    summary = city(pupil)
    assert (summary.possible, summary.attended, summary.band) == (20, 18, Band.PERSISTENT_ABSENCE)
    assert summary.code_counts == {"/": 18, "I": 2, "D": 1, "X": 1, "Y1": 1, "Z": 1, "#": 1,
                                   "Q": 1}


def test_it_counts_authorised_and_unauthorised_apart(school, pupil):
    last = write_marks(pupil, school, ["/"] * 10 + ["M", "C2", "G", "N", "O", "U"])
    pupils_reclassify(as_of=last)
    summary = city(pupil)
    assert (summary.authorised, summary.unauthorised) == (2, 4)


def test_it_combines_a_dual_registered_pupils_schools(school, other_school, pupil):
    EnrolmentFactory(pupil=pupil, school=other_school, registration="S")
    write_marks(pupil, school, ["/", "/", "D", "D"] * 5)
    last = write_marks(pupil, other_school, ["D", "D", "/", "I"] * 5)
    pupils_reclassify(as_of=last)
    at_main = PupilSummary.objects.get(pupil=pupil, school=school)
    at_ap = PupilSummary.objects.get(pupil=pupil, school=other_school)
    assert (at_main.possible, at_main.attended) == (10, 10)
    assert (at_ap.possible, at_ap.attended) == (10, 5)
    assert (city(pupil).possible, city(pupil).attended) == (20, 15)


def test_it_gives_no_band_without_possible_sessions(school, pupil):
    last = write_marks(pupil, school, ["Z", "Z", "X", "X"])
    pupils_reclassify(as_of=last)
    assert city(pupil).band is None
    assert not BandHistory.objects.filter(pupil=pupil).exists()


def test_it_uses_summary_rows_where_a_school_sends_no_marks(school, pupil):
    SummaryRecord.objects.create(pupil=pupil, school=school, date_from=START,
                                 date_to=date(2025, 10, 17), possible=60, attended=50,
                                 authorised=6, unauthorised=4)
    pupils_reclassify(as_of=date(2025, 10, 20))
    summary = city(pupil)
    assert (summary.possible, summary.attended, summary.from_summary_rows) == (60, 50, True)
    assert summary.band == Band.PERSISTENT_ABSENCE  # 83.3%


def test_it_changes_nothing_when_run_twice(school, pupil):
    last = write_marks(pupil, school, ["/"] * 16 + ["I"] * 4)
    first = pupils_reclassify(as_of=last)
    snapshot = list(PupilSummary.objects.values())
    second = pupils_reclassify(as_of=last)
    assert first.changed == 1 and second.changed == 0 and second.alerts_raised == 0
    assert list(PupilSummary.objects.values()) == snapshot
    assert BandHistory.objects.count() == 1


def test_it_records_band_history_and_alerts_the_social_worker(school, pupil, social_worker,
                                                              other_pupil):
    AllocationFactory(pupil=pupil, social_worker=social_worker)
    good = write_marks(pupil, school, ["/"] * 40)
    pupils_reclassify(as_of=good)
    assert not Alert.objects.exists()
    days = school_days(start=good, end=date(2026, 7, 22))
    SessionMark.objects.bulk_create(
        [SessionMark(pupil=pupil, school=school, date=d, am="I", pm="/") for d in days[1:9]]
    )
    result = pupils_reclassify(as_of=days[8])
    history = BandHistory.objects.filter(pupil=pupil).order_by("changed_on")
    assert [(h.from_band, h.to_band) for h in history] == [(None, 1), (1, 3)]
    alert = Alert.objects.get()
    assert (alert.recipient, alert.pupil, alert.rule) == (social_worker, pupil, Rule.ENTERED_PA)
    assert alert.evidence["possible sessions"] == 56 and alert.evidence["sessions attended"] == 48
    assert result.alerts_raised == 1
    pupils_reclassify(as_of=days[8])
    assert Alert.objects.count() == 1


def test_it_does_not_alert_for_a_pupil_off_the_caseload(school, pupil, social_worker):
    good = write_marks(pupil, school, ["/"] * 40)
    pupils_reclassify(as_of=good)
    days = school_days(start=good, end=date(2026, 7, 22))
    SessionMark.objects.bulk_create(
        [SessionMark(pupil=pupil, school=school, date=d, am="I", pm="I") for d in days[1:9]]
    )
    pupils_reclassify(as_of=days[8])
    assert not Alert.objects.filter(rule__in=[Rule.ENTERED_PA, Rule.ENTERED_SA,
                                              Rule.WORSE_BAND]).exists()


@pytest.mark.parametrize(("run", "alerted"), [(5, False), (6, True)])
def test_it_alerts_on_consecutive_unexplained_absences(school, pupil, social_worker, run,
                                                       alerted):
    AllocationFactory(pupil=pupil, social_worker=social_worker)
    # Non-possible sessions (#) inside the run do not break it; a present mark would.
    last = write_marks(pupil, school, ["/"] * 4 + ["N"] * (run - 1) + ["#", "O"] + ["/"])
    pupils_reclassify(as_of=last)
    alerts = Alert.objects.filter(rule=Rule.UNEXPLAINED_RUN)
    assert alerts.exists() is alerted
    if alerted:
        assert alerts.get().evidence["sessions in a row"] == 6


def test_it_flags_stale_n_codes_to_the_school_lead(school, pupil, school_lead):
    write_marks(pupil, school, ["/", "N"] + ["/"] * 30)
    last = date(2025, 9, 25)
    pupils_reclassify(as_of=last)
    alert = Alert.objects.get(rule=Rule.STALE_N)
    assert alert.recipient == school_lead and alert.school == school


def test_it_does_not_flag_an_n_from_yesterday(school, pupil, school_lead):
    last = write_marks(pupil, school, ["/"] * 30 + ["/", "N"])
    pupils_reclassify(as_of=last)
    assert not Alert.objects.filter(rule=Rule.STALE_N).exists()


def test_it_tells_the_link_officer_when_a_school_goes_silent(school, pupil, la_officer):
    write_marks(pupil, school, ["/"] * 10)  # five days from 3 September
    quiet = SchoolFactory(link_officer=la_officer)
    EnrolmentFactory(pupil=PupilFactory(), school=quiet)
    pupils_reclassify(as_of=date(2025, 9, 12))
    assert not Alert.objects.filter(rule=Rule.SCHOOL_SILENT, school=school).exists()
    assert Alert.objects.filter(rule=Rule.SCHOOL_SILENT, school=quiet,
                                recipient=la_officer).exists()
    pupils_reclassify(as_of=date(2025, 9, 19))
    assert Alert.objects.get(rule=Rule.SCHOOL_SILENT, school=school).recipient == la_officer


def test_it_refuses_to_overlap_another_run(school, pupil):
    from django.db import connections

    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
            with pytest.raises(ReclassificationBusy):
                pupils_reclassify(as_of=date(2025, 9, 10))
            cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
    finally:
        other.close()


def test_it_leaves_the_previous_state_when_a_run_crashes(school, pupil, monkeypatch):
    last = write_marks(pupil, school, ["/"] * 20)
    pupils_reclassify(as_of=last)
    before = list(PupilSummary.objects.values())
    SessionMark.objects.filter(pupil=pupil).update(am="I")

    def crash(*args, **kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr("attendance.classification._raise_alerts", crash)
    with pytest.raises(RuntimeError):
        pupils_reclassify(as_of=last)
    assert list(PupilSummary.objects.values()) == before
    assert BandHistory.objects.count() == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY])
        assert cursor.fetchone()[0]
        cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])


def test_it_projects_the_band_at_the_end_of_term(school, pupil):
    # A good start, then nothing for the last four school weeks: the projection warns first.
    days = school_days(start=START, end=date(2025, 12, 19))
    rows = [SessionMark(pupil=pupil, school=school, date=d, am="/", pm="/") for d in days[:28]]
    rows += [SessionMark(pupil=pupil, school=school, date=d, am="I", pm="I") for d in days[28:45]]
    SessionMark.objects.bulk_create(rows)
    as_of = days[44]
    pupils_reclassify(as_of=as_of)
    summary = city(pupil)
    assert (summary.attended, summary.possible) == (56, 90)
    assert summary.band == Band.AT_RISK_OF_SA  # 62.2%
    recent_days = [d for d in days[:45] if d >= recent_window_start(as_of=as_of)]
    assert recent_days == days[28:45]  # three full school weeks and this one, to Wednesday
    assert (summary.recent_attended, summary.recent_possible) == (0, 34)
    assert summary.recent_band == Band.SEVERE_ABSENCE
    left = remaining_sessions_in_term(as_of=as_of)
    assert left == 2 * len(days[45:])
    # the rest of term at the recent rate (0%): 56 / (90 + left)
    expected = band_for(attended=56 * 34 + left * 0, possible=(90 + left) * 34)
    assert summary.projected_band == expected == Band.SEVERE_ABSENCE  # worse than today


def test_it_alerts_the_link_officer_at_the_penalty_threshold(school, pupil, la_officer):
    last = write_marks(pupil, school, ["/"] * 10 + ["G", "O"] * 5 + ["/"] * 2)
    pupils_reclassify(as_of=last)
    alert = Alert.objects.get(rule=Rule.PENALTY_THRESHOLD)
    assert (alert.recipient, alert.pupil) == (la_officer, pupil)
    assert alert.evidence["unauthorised sessions"] == 10
    pupils_reclassify(as_of=last)
    assert Alert.objects.filter(rule=Rule.PENALTY_THRESHOLD).count() == 1


def test_it_does_not_alert_below_the_penalty_threshold(school, pupil, la_officer):
    last = write_marks(pupil, school, ["/"] * 10 + ["G", "O"] * 4 + ["U"] + ["/"] * 3)
    pupils_reclassify(as_of=last)
    assert not Alert.objects.filter(rule=Rule.PENALTY_THRESHOLD).exists()


def test_it_writes_each_pupils_weeks_from_the_marks(school, other_school, pupil):
    # 3 Sep 2025 is a Wednesday: week one has three school days (6 sessions), week two five.
    last = write_marks(pupil, school, ["/"] * 5 + ["I"] + ["/"] * 6 + ["O"] * 2 + ["X", "/"])
    write_marks(pupil, other_school, ["/", "N"])
    pupils_reclassify(as_of=last)
    weeks = {(w.school_id, w.week_start): (w.possible, w.attended, w.authorised, w.unauthorised)
             for w in WeeklyAttendance.objects.filter(pupil=pupil)}
    assert weeks == {
        (school.id, date(2025, 9, 1)): (6, 5, 1, 0),
        (school.id, date(2025, 9, 8)): (9, 7, 0, 2),  # X is not a possible session
        (other_school.id, date(2025, 9, 1)): (2, 1, 0, 1),
    }
    assert {w.academic_year for w in WeeklyAttendance.objects.all()} == {2025}


def test_it_rewrites_weeks_only_where_marks_changed(school, pupil):
    last = write_marks(pupil, school, ["/"] * 20)
    pupils_reclassify(as_of=last)
    figures = ("pk", "possible", "attended", "authorised", "unauthorised")
    before = list(WeeklyAttendance.objects.order_by("pk").values_list(*figures))
    pupils_reclassify(as_of=last)
    assert list(WeeklyAttendance.objects.order_by("pk").values_list(*figures)) == before
    SessionMark.objects.filter(pupil=pupil, date=date(2025, 9, 3)).update(am="O")
    SessionMark.objects.filter(pupil=pupil, date__gte=date(2025, 9, 8)).delete()
    pupils_reclassify(as_of=last)
    weeks = list(WeeklyAttendance.objects.values_list("week_start", "possible", "attended"))
    assert weeks == [(date(2025, 9, 1), 6, 5)]


def test_a_school_run_leaves_other_pupils_summaries_while_weeks_follow_the_marks(
        school, other_school, pupil):
    other_pupil = PupilFactory()
    write_marks(pupil, school, ["/"] * 6)
    last = write_marks(other_pupil, other_school, ["/"] * 6)
    pupils_reclassify(as_of=last)
    SessionMark.objects.filter(pupil=other_pupil).update(am="O")
    assert WeeklyAttendance.objects.get(pupil=other_pupil).attended == 3  # at once (triggers)
    pupils_reclassify(as_of=last, school_ids=[school.id])
    assert city(other_pupil).attended == 6  # not its school's run
    pupils_reclassify(as_of=last, school_ids=[other_school.id])
    assert city(other_pupil).attended == 3


def test_it_leaves_out_marks_after_as_of_mid_week(school, other_school, pupil):
    """A run as of a Wednesday with later marks held equals a run where they never existed."""
    EnrolmentFactory(pupil=pupil, school=other_school, registration="S")
    codes = ["/", "I", "O", "/", "L", "N", "M", "/", "G", "#"] * 6
    write_marks(pupil, school, codes)
    write_marks(pupil, other_school, list(reversed(codes)))
    as_of = date(2025, 10, 8)  # a Wednesday in the sixth week
    fields = ["school_id", "possible", "attended", "authorised", "unauthorised", "code_counts",
              "first_marked", "last_marked", "band", "recent_possible", "recent_attended",
              "recent_band", "projected_band"]
    pupils_reclassify(as_of=as_of)
    with_later = list(PupilSummary.objects.order_by("school_id").values(*fields))
    assert SessionMark.objects.filter(date__gt=as_of).exists()
    SessionMark.objects.filter(date__gt=as_of).delete()
    pupils_reclassify(as_of=as_of)
    without = list(PupilSummary.objects.order_by("school_id").values(*fields))
    assert with_later == without
    by_school = {row["school_id"]: row for row in without}
    sessions = 2 * len(school_days(start=START, end=as_of))  # 26 days to that Wednesday
    assert by_school[school.id]["possible"] == sum(c != "#" for c in codes[:sessions])
    assert by_school[school.id]["last_marked"] == as_of
    assert by_school[None]["possible"] == sum(c != "#" for c in codes[:sessions]) + sum(
        c != "#" for c in list(reversed(codes))[:sessions])


def _school_keeps_sending(school, until=date(2025, 9, 17)):
    classmate = PupilFactory()
    EnrolmentFactory(pupil=classmate, school=school)
    write_marks(classmate, school, ["/"] * 2 * len(school_days(start=START, end=until)))


@pytest.mark.parametrize(("last_marked", "alerted"),
                         [(date(2025, 9, 10), True), (date(2025, 9, 11), False)])
def test_it_tells_the_social_worker_when_a_pupil_goes_missing_from_the_registers(
        school, pupil, social_worker, la_officer, last_marked, alerted):
    AllocationFactory(pupil=pupil, social_worker=social_worker)
    _school_keeps_sending(school)
    write_marks(pupil, school, ["/"] * 2 * len(school_days(start=START, end=last_marked)))
    # As of Wednesday 17 September the five school days are 11, 12, 15, 16 and 17 September.
    pupils_reclassify(as_of=date(2025, 9, 17))
    alerts = Alert.objects.filter(rule=Rule.MISSING_FROM_DATA)
    assert alerts.exists() is alerted
    assert not Alert.objects.filter(rule=Rule.SCHOOL_SILENT, school=school).exists()
    if alerted:
        alert = alerts.get()
        assert (alert.recipient, alert.pupil, alert.school) == (social_worker, pupil, school)
        assert alert.evidence["last marked"] == "10/09/2025"
        pupils_reclassify(as_of=date(2025, 9, 17))
        assert alerts.count() == 1  # the same episode


def test_it_raises_a_new_missing_alert_for_a_new_episode(school, pupil, social_worker):
    AllocationFactory(pupil=pupil, social_worker=social_worker)
    _school_keeps_sending(school, until=date(2025, 9, 26))
    write_marks(pupil, school, ["/"] * 12)  # to 10 September
    pupils_reclassify(as_of=date(2025, 9, 17))
    SessionMark.objects.create(pupil=pupil, school=school, date=date(2025, 9, 18), am="/")
    pupils_reclassify(as_of=date(2025, 9, 18))
    assert Alert.objects.filter(rule=Rule.MISSING_FROM_DATA).count() == 1
    pupils_reclassify(as_of=date(2025, 9, 26))  # gone again since the 18th
    keys = set(Alert.objects.filter(rule=Rule.MISSING_FROM_DATA)
               .values_list("dedup_key", flat=True))
    assert keys == {f"missing:{pupil.id}:2025-09-10", f"missing:{pupil.id}:2025-09-18"}


def test_it_leaves_a_missing_pupil_of_a_silent_school_to_the_silent_school_rule(
        school, pupil, social_worker, la_officer):
    AllocationFactory(pupil=pupil, social_worker=social_worker)
    _school_keeps_sending(school, until=date(2025, 9, 10))  # then the whole school stops
    write_marks(pupil, school, ["/"] * 12)
    pupils_reclassify(as_of=date(2025, 9, 17))
    assert Alert.objects.filter(rule=Rule.SCHOOL_SILENT, recipient=la_officer).exists()
    assert not Alert.objects.filter(rule=Rule.MISSING_FROM_DATA).exists()


def test_it_does_not_call_a_pupil_off_the_roll_missing(school, pupil, social_worker):
    AllocationFactory(pupil=pupil, social_worker=social_worker)
    pupil.enrolments.update(end_date=date(2025, 9, 12))  # taken off roll
    _school_keeps_sending(school)
    write_marks(pupil, school, ["/"] * 12)
    pupils_reclassify(as_of=date(2025, 9, 17))
    assert not Alert.objects.filter(rule=Rule.MISSING_FROM_DATA).exists()


def test_it_does_not_call_a_pupil_off_the_caseload_missing(school, pupil, social_worker):
    _school_keeps_sending(school)
    write_marks(pupil, school, ["/"] * 12)
    pupils_reclassify(as_of=date(2025, 9, 17))
    assert not Alert.objects.filter(rule=Rule.MISSING_FROM_DATA).exists()
