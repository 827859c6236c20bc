"""factory_boy factories for the core models. App-specific factories live beside their tests."""

from datetime import date

import factory
from faker import Faker
from stdnum.gb import upn as upn_checker

from accounts.models import User
from pupils.models import Characteristics, Enrolment, Pupil, SocialWorkerAllocation
from schools.models import AcademicYear, Locality, School, Term

PASSWORD = "correct-horse-battery-staple"
_FAKE = Faker("en_GB")


def make_upn(serial: int, la: str = "879", estab: str = "2001", year: str = "15") -> str:
    body = f"{la}{estab}{year}{serial % 1000:03d}"
    return upn_checker.calc_check_digit(body) + body


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.gov.uk")
    full_name = factory.Faker("name", locale="en_GB")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class LocalityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Locality
        django_get_or_create = ["name"]

    name = factory.Iterator(["North", "South", "East", "West", "Central"])


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = School

    # Far from the fixed URNs tests give their own schools (113499-113604, 136001, 140001): from
    # 113000 the 502nd school of a session was Riverside's 113502 (a duplicate-key failure).
    urn = factory.Sequence(lambda n: f"{900000 + n:06d}")
    la_code = "879"
    establishment_number = factory.Sequence(lambda n: f"{2000 + n:04d}")
    # Zero-padded so no school's name is a prefix of another's ("Test School 1" / "... 12"):
    # permission tests assert another school's name is absent from a page.
    name = factory.Sequence(lambda n: f"Test School {n:04d}")
    phase = "primary"
    school_type = "Community school"
    status = "Open"
    statutory_low_age = 4
    statutory_high_age = 11
    locality = factory.SubFactory(LocalityFactory)


class PupilFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pupil

    upn = factory.Sequence(lambda n: make_upn(n, year=f"{10 + n // 1000:02d}"))
    # A numbered suffix keeps a surname from matching a word the page prints anyway ("Young",
    # "North"), which would make "this pupil's name is not shown" assertions fail at random.
    surname = factory.Sequence(lambda n: f"{_FAKE.last_name()}{n:05d}")
    forename = factory.Faker("first_name", locale="en_GB")
    date_of_birth = date(2015, 3, 14)
    sex = "F"


class EnrolmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrolment

    pupil = factory.SubFactory(PupilFactory)
    school = factory.SubFactory(SchoolFactory)
    start_date = date(2020, 9, 1)


class CharacteristicsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Characteristics

    pupil = factory.SubFactory(PupilFactory)
    effective_date = date(2025, 10, 2)
    year_group = "5"


class AllocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SocialWorkerAllocation

    pupil = factory.SubFactory(PupilFactory)
    social_worker = factory.SubFactory(UserFactory, is_social_worker=True)
    start_date = date(2024, 1, 1)


def academic_year_2025() -> AcademicYear:
    """2025/26 with Plymouth-like term dates (half terms included)."""
    year, _ = AcademicYear.objects.get_or_create(
        start_year=2025, defaults={"start_date": date(2025, 9, 1), "end_date": date(2026, 8, 31)}
    )
    terms = [
        ("autumn", date(2025, 9, 3), date(2025, 12, 19), date(2025, 10, 27), date(2025, 10, 31)),
        ("spring", date(2026, 1, 5), date(2026, 3, 27), date(2026, 2, 16), date(2026, 2, 20)),
        ("summer", date(2026, 4, 13), date(2026, 7, 22), date(2026, 5, 25), date(2026, 5, 29)),
    ]
    for name, start, end, hts, hte in terms:
        Term.objects.get_or_create(
            academic_year=year, name=name,
            defaults={"start_date": start, "end_date": end, "half_term_start": hts,
                      "half_term_end": hte},
        )
    return year
