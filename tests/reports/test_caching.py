"""Cached dashboard contexts: reused until the next reclassification run, applied import,
benchmark edit or term-summary refresh, and never shared across scopes."""

from datetime import date

import pytest
from django.urls import reverse

from attendance.classification import pupils_reclassify
from attendance.models import ImportRun, PupilSummary, ReclassificationRun
from reports.caching import cached_for_latest_run, scope_key
from reports.models import BenchmarkFigure
from reports.services import term_summaries_refresh
from tests.reports.test_city_dashboard import small_city  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


class Counter:
    def __init__(self):
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return {"computed": self.calls}


def test_it_computes_once_per_key_until_the_next_run(db):
    compute = Counter()
    assert cached_for_latest_run(["x", 1], compute) == {"computed": 1}
    assert cached_for_latest_run(["x", 1], compute) == {"computed": 1}
    assert cached_for_latest_run(["x", 2], compute) == {"computed": 2}  # other parts, other key
    ReclassificationRun.objects.create(as_of=date(2025, 10, 1), school_ids=[1])
    assert cached_for_latest_run(["x", 1], compute) == {"computed": 3}
    assert cached_for_latest_run(["x", 1], compute) == {"computed": 3}


def test_an_applied_import_invalidates_but_a_pending_one_does_not(db):
    compute = Counter()
    cached_for_latest_run(["y"], compute)
    ImportRun.objects.create(original_filename="a.csv", stored_path="a", sha256="0" * 64)
    assert cached_for_latest_run(["y"], compute) == {"computed": 1}
    ImportRun.objects.create(original_filename="b.csv", stored_path="b", sha256="1" * 64,
                             status=ImportRun.Status.APPLIED)
    assert cached_for_latest_run(["y"], compute) == {"computed": 2}


def test_a_benchmark_edit_and_a_term_refresh_invalidate(db):
    compute = Counter()
    cached_for_latest_run(["z"], compute)
    figure = BenchmarkFigure.objects.get(measure="absence", breakdown="all", area="national",
                                         period="full_year")
    figure.value = 5
    figure.save()
    assert cached_for_latest_run(["z"], compute) == {"computed": 2}
    term_summaries_refresh(academic_year=2025, as_of=date(2025, 10, 1))
    assert cached_for_latest_run(["z"], compute) == {"computed": 3}


def test_the_dashboard_page_is_served_from_the_cache_until_the_nightly_run(
        small_city, manager, client):  # noqa: F811
    client.force_login(manager)
    url, query = reverse("reports:city"), {"academic_year": 2025}
    assert 'data-testid="headline-pupils">12<' in client.get(url, query).content.decode()
    # Summaries changed behind the cache's back (no run recorded): the cached page stays.
    PupilSummary.objects.filter(school__isnull=True).first().delete()
    assert 'data-testid="headline-pupils">12<' in client.get(url, query).content.decode()
    # The nightly run rewrites the summaries and records a run: the page follows.
    last = PupilSummary.objects.filter(school__isnull=True).order_by("-as_of").first().as_of
    pupils_reclassify(as_of=last)
    assert 'data-testid="headline-pupils">12<' in client.get(url, query).content.decode()
    PupilSummary.objects.filter(school__isnull=True).first().delete()
    ReclassificationRun.objects.create(as_of=last, school_ids=[small_city["primary"].pk])
    assert 'data-testid="headline-pupils">11<' in client.get(url, query).content.decode()


def test_the_filters_are_part_of_the_key(small_city, manager, client):  # noqa: F811
    client.force_login(manager)
    url = reverse("reports:city")
    all_pupils = client.get(url, {"academic_year": 2025}).content.decode()
    secondary = client.get(url, {"academic_year": 2025, "phase": "secondary"}).content.decode()
    assert 'data-testid="headline-pupils">12<' in all_pupils
    assert 'data-testid="headline-pupils">5<' in secondary


def test_scope_keys_separate_schools_and_officers(school_lead, other_school_lead, la_officer,
                                                  manager, administrator, social_worker):
    keys = {scope_key(u) for u in (school_lead, other_school_lead, la_officer, social_worker)}
    assert len(keys) == 4
    assert scope_key(manager) == scope_key(administrator) == "all"


def test_the_nightly_task_warms_the_default_dashboard(small_city, manager, client,  # noqa: F811
                                                      monkeypatch):
    from reports import selectors, views
    from reports.tasks import refresh_term_summaries

    refresh_term_summaries.delay(2025).get()

    def not_again(**kwargs):
        raise AssertionError("computed on the request, not warmed")

    monkeypatch.setattr(views, "city_dashboard", not_again)
    monkeypatch.setattr(selectors, "city_weeks", not_again)  # the weeks are warmed too
    client.force_login(manager)
    response = client.get(reverse("reports:city"))
    assert 'data-testid="headline-pupils">12<' in response.content.decode()
    assert 'data-testid="weeks-table"' in response.content.decode()
    with pytest.raises(AssertionError):  # another filter is not warmed
        client.get(reverse("reports:city"), {"phase": "primary"})


def test_the_run_signal_queues_the_refresh_after_commit(
        small_city, django_capture_on_commit_callbacks):  # noqa: F811
    from reports.models import TermSummary

    TermSummary.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        ReclassificationRun.objects.create(as_of=date(2025, 10, 1))
        ReclassificationRun.objects.create(as_of=date(2025, 10, 1), school_ids=[])  # no pupil
    assert len(callbacks) == 1
    assert TermSummary.objects.filter(academic_year=2025).exists()


def test_a_per_school_run_refreshes_that_schools_pupils_after_commit(
        small_city, django_capture_on_commit_callbacks):  # noqa: F811
    from pupils.models import Enrolment
    from reports.models import TermSummary

    primary = small_city["primary"]
    at_primary = set(Enrolment.objects.filter(school=primary).values_list("pupil_id", flat=True))
    assert at_primary and TermSummary.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        ReclassificationRun.objects.create(as_of=date(2025, 10, 1), school_ids=[primary.pk])
    assert len(callbacks) == 1
    assert set(TermSummary.objects.values_list("pupil_id", flat=True)) == at_primary


def test_a_cached_school_report_is_never_served_to_another_scope(small_city, manager,  # noqa: F811
                                                                 other_school_lead, client):
    school = small_city["secondary"]
    url = reverse("reports:school", args=[school.urn])
    client.force_login(manager)
    assert client.get(url, {"academic_year": 2025}).status_code == 200  # now cached
    client.force_login(other_school_lead)
    assert client.get(url, {"academic_year": 2025}).status_code == 404
    assert client.get(reverse("reports:schools"), {"academic_year": 2025}).content.decode(
        ).count(school.name) == 0


def test_cohort_members_follow_the_latest_run(small_city, manager, client):  # noqa: F811
    from pupils.models import Characteristics

    client.force_login(manager)
    url = reverse("reports:cohort", args=["cla"])
    before = client.get(url, {"academic_year": 2025}).content.decode()
    pupil = Characteristics.objects.order_by("pupil_id").first().pupil
    assert pupil.upn not in before
    Characteristics.objects.filter(pupil=pupil).update(cla=True)
    assert pupil.upn not in client.get(url, {"academic_year": 2025}).content.decode()  # cached
    ReclassificationRun.objects.create(as_of=date(2025, 10, 1), school_ids=[])
    assert pupil.upn in client.get(url, {"academic_year": 2025}).content.decode()


def test_a_cached_cohort_page_is_never_served_to_another_scope(small_city, manager,  # noqa: F811
                                                               client):
    from tests.factories import UserFactory

    officer = UserFactory(is_la_officer=True)
    small_city["primary"].link_officer = officer
    small_city["primary"].save()
    url = reverse("reports:cohort", args=["send"])
    client.force_login(manager)
    html = client.get(url, {"academic_year": 2025}).content.decode()  # now cached
    assert small_city["secondary"].name in html
    client.force_login(officer)  # unsuppressed too: only the scope tells the pages apart
    html = client.get(url, {"academic_year": 2025}).content.decode()
    assert small_city["primary"].name in html and small_city["secondary"].name not in html


def test_a_migration_forgets_the_cached_dashboards(db):
    """A deploy's data migration (benchmark rows) sends no model signal: migrate itself does."""
    from django.core.management import call_command

    from reports.caching import data_version

    before = data_version()
    call_command("migrate", "reports", verbosity=0)
    assert data_version() != before
