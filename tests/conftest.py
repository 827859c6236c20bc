"""Personas shared by every test: one user per role, two schools, pupils on each roll."""

import pytest

from tests.factories import (
    AllocationFactory,
    EnrolmentFactory,
    PupilFactory,
    SchoolFactory,
    UserFactory,
)


@pytest.fixture(autouse=True)
def _quiet_settings(settings):
    from attendance_portal.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager = True  # the Celery app reads its own copy
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # An empty local-memory cache per test: the Redis cache would carry cached dashboards
    # (reports.caching) from one test's database into the next.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": "tests"}}
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Data-migration rows (codes, schedules) are back for every database test, even after a
    transactional test flushed them."""
    marker = request.node.get_closest_marker("django_db")
    names = request.fixturenames
    if marker is None and not {"db", "transactional_db"} & set(names):
        return
    transactional = "transactional_db" in names or (
        marker is not None and marker.kwargs.get("transaction", False))
    request.getfixturevalue("transactional_db" if transactional else "db")
    from tests.reference_data import reference_data_ensure

    reference_data_ensure()


@pytest.fixture
def school(db):
    return SchoolFactory(name="Hilltop Primary", urn="113501")


@pytest.fixture
def other_school(db):
    return SchoolFactory(name="Riverside Academy", urn="113502", phase="secondary")


@pytest.fixture
def la_officer(db, school):
    officer = UserFactory(is_la_officer=True, full_name="Olivia Officer",
                          email="officer@example.gov.uk")
    school.link_officer = officer
    school.save()
    return officer


@pytest.fixture
def school_lead(db, school):
    return UserFactory(is_school_lead=True, school=school, full_name="Sam Lead",
                       email="lead@hilltop.example.sch.uk")


@pytest.fixture
def other_school_lead(db, other_school):
    return UserFactory(is_school_lead=True, school=other_school, full_name="Rita Other",
                       email="lead@riverside.example.sch.uk")


@pytest.fixture
def social_worker(db):
    return UserFactory(is_social_worker=True, full_name="Sian Worker",
                       email="sw@example.gov.uk")


@pytest.fixture
def manager(db):
    return UserFactory(is_manager=True, full_name="Maya Manager", email="manager@example.gov.uk")


@pytest.fixture
def administrator(db):
    return UserFactory(is_administrator=True, is_staff=True, is_superuser=True,
                       full_name="Ada Admin", email="admin@example.gov.uk")


@pytest.fixture
def pupil(db, school):
    p = PupilFactory(surname="Hilltop", forename="Harry")
    EnrolmentFactory(pupil=p, school=school)
    return p


@pytest.fixture
def other_pupil(db, other_school):
    p = PupilFactory(surname="Riverside", forename="Rosa")
    EnrolmentFactory(pupil=p, school=other_school)
    return p


@pytest.fixture
def caseload_pupil(db, other_school, social_worker):
    p = PupilFactory(surname="Caseload", forename="Cara")
    EnrolmentFactory(pupil=p, school=other_school)
    AllocationFactory(pupil=p, social_worker=social_worker)
    return p
