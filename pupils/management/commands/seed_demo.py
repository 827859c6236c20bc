"""python manage.py seed_demo [--pupils N] [--seed S] [--password P] [--reset] [--no-marks]."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from pupils import demo
from schools.models import AcademicYear


class Command(BaseCommand):
    help = (
        "Build a deterministic demo city shaped like Plymouth (LA 879): 98 schools, pupils, "
        "term dates, users for every role. Does nothing if schools or pupils already exist, "
        "unless --reset (which wipes all schools, pupils and @demo.test users first)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--pupils", type=int, default=demo.DEFAULT_PUPILS)
        parser.add_argument("--seed", type=int, default=demo.DEFAULT_SEED)
        parser.add_argument("--password", default=demo.DEFAULT_PASSWORD,
                            help="password for every demo user (default %(default)s)")
        parser.add_argument("--reset", action="store_true",
                            help="wipe every school, pupil and @demo.test user, then rebuild")
        parser.add_argument("--no-marks", action="store_true",
                            help="do not generate session marks (attendance.demo)")
        parser.add_argument("--no-reclassify", action="store_true",
                            help="do not run the band classification after the marks")

    def handle(self, *args, pupils, seed, password, reset, no_marks, no_reclassify, **options):
        if pupils < 1:
            raise CommandError("--pupils must be at least 1")
        started = time.perf_counter()
        with transaction.atomic():  # a failed rebuild leaves the old city in place
            if reset:
                demo.demo_city_reset()
                self.stdout.write("Wiped schools, pupils and demo users.")
            schools, existing = demo.demo_city_exists()
            if schools or existing:
                self.stdout.write(
                    f"The city already exists ({schools} schools, {existing} pupils): nothing "
                    "done. Use --reset to wipe and rebuild it."
                )
                return
            city = demo.demo_city_generate(pupils=pupils, seed=seed, password=password)
        self.stdout.write(
            f"Built the demo city (seed {seed}) in {time.perf_counter() - started:.1f}s: "
            f"{city.schools} schools, {city.pupils} pupils, {city.enrolments} enrolments "
            f"({city.dual_registered} dual registered, {city.transition} last year's at a primary "
            f"for this year's Year 7), {city.allocations} caseload allocations, "
            f"users: " + ", ".join(f"{n} {role}" for role, n in city.users.items())
        )
        if no_marks:
            self.stdout.write("Session marks skipped (--no-marks).")
        else:
            self._marks(seed)
            if not no_reclassify:
                self._reclassify()
        self.stdout.write(f"\nDemo sign-ins (password for all: {city.password}):")
        for role, email, note in city.demo_logins:
            self.stdout.write(f"  {role:<14} {email:<26} {note}")

    def _marks(self, seed):
        generate = demo.demo_marks_generator()
        if generate is None:
            self.stdout.write("Session marks skipped: attendance.demo.demo_marks_generate is not "
                              "available yet.")
            return
        for start_year in (demo.PREVIOUS_YEAR, demo.CURRENT_YEAR):
            started = time.perf_counter()
            year = AcademicYear.objects.get(start_year=start_year)
            result = generate(academic_year=year, seed=seed + start_year, school_ids=None)
            self.stdout.write(f"Session marks for {year}: {result:,} in "
                              f"{time.perf_counter() - started:.1f}s.")

    def _reclassify(self):
        """Classify as the nightly job would have, so the demo has band history and alerts:
        at the end of last year, then every other Friday of this year, then today."""
        from datetime import timedelta

        from django.utils import timezone

        from attendance.classification import pupils_reclassify
        from attendance.models import SessionMark

        last_mark = SessionMark.objects.order_by("-date").values_list("date", flat=True).first()
        if last_mark is None:
            return
        today = min(timezone.localdate(), last_mark)
        previous = AcademicYear.objects.get(start_year=demo.PREVIOUS_YEAR)
        dates = [min(previous.end_date, today)]
        current = AcademicYear.objects.filter(start_year=demo.CURRENT_YEAR).first()
        if current and today >= current.start_date:
            day = current.start_date + timedelta(days=(4 - current.start_date.weekday()) % 7)
            day += timedelta(days=21)  # a first picture after three weeks
            while day < today:
                dates.append(day)
                day += timedelta(days=14)
            dates.append(today)
        started = time.perf_counter()
        for as_of in dates:
            result = pupils_reclassify(as_of=as_of, notify=False)
        self.stdout.write(
            f"Classified {result.pupils:,} pupils as of {len(dates)} dates up to "
            f"{today:%d/%m/%Y} in {time.perf_counter() - started:.1f}s (band history and alerts).")
