"""Nightly reclassification speed at city scale; prints one JSON line.

    .venv/bin/python benchmarks/nightly.py [--pupils 40500] [--large]

Targets (issue 5): the demo city (≈40,500 pupils, ≈15 M marks) in ≤ 20 s; 200,000 pupils
(--large) in ≤ 2 minutes; ≥ 100× faster per pupil than the naive ORM loop; one 1,500-pupil
school after its import in ≤ 1 s.
"""

import argparse
import json
import os
import time
from datetime import date

from _setup import django_ready, ensure_city


def naive_reclassify(pupil_ids, as_of):
    """The baseline: pupil by pupil through the ORM, as a first attempt would be written."""
    from attendance.bands import band_for
    from attendance.models import AttendanceCode, PupilSummary, SessionMark

    codes = {c.code: c for c in AttendanceCode.objects.all()}
    year = as_of.year - 1 if as_of.month < 9 else as_of.year
    for pupil_id in pupil_ids:
        possible = attended = 0
        for mark in SessionMark.objects.filter(pupil_id=pupil_id, date__gte=date(year, 9, 1),
                                               date__lte=as_of):
            for code in (mark.am, mark.pm):
                if code and codes[code].counts_as_possible:
                    possible += 1
                    attended += codes[code].counts_as_attended
        PupilSummary.objects.update_or_create(
            pupil_id=pupil_id, school=None, academic_year=year,
            defaults={"as_of": as_of, "possible": possible, "attended": attended,
                      "authorised": 0, "unauthorised": 0,
                      "band": band_for(attended=attended, possible=possible)},
        )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pupils", type=int, default=40500)
    parser.add_argument("--large", action="store_true", help="200,000 pupils instead")
    parser.add_argument("--naive-sample", type=int, default=1000)
    args = parser.parse_args()
    pupils_wanted = 200_000 if args.large else args.pupils
    django_ready("bench-large" if args.large else "bench")
    ensure_city(pupils_wanted)

    from django.db import connection, transaction
    from django.db.models import Count

    from attendance.classification import pupils_reclassify
    from attendance.models import SessionMark
    from pupils.models import Enrolment

    # A full academic year: the last one that has ended (the demo also marks this year to date).
    from schools.models import AcademicYear

    this_year = AcademicYear.start_year_for(SessionMark.objects.latest("date").date)
    full_year = (SessionMark.objects.filter(date__lt=date(this_year, 9, 1))
                 .order_by("-date").values_list("date", flat=True).first())
    as_of = full_year or SessionMark.objects.latest("date").date
    year_start = date(AcademicYear.start_year_for(as_of), 9, 1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FILTER (WHERE am IS NOT NULL) "
                       "+ count(*) FILTER (WHERE pm IS NOT NULL) FROM attendance_sessionmark "
                       "WHERE date BETWEEN %s AND %s", [year_start, as_of])
        marks = cursor.fetchone()[0]
        cursor.execute("ANALYZE")

    pupils_reclassify(as_of=as_of)  # warm: first run writes every row
    started = time.perf_counter()
    result = pupils_reclassify(as_of=as_of)
    seconds = time.perf_counter() - started
    cold_started = time.perf_counter()
    with transaction.atomic():
        # Everything the run writes goes; the counts (MarkCount, WeeklyAttendance) stay: the
        # marks' triggers keep them, as the imports that wrote the marks left them.
        from attendance.models import BandHistory, PupilSummary

        PupilSummary.objects.all().delete()
        BandHistory.objects.all().delete()
    cold_delete = time.perf_counter() - cold_started
    started = time.perf_counter()
    cold = pupils_reclassify(as_of=as_of)
    cold_seconds = time.perf_counter() - started

    biggest = (Enrolment.objects.filter(end_date__isnull=True).values("school_id")
               .annotate(n=Count("id")).order_by("-n").first())
    started = time.perf_counter()
    pupils_reclassify(as_of=as_of, school_ids=[biggest["school_id"]])
    school_seconds = time.perf_counter() - started

    sample = list(Enrolment.objects.order_by("pupil_id").values_list("pupil_id", flat=True)
                  [: args.naive_sample])
    started = time.perf_counter()
    with transaction.atomic():
        naive_reclassify(sample, as_of)
        transaction.set_rollback(True)
    naive_seconds = time.perf_counter() - started
    naive_rate = len(sample) / naive_seconds
    ours_rate = cold.pupils / cold_seconds

    print(json.dumps({
        "as_of": as_of.isoformat(),
        "pupils": cold.pupils,
        "marks": marks,
        "seconds": round(cold_seconds, 2),
        "rerun_seconds": round(seconds, 2),
        "rerun_changed": result.changed,
        "pupils_per_s": round(ours_rate),
        "naive_pupils_per_s": round(naive_rate, 1),
        "speedup_vs_naive": round(ours_rate / naive_rate, 1),
        "school_pupils": biggest["n"],
        "school_seconds": round(school_seconds, 3),
        "cold_delete_seconds": round(cold_delete, 2),
        "load_average": [round(x, 1) for x in os.getloadavg()],
        "targets": {"seconds": 120 if args.large else 20, "speedup_vs_naive": 100,
                    "school_seconds": 1},
    }))


if __name__ == "__main__":
    main()
