"""The penalty notice threshold: 10 unauthorised sessions (G, N, O, U) in 10 school weeks."""

from datetime import date, timedelta

import pytest

from alerts.models import Alert, Rule
from interventions.selectors import penalty_threshold_episodes, penalty_threshold_windows
from interventions.services import penalty_threshold_alerts_raise
from tests.factories import academic_year_2025
from tests.interventions.marks import mark_days, week_days

pytestmark = pytest.mark.django_db

MON_SEP_8 = date(2025, 9, 8)
AS_OF = date(2025, 12, 19)


@pytest.fixture(autouse=True)
def _year(db):
    academic_year_2025()


def _sessions(pupil, school, count, monday=MON_SEP_8, codes=("G", "N", "O", "U")):
    """``count`` unauthorised sessions in the week of ``monday``, mixing the four codes."""
    days = week_days(monday)
    marks = [codes[i % len(codes)] for i in range(count)]
    for i, day in enumerate(days):
        am, pm = (marks[2 * i:2 * i + 2] + ["/", "/"])[:2]
        mark_days(pupil, school, [day], am=am, pm=pm)


def _weeks(pupil):
    return penalty_threshold_windows(as_of=AS_OF, pupil_ids=[pupil.pk])


def test_it_does_not_flag_nine_sessions(pupil, school):
    _sessions(pupil, school, 5)
    _sessions(pupil, school, 4, monday=MON_SEP_8 + timedelta(weeks=3))
    assert _weeks(pupil) == []


@pytest.mark.parametrize("extra", [5, 6])
def test_it_flags_ten_and_eleven_sessions_in_any_mix(pupil, school, extra):
    _sessions(pupil, school, 5)
    _sessions(pupil, school, extra, monday=MON_SEP_8 + timedelta(weeks=3))
    windows = _weeks(pupil)
    first = windows[0]
    assert first["sessions"] == 5 + extra
    # The first window reaching it ends in the week of 29 September and starts ten school
    # weeks earlier, in the term's first (partial) week, 1 September.
    assert (first["window_start"], first["window_end"]) == (date(2025, 9, 1), date(2025, 10, 5))
    # Every later window still holding both weeks: up to the one ending 9 weeks after 8 Sept.
    assert [w["sessions"] for w in windows] == [5 + extra] * 7
    # The last window holding 8 Sept ends in the week of 17 Nov (half term is not counted).
    assert windows[-1]["window_end"] == date(2025, 11, 23)


def test_it_counts_only_unauthorised_codes(pupil, school):
    _sessions(pupil, school, 10, codes=("I", "M", "C2", "G"))
    assert _weeks(pupil) == []


def test_it_reaches_back_across_half_term_which_is_not_a_school_week(pupil, school):
    # Half term is 27-31 October 2025: the ten school weeks ending in the week of 10 November
    # are 10 Nov, 3 Nov, then 20 Oct back to 1 Sep: eleven calendar weeks.
    _sessions(pupil, school, 5, monday=date(2025, 9, 1))  # 3 school days: 5 sessions
    _sessions(pupil, school, 5, monday=date(2025, 11, 10))
    windows = _weeks(pupil)
    assert len(windows) == 1
    assert windows[0] == {"pupil_id": pupil.pk, "window_start": date(2025, 9, 1),
                          "window_end": date(2025, 11, 16), "sessions": 10}


def test_it_does_not_reach_back_eleven_school_weeks(pupil, school):
    _sessions(pupil, school, 5, monday=date(2025, 9, 1))
    _sessions(pupil, school, 5, monday=date(2025, 11, 17))
    assert _weeks(pupil) == []


def test_it_spans_the_christmas_holiday(pupil, school):
    _sessions(pupil, school, 5, monday=date(2025, 12, 15))
    _sessions(pupil, school, 5, monday=date(2026, 1, 5))
    windows = penalty_threshold_windows(as_of=date(2026, 1, 9), pupil_ids=[pupil.pk])
    assert [(w["window_start"], w["window_end"], w["sessions"]) for w in windows] == [
        (date(2025, 10, 13), date(2026, 1, 9), 10)]


def test_it_raises_one_alert_per_episode_to_the_link_officer(pupil, school, la_officer):
    _sessions(pupil, school, 10)
    first = penalty_threshold_alerts_raise(as_of=AS_OF)
    assert len(first) == 1
    alert = Alert.objects.get()
    assert (alert.recipient, alert.pupil, alert.school, alert.rule) == (
        la_officer, pupil, school, Rule.PENALTY_THRESHOLD)
    assert alert.dedup_key == f"penalty:{pupil.pk}:2025-09-01"
    assert "consider a penalty notice" in alert.summary
    assert alert.evidence["unauthorised sessions"] == 10
    assert penalty_threshold_alerts_raise(as_of=AS_OF) == []
    # A second, separate episode later in the year is a new alert.
    _sessions(pupil, school, 10, monday=date(2025, 12, 1))
    assert len(penalty_threshold_alerts_raise(as_of=AS_OF)) == 1
    assert Alert.objects.count() == 2


def test_it_reports_episodes_with_the_first_window_and_whether_current(pupil, school):
    _sessions(pupil, school, 10, monday=date(2025, 12, 8))
    [episode] = penalty_threshold_episodes(as_of=AS_OF, pupil_ids=[pupil.pk])
    assert episode["first_window_start"] == date(2025, 9, 29)  # half term is skipped
    assert episode["first_sessions"] == 10 and episode["current"] is True


# --- Across October half term (27-31 October 2025, not a school week) ------------------------

OCT_20 = date(2025, 10, 20)  # the last school week before half term
NOV_3 = date(2025, 11, 3)  # the first school week after it


def _calendar_weeks(first_monday, last_monday):
    return (last_monday - first_monday).days // 7 + 1


@pytest.mark.parametrize(("before", "after", "reached"),
                         [(5, 4, False), (5, 5, True), (5, 6, True), (4, 5, False),
                          (6, 5, True)])
def test_it_adds_sessions_either_side_of_half_term(pupil, school, before, after, reached):
    """9, 10 and 11 sessions split across the break: 9 is not at the threshold, 10 and 11 are.
    The half-term week is no school week: no window ends in it and it takes no place in one."""
    _sessions(pupil, school, before, monday=OCT_20)
    _sessions(pupil, school, after, monday=NOV_3)
    windows = _weeks(pupil)
    if not reached:
        assert windows == []
        return
    total = before + after
    # Every window from the one ending in the week of 3 November (the first to hold both
    # weeks) to the one ending on AS_OF, 19 December: seven school weeks, so seven windows.
    ends = [w["window_end"] for w in windows]
    assert ends == [date(2025, 11, 9), date(2025, 11, 16), date(2025, 11, 23),
                    date(2025, 11, 30), date(2025, 12, 7), date(2025, 12, 14), AS_OF]
    assert date(2025, 11, 2) not in ends  # the Sunday of half term ends no window
    assert [w["sessions"] for w in windows] == [total] * 7
    # The window ending 19 December holds ten school weeks: 15 December back to 6 October,
    # skipping half term (eleven calendar weeks).
    last = windows[-1]
    assert last["window_start"] == date(2025, 10, 6)
    assert _calendar_weeks(last["window_start"], date(2025, 12, 15)) == 11


def test_it_reaches_sessions_eleven_calendar_weeks_apart_inside_ten_school_weeks(pupil, school):
    """Counted in calendar weeks, 8 September and 17 November are eleven weeks apart and would
    never share a ten-week window; in school weeks (half term skipped) they are ten."""
    assert _calendar_weeks(date(2025, 9, 8), date(2025, 11, 17)) == 11
    _sessions(pupil, school, 5, monday=date(2025, 9, 8))
    _sessions(pupil, school, 5, monday=date(2025, 11, 17))
    assert _weeks(pupil) == [{"pupil_id": pupil.pk, "window_start": date(2025, 9, 8),
                              "window_end": date(2025, 11, 23), "sessions": 10}]


def test_it_does_not_count_marks_made_in_half_term_towards_the_threshold(
        pupil, other_school):
    """The other way: a school open in the LA's half term (an academy with its own dates) marks
    5 unauthorised sessions that week. Counted in calendar weeks, those and 5 more on 3 November
    would reach 10; in the LA's school weeks the half-term week is no school week, so its marks
    are not counted (a documented limit) and the threshold is not reached."""
    half_term = [date(2025, 10, 27) + timedelta(days=n) for n in range(5)]
    mark_days(pupil, other_school, half_term[:2], am="O", pm="O")
    mark_days(pupil, other_school, half_term[2:3], am="G", pm="/")
    _sessions(pupil, other_school, 5, monday=NOV_3)
    assert _calendar_weeks(date(2025, 10, 27), NOV_3) == 2
    assert _weeks(pupil) == []
    # The same five sessions in the school week before half term do reach it.
    _sessions(pupil, other_school, 5, monday=OCT_20)
    assert _weeks(pupil)[0]["sessions"] == 10


def _episodes_from_windows(windows, current_end):
    """Episodes by their definition: runs of consecutive school weeks whose windows reach it."""
    episodes, previous_end = [], None
    for window in windows:
        start_of_run = previous_end is None or window["n"] != previous_end + 1
        if start_of_run:
            episodes.append({"first_window_start": window["window_start"],
                             "first_window_end": window["window_end"],
                             "first_sessions": window["sessions"]})
        episodes[-1].update(latest_window_start=window["window_start"],
                            latest_window_end=window["window_end"],
                            latest_sessions=window["sessions"],
                            current=window["window_end"] == current_end)
        previous_end = window["n"]
    return episodes


def test_episodes_are_the_runs_of_windows_at_the_threshold(school):
    """The episodes come from the points where a window's count changes (a week entering or
    leaving it), not from listing every window: they must be exactly the runs of consecutive
    windows at the threshold, here for pupils with random unauthorised sessions over a year
    (as of a Wednesday)."""
    import random

    from schools.calendar import school_weeks
    from tests.factories import PupilFactory

    as_of = date(2026, 7, 15)  # a Wednesday
    mondays = school_weeks(start=date(2025, 9, 1), end=as_of)
    index = {min(m + timedelta(days=6), as_of): n for n, m in enumerate(mondays)}
    rng = random.Random(2026)
    pupils, runs = [PupilFactory() for _ in range(8)], 0
    for number, pupil in enumerate(pupils):
        for monday in mondays:
            # as_of's week: half the pupils have sessions after as_of too (not counted)
            if rng.random() < 0.3 or (monday == mondays[-1] and number % 2):
                _sessions(pupil, school, rng.choice([1, 2, 3, 4, 6, 8]), monday=monday)
        windows = penalty_threshold_windows(as_of=as_of, pupil_ids=[pupil.pk])
        for window in windows:
            window["n"] = index[window["window_end"]]
        expected = _episodes_from_windows(windows, current_end=as_of)
        episodes = penalty_threshold_episodes(as_of=as_of, pupil_ids=[pupil.pk])
        assert [{k: v for k, v in e.items() if k != "pupil_id"} for e in episodes] == expected
        runs += len(episodes)
    assert runs > len(pupils), "some pupil has two or more separate episodes"
