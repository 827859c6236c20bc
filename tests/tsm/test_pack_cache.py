"""The live pack's pupil sections are cached until the next classification run or completed
import for the school; the rest of the pack (alerts, actions) and a held meeting's snapshot are
read afresh."""

import pytest
from django.urls import reverse
from django.utils import timezone

from alerts.models import Alert, Rule
from attendance.models import ImportRun, PupilSummary, ReclassificationRun
from tests.tsm.test_pack import band_count
from tsm import selectors, services
from tsm.selectors import meeting_pack

pytestmark = pytest.mark.django_db


@pytest.fixture
def severe_pupil(terms, school, pupil):
    from tests.tsm.test_pack import classify, marks

    classify(marks(pupil, school, ["/"] * 10 + ["O"] * 10, terms["now"]))
    return pupil


def improve_without_a_run(pupil):
    """Change the summary behind the cache's back (as nothing but a run would)."""
    PupilSummary.objects.filter(pupil=pupil).update(band=1, attended=20, possible=20)


def new_run():
    ReclassificationRun.objects.create(as_of=timezone.localdate())


def imported(**fields):
    return ImportRun.objects.create(original_filename="register.csv", stored_path="x",
                                    sha256="0" * 64, **fields)


@pytest.fixture
def builds(monkeypatch):
    """Counts how often the pupil sections are read from the database."""
    calls = []
    original = selectors._school_pupils

    def counting(**kwargs):
        calls.append(kwargs)
        return original(**kwargs)

    monkeypatch.setattr(selectors, "_school_pupils", counting)
    return calls


def test_it_reuses_the_pupil_sections_until_the_next_classification_run(
        severe_pupil, meeting, builds):
    first = meeting_pack(meeting=meeting)
    improve_without_a_run(severe_pupil)
    second = meeting_pack(meeting=meeting)
    assert len(builds) == 1
    assert second["figures_key"] == first["figures_key"] is not None
    assert band_count(second, 5) == 1 and second["severe"]["total"] == 1
    new_run()
    third = meeting_pack(meeting=meeting)
    assert len(builds) == 2 and third["figures_key"] != first["figures_key"]
    assert band_count(third, 5) == 0 and band_count(third, 1) == 1


def test_it_rebuilds_after_an_import_for_the_school_only(severe_pupil, meeting, other_school,
                                                         builds):
    meeting_pack(meeting=meeting)
    imported(status=ImportRun.Status.APPLIED, school=other_school)
    imported(status=ImportRun.Status.REJECTED, school=meeting.school)
    imported(status=ImportRun.Status.APPLIED, school_urns=[other_school.urn])
    meeting_pack(meeting=meeting)
    assert len(builds) == 1
    imported(status=ImportRun.Status.APPLIED, school_urns=[other_school.urn, meeting.school.urn])
    meeting_pack(meeting=meeting)
    assert len(builds) == 2
    imported(status=ImportRun.Status.APPLIED, school=meeting.school)
    meeting_pack(meeting=meeting)
    assert len(builds) == 3


def test_it_does_not_cache_before_any_classification(meeting, builds):
    assert not ReclassificationRun.objects.exists()
    assert meeting_pack(meeting=meeting)["figures_key"] is None
    meeting_pack(meeting=meeting)
    assert len(builds) == 2


def test_it_reads_alerts_afresh(severe_pupil, meeting, la_officer):
    alert = Alert.objects.create(recipient=la_officer, pupil=severe_pupil, rule=Rule.ENTERED_SA,
                                 summary="Entered severe absence", dedup_key="sa:1")
    assert len(meeting_pack(meeting=meeting)["alerts"]) == 1
    Alert.objects.filter(pk=alert.pk).update(acknowledged_at=timezone.now(),
                                             acknowledged_by=la_officer)
    assert meeting_pack(meeting=meeting)["alerts"] == []


def test_holding_freezes_todays_figures_not_the_cached_ones(severe_pupil, confirmed,
                                                            la_officer):
    meeting_pack(meeting=confirmed)
    improve_without_a_run(severe_pupil)
    held = services.meeting_hold(meeting=confirmed, user=la_officer)
    assert band_count(held.snapshot, 1) == 1 and held.snapshot["severe"]["total"] == 0


def test_the_pack_page_shows_the_new_figures_after_a_run(client, severe_pupil, meeting,
                                                         la_officer):
    client.force_login(la_officer)
    url = reverse("tsm:pack", args=[meeting.pk])
    assert 'data-testid="band-5-count">1<' in client.get(url).content.decode()
    improve_without_a_run(severe_pupil)
    html = client.get(url).content.decode()
    assert "Hilltop, Harry" in html  # the cached rendering of the pupil tables
    new_run()
    html = client.get(url).content.decode()
    assert 'data-testid="band-5-count">0<' in html and "Hilltop, Harry" not in html


def test_a_held_meetings_page_is_the_snapshot_whatever_the_cache(client, severe_pupil, held,
                                                                 la_officer):
    client.force_login(la_officer)
    url = reverse("tsm:pack", args=[held.pk])
    assert "Hilltop, Harry" in client.get(url).content.decode()
    improve_without_a_run(severe_pupil)
    new_run()
    assert "Hilltop, Harry" in client.get(url).content.decode()
