"""The meeting pack: built from PupilSummary, frozen when the meeting is held."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from alerts.models import Alert, Rule
from attendance.classification import pupils_reclassify
from attendance.models import SessionMark
from schools.calendar import school_days
from tests.factories import CharacteristicsFactory, EnrolmentFactory, PupilFactory
from tests.tsm.conftest import soon
from tsm import services
from tsm.selectors import meeting_pack

pytestmark = pytest.mark.django_db


def marks(pupil, school, codes, term, skip_days=0):
    """One code per session, AM then PM, over the term's school days from ``skip_days`` on."""
    days = school_days(start=term.start_date, end=timezone.localdate())[skip_days:]
    assert len(days) * 2 >= len(codes), "not enough school days before today"
    rows = [SessionMark(pupil=pupil, school=school, date=days[i // 2], am=codes[i],
                        pm=codes[i + 1] if i + 1 < len(codes) else None)
            for i in range(0, len(codes), 2)]
    SessionMark.objects.bulk_create(rows)
    return days[(len(codes) - 1) // 2]


def classify(last):
    pupils_reclassify(as_of=last)


def band_count(pack, band):
    return next(row["count"] for row in pack["school"]["bands"] if row["band"] == band)


@pytest.fixture
def severe_pupil(terms, school, pupil):
    """Harry Hilltop: 10 of 20 sessions, severe absence (band 5)."""
    last = marks(pupil, school, ["/"] * 10 + ["O"] * 10, terms["now"])
    classify(last)
    return pupil


def test_it_counts_pupils_in_each_band_from_the_summaries(terms, school, severe_pupil,
                                                          meeting):
    good = PupilFactory(surname="Good", forename="Gina")
    EnrolmentFactory(pupil=good, school=school)
    classify(marks(good, school, ["/"] * 20, terms["now"]))
    pack = meeting_pack(meeting=meeting)
    assert pack["live"] is True
    assert (band_count(pack, 5), band_count(pack, 1), pack["school"]["pupils"]) == (1, 1, 2)
    assert pack["school"]["attendance_rate"] == 75.0
    assert (pack["school"]["pa_rate"], pack["school"]["sa_rate"]) == (50.0, 50.0)
    assert pack["city"]["pupils"] == 2 and pack["phase_figures"]["pupils"] == 2
    assert [p["name"] for p in pack["severe"]["pupils"]] == ["Harry Hilltop"]


def test_it_lists_severely_absent_pupils_first_by_name_then_those_at_risk(terms, school,
                                                                          meeting):
    for surname, codes in [("Young", ["/"] * 4 + ["O"] * 16), ("Adams", ["/"] * 10 + ["O"] * 10),
                           ("Moss", ["/"] * 14 + ["O"] * 6)]:
        child = PupilFactory(surname=surname, forename="Kim")
        EnrolmentFactory(pupil=child, school=school)
        last = marks(child, school, codes, terms["now"])
    classify(last)
    pack = meeting_pack(meeting=meeting)
    assert [p["sort_name"] for p in pack["severe"]["pupils"]] == ["Adams, Kim", "Young, Kim"]
    assert [p["sort_name"] for p in pack["at_risk_severe"]["pupils"]] == ["Moss, Kim"]


def test_it_breaks_attendance_down_by_cohort_from_the_latest_characteristics(
        terms, school, severe_pupil, meeting):
    CharacteristicsFactory(pupil=severe_pupil, effective_date=terms["now"].start_date,
                           year_group="5", fsm=False, sen="N")
    CharacteristicsFactory(pupil=severe_pupil, effective_date=terms["now"].start_date
                           + timedelta(days=1), year_group="5", fsm=True, sen="E", cp=True,
                           ethnicity="WBRI")
    pack = meeting_pack(meeting=meeting)
    rows = {(r["group"], r["label"]): r for r in pack["cohorts"]}
    assert rows[("Free school meals", "FSM eligible")]["sa_rate"] == 100.0
    assert ("Free school meals", "Not FSM eligible") not in rows
    assert rows[("SEN", "EHC plan")]["pupils"] == 1
    assert rows[("Social care", "Child protection plan (CP)")]["attendance_rate"] == 50.0
    assert ("Year group", "Year 5") in rows
    assert ("Ethnicity", "White – British (WBRI)") in rows
    assert ("Sex", "Female") in rows
    assert pack["severe"]["pupils"][0]["flags"] == ["CP", "EHCP", "FSM"]


def test_it_freezes_the_pack_when_the_meeting_is_held(client, terms, school, severe_pupil,
                                                      held, la_officer):
    """After the meeting, new marks and a reclassification change the live figures, not the
    held pack."""
    assert band_count(held.snapshot, 5) == 1
    SessionMark.objects.filter(pupil=severe_pupil).update(am="/", pm="/")
    classify(marks(severe_pupil, school, ["/"] * 20, terms["now"], skip_days=10))
    held.refresh_from_db()
    pack = meeting_pack(meeting=held)
    assert pack["live"] is False
    assert band_count(pack, 5) == 1 and band_count(pack, 1) == 0
    assert pack["school"]["attendance_rate"] == 50.0
    client.force_login(la_officer)
    html = client.get(reverse("tsm:pack", args=[held.pk])).content.decode()
    assert 'data-testid="pack-frozen"' in html
    assert 'data-testid="band-5-count">1<' in html
    assert "Harry" in html
    # The live figures did change: a meeting not held would show band 1.
    from tsm.selectors import meeting_pack_live

    assert band_count(meeting_pack_live(meeting=held), 1) == 1


def test_it_compares_with_the_last_tsm_and_lists_band_changes_since(
        terms, school, severe_pupil, manager, la_officer, school_lead):
    """Last TSM held in this term; the next term's pack compares with its snapshot."""
    tsm_round, _, _ = services.tsm_round_open(term=terms["now"], theme="A", user=manager)
    first = tsm_round.meetings.get(school=school)
    services.meeting_propose(meeting=first, start=soon(), user=la_officer)
    services.meeting_confirm(meeting=first, user=school_lead)
    first = services.meeting_hold(meeting=first, user=la_officer)
    # Pretend it was held before today's improvement.
    type(first).objects.filter(pk=first.pk).update(held_at=timezone.now() - timedelta(days=3))
    SessionMark.objects.filter(pupil=severe_pupil).update(am="/", pm="/")
    classify(timezone.localdate())
    next_round, _, _ = services.tsm_round_open(term=terms["next"], theme="B", user=manager)
    pack = meeting_pack(meeting=next_round.meetings.get(school=school))
    assert pack["last_tsm"]["term"] == str(terms["now"])
    assert pack["last_tsm"]["sa_rate"] == 100.0 and pack["school"]["sa_rate"] == 0.0
    change = pack["band_changes"]["pupils"][0]
    assert (change["name"], change["from_band"], change["to_band"], change["worse"]) == (
        "Harry Hilltop", 5, 1, False)


def test_it_shows_open_alerts_for_the_schools_pupils_once(terms, school, severe_pupil,
                                                          meeting, social_worker, la_officer,
                                                          other_pupil):
    for recipient in (social_worker, la_officer):
        Alert.objects.create(recipient=recipient, pupil=severe_pupil, rule=Rule.ENTERED_SA,
                             summary="Entered severe absence", dedup_key="sa:1")
    Alert.objects.create(recipient=social_worker, pupil=other_pupil, rule=Rule.ENTERED_SA,
                         summary="Other school's pupil", dedup_key="sa:2")
    pack = meeting_pack(meeting=meeting)
    assert [(a["pupil"], a["rule"]) for a in pack["alerts"]] == [
        ("Harry Hilltop", "Entered severe absence")]


def test_it_serves_the_pack_json_through_the_api(client, terms, severe_pupil, meeting,
                                                 la_officer):
    client.force_login(la_officer)
    data = client.get(f"/api/tsm/meetings/{meeting.pk}/pack/").json()
    assert data["school_name"] == "Hilltop Primary" and data["severe"]["total"] == 1
