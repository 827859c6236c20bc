"""GET /api/pupils/{upn}/attendance/ and /api/pupils/{upn}/band-history/ on real PostgreSQL."""

from datetime import date

import pytest
from auditlog.models import LogEntry
from django.utils import timezone
from rest_framework.authtoken.models import Token

from attendance.bands import RECOMMENDED_ACTIONS, Band
from attendance.classification import pupils_reclassify
from attendance.models import SessionMark
from schools.calendar import school_days
from tests.factories import EnrolmentFactory, academic_year_2025

pytestmark = pytest.mark.django_db

START = date(2025, 9, 3)
TODAY = date(2025, 9, 18)
NINETY_PERCENT = ["/", "\\"] * 9 + ["I", "O"]  # 18 of 20 sessions: exactly 90.00%, band 3


@pytest.fixture(autouse=True)
def _today(db, monkeypatch):
    academic_year_2025()
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)


def write_marks(pupil, school, codes, start=START):
    days = school_days(start=start, end=date(2026, 7, 22))
    SessionMark.objects.bulk_create([
        SessionMark(pupil=pupil, school=school, date=days[i // 2], am=codes[i],
                    pm=codes[i + 1] if i + 1 < len(codes) else None)
        for i in range(0, len(codes), 2)
    ])
    return days[(len(codes) - 1) // 2]


def attendance_url(pupil):
    return f"/api/pupils/{pupil.upn}/attendance/"


def history_url(pupil):
    return f"/api/pupils/{pupil.upn}/band-history/"


def test_it_serves_the_pupils_figures_and_bands(client, school_lead, school, pupil):
    pupils_reclassify(as_of=write_marks(pupil, school, NINETY_PERCENT))
    client.force_login(school_lead)
    response = client.get(attendance_url(pupil))
    assert response.status_code == 200
    body = response.json()
    assert (body["upn"], body["academic_year"]) == (pupil.upn, 2025)
    city = body["city"]
    assert city["school_urn"] is None
    assert (city["possible"], city["attended"], city["authorised"], city["unauthorised"]) == (
        20, 18, 1, 1)
    assert city["rate"] == 90.0
    assert (city["band"], city["band_name"]) == (3, "Persistent absence")
    assert city["recent_band"] == 3 and city["projected_band"] in range(1, 6)
    assert city["code_counts"] == {"/": 9, "\\": 9, "I": 1, "O": 1}
    assert [s["school_urn"] for s in body["schools"]] == [school.urn]
    assert body["schools"][0]["band"] == 3
    assert body["recommended_actions"] == RECOMMENDED_ACTIONS[Band.PERSISTENT_ABSENCE]


def test_it_serves_each_school_of_a_dual_registered_pupil(client, manager, school,
                                                         other_school, pupil):
    EnrolmentFactory(pupil=pupil, school=other_school, registration="S")
    write_marks(pupil, school, ["/", "/", "D", "D"] * 5)
    pupils_reclassify(as_of=write_marks(pupil, other_school, ["D", "D", "/", "I"] * 5))
    client.force_login(manager)
    body = client.get(attendance_url(pupil)).json()
    by_school = {s["school_urn"]: (s["rate"], s["band"]) for s in body["schools"]}
    assert by_school == {school.urn: (100.0, 1), other_school.urn: (50.0, 5)}
    assert (body["city"]["rate"], body["city"]["band"]) == (75.0, 4)


def test_it_answers_with_no_figures_before_the_first_classification(client, school_lead, pupil):
    client.force_login(school_lead)
    body = client.get(attendance_url(pupil)).json()
    assert body["city"] is None and body["schools"] == [] and body["recommended_actions"] == []


def test_it_serves_another_academic_year_and_rejects_a_bad_one(client, school_lead, school,
                                                               pupil):
    pupils_reclassify(as_of=write_marks(pupil, school, NINETY_PERCENT))
    client.force_login(school_lead)
    assert client.get(attendance_url(pupil), {"academic_year": "2024"}).json()["city"] is None
    assert client.get(attendance_url(pupil), {"academic_year": "2025"}).json()["city"]["band"] == 3
    assert client.get(attendance_url(pupil), {"academic_year": "last"}).status_code == 400
    assert client.get(history_url(pupil), {"academic_year": "20250"}).status_code == 400


def test_it_serves_the_band_history_newest_first(client, school_lead, school, pupil):
    first = write_marks(pupil, school, ["/"] * 4)
    pupils_reclassify(as_of=first)
    days = school_days(start=first, end=date(2025, 12, 19))
    SessionMark.objects.bulk_create(
        [SessionMark(pupil=pupil, school=school, date=d, am="/", pm="I") for d in days[1:4]]
    )
    pupils_reclassify(as_of=days[3])
    client.force_login(school_lead)
    body = client.get(history_url(pupil)).json()
    assert body["upn"] == pupil.upn
    assert [(c["changed_on"], c["from_band"], c["to_band"], c["rate"]) for c in body["changes"]] \
        == [("2025-09-09", 1, 4, 70.0), ("2025-09-04", None, 1, 100.0)]
    assert body["changes"][0]["to_band_name"] == "At risk of severe absence"
    assert body["changes"][1]["from_band_name"] is None


def test_it_works_with_a_token(client, social_worker, other_school, caseload_pupil):
    pupils_reclassify(as_of=write_marks(caseload_pupil, other_school, NINETY_PERCENT))
    token = Token.objects.create(user=social_worker)
    response = client.get(attendance_url(caseload_pupil), HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200 and response.json()["city"]["band"] == 3


def test_it_logs_the_view_of_the_pupils_attendance(client, school_lead, pupil):
    client.force_login(school_lead)
    client.get(attendance_url(pupil))
    client.get(history_url(pupil))
    entries = LogEntry.objects.filter(object_pk=str(pupil.pk),
                                      action=LogEntry.Action.ACCESS, actor=school_lead)
    assert entries.count() == 2


@pytest.mark.parametrize("url", [attendance_url, history_url])
@pytest.mark.parametrize(("user", "target"), [("other_school_lead", "pupil"),
                                              ("social_worker", "pupil"),
                                              ("social_worker", "other_pupil"),
                                              ("school_lead", "caseload_pupil")])
def test_it_gives_an_outsider_a_404(client, request, url, user, target):
    client.force_login(request.getfixturevalue(user))
    victim = request.getfixturevalue(target)
    response = client.get(url(victim))
    assert response.status_code == 404
    assert victim.surname not in response.content.decode()


@pytest.mark.parametrize("url", [attendance_url, history_url])
def test_it_refuses_anonymous_callers(client, pupil, url):
    assert client.get(url(pupil)).status_code in (401, 403)


def test_it_describes_both_endpoints_in_the_schema(client, manager):
    client.force_login(manager)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    attendance = schema["paths"]["/api/pupils/{upn}/attendance/"]["get"]
    history = schema["paths"]["/api/pupils/{upn}/band-history/"]["get"]
    assert attendance["operationId"] == "pupil_attendance"
    assert history["operationId"] == "pupil_band_history"
    assert "academic_year" in [p["name"] for p in attendance["parameters"]]
    assert "PupilAttendance" in str(attendance["responses"]["200"])
    assert "PupilBandHistory" in str(history["responses"]["200"])
