"""Nightly reclassification speed at city scale; prints one JSON line.

    .venv/bin/python benchmarks/nightly.py [--pupils 40500] [--large]

Targets (issue 5): the demo city (≈40,500 pupils, ≈15 M marks) in ≤ 20 s; 200,000 pupils
(--large) in ≤ 2 minutes; ≥ 100× faster per pupil than the naive ORM loop; one 1,500-pupil
school after its import in ≤ 1 s.

``speedup_vs_naive`` compares like with like: the naive loop writes the summaries, bands and
band history, the run's first part (``summaries_seconds``). ``speedup_vs_naive_with_our_alerts``
charges the whole run, alert rules included, against the same naive loop.
"""

import argparse
import json
import os
import time
from collections import Counter
from datetime import date

from _setup import django_ready, ensure_city


def naive_minimal(pupil_ids, as_of):
    """The first baseline (kept for comparison): city-wide possible/attended and band only,
    a small part of what the nightly job writes."""
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


def _naive_row(first=None, last=None, summary_rows=False, **figures):
    return {"possible": 0, "attended": 0, "authorised": 0, "unauthorised": 0,
            "recent_possible": 0, "recent_attended": 0, "code_counts": Counter(),
            "first_marked": first, "last_marked": last, "from_summary_rows": summary_rows,
            **figures}


def naive_reclassify(pupil_ids, as_of):
    """The baseline: the same summaries and band history as ``pupils_reclassify`` (per school
    and city-wide: the four figures, code counts, first and last marked, the recent window, the
    projection, totals-only schools), pupil by pupil through the ORM, as a first attempt would
    be written. It raises no alerts: it is compared with the run's summaries part
    (``summaries_seconds``), and, flattering it, with the whole run alerts included."""
    from attendance.bands import band_for
    from attendance.classification import _params
    from attendance.models import (
        AttendanceCode,
        BandHistory,
        PupilSummary,
        SessionMark,
        SummaryRecord,
    )

    codes = {c.code: c for c in AttendanceCode.objects.all()}
    p = _params(as_of)
    for pupil_id in pupil_ids:
        rows = {}
        for mark in SessionMark.objects.filter(pupil_id=pupil_id, date__gte=p["year_start"],
                                               date__lte=as_of).order_by("date"):
            row = rows.setdefault(mark.school_id, _naive_row(first=mark.date))
            row["last_marked"] = mark.date
            for code in (mark.am, mark.pm):
                if not code:
                    continue
                flags, recent = codes[code], mark.date >= p["recent_start"]
                row["code_counts"][code] += 1
                row["possible"] += flags.counts_as_possible
                row["attended"] += flags.counts_as_attended
                row["authorised"] += flags.category == "authorised"
                row["unauthorised"] += flags.category == "unauthorised"
                row["recent_possible"] += recent and flags.counts_as_possible
                row["recent_attended"] += recent and flags.counts_as_attended
        rows = {school: row for school, row in rows.items() if row["code_counts"]}
        for record in SummaryRecord.objects.filter(pupil_id=pupil_id,
                                                   date_from__gte=p["year_start"],
                                                   date_to__lte=as_of).order_by("date_from"):
            if record.school_id in rows and not rows[record.school_id]["from_summary_rows"]:
                continue  # marks win over totals
            row = rows.setdefault(record.school_id, _naive_row(first=record.date_from,
                                                               summary_rows=True))
            row["last_marked"] = max(row["last_marked"] or record.date_to, record.date_to)
            for name in ("possible", "attended", "authorised", "unauthorised"):
                row[name] += getattr(record, name)
        if not rows:
            continue
        city = _naive_row(summary_rows=all(r["from_summary_rows"] for r in rows.values()))
        for row in rows.values():
            for name in ("possible", "attended", "authorised", "unauthorised",
                         "recent_possible", "recent_attended"):
                city[name] += row[name]
            city["code_counts"] += row["code_counts"]
        city["first_marked"] = min(r["first_marked"] for r in rows.values())
        city["last_marked"] = max(r["last_marked"] for r in rows.values())
        for school_id, row in [*rows.items(), (None, city)]:
            a, ps, ra, rp = (row["attended"], row["possible"], row["recent_attended"],
                             row["recent_possible"])
            band = band_for(attended=a, possible=ps)
            PupilSummary.objects.update_or_create(
                pupil_id=pupil_id, school_id=school_id, academic_year=p["year"],
                defaults={**row, "code_counts": dict(row["code_counts"]), "as_of": as_of,
                          "band": band, "recent_band": band_for(attended=ra, possible=rp),
                          "projected_band": band if rp == 0 else band_for(
                              attended=a * rp + p["left"] * ra, possible=(ps + p["left"]) * rp)})
        PupilSummary.objects.filter(pupil_id=pupil_id, academic_year=p["year"]).exclude(
            school_id__in=[s for s in rows]).exclude(school_id=None).delete()
        latest = (BandHistory.objects.filter(pupil_id=pupil_id, academic_year=p["year"],
                                             changed_on__lt=as_of)
                  .order_by("-changed_on").first())
        band = band_for(attended=city["attended"], possible=city["possible"])
        if (latest.to_band if latest else None) != band and (latest or band is not None):
            BandHistory.objects.update_or_create(
                pupil_id=pupil_id, academic_year=p["year"], changed_on=as_of,
                defaults={"from_band": latest.to_band if latest else None, "to_band": band,
                          "possible": city["possible"], "attended": city["attended"]})


SUMMARY_FIELDS = ("pupil_id", "school_id", "possible", "attended", "authorised", "unauthorised",
                  "code_counts", "first_marked", "last_marked", "from_summary_rows", "band",
                  "recent_possible", "recent_attended", "recent_band", "projected_band")


def _summaries_of(pupil_ids, year):
    from attendance.models import PupilSummary

    return sorted(PupilSummary.objects.filter(pupil_id__in=pupil_ids, academic_year=year)
                  .values_list(*SUMMARY_FIELDS), key=lambda r: (r[0], r[1] or 0))


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
                  .distinct()[: args.naive_sample])
    year = AcademicYear.start_year_for(as_of)
    pupils_reclassify(as_of=as_of)  # the city's summaries again (the school run above wrote
    ours = _summaries_of(sample, year)  # its pupils only): what the naive loop must reproduce
    with transaction.atomic():
        # The naive loop writes from scratch: its sample's summaries and today's history go.
        from attendance.models import BandHistory, PupilSummary

        PupilSummary.objects.filter(pupil_id__in=sample).delete()
        BandHistory.objects.filter(pupil_id__in=sample, changed_on=as_of).delete()
        started = time.perf_counter()
        naive_reclassify(sample, as_of)
        naive_seconds = time.perf_counter() - started
        naive = _summaries_of(sample, year)
        transaction.set_rollback(True)
    mismatched = (sum(a != b for a, b in zip(ours, naive, strict=False))
                  + abs(len(ours) - len(naive)))
    started = time.perf_counter()
    with transaction.atomic():
        naive_minimal(sample, as_of)
        transaction.set_rollback(True)
    minimal_seconds = time.perf_counter() - started
    naive_rate = len(sample) / naive_seconds
    ours_rate = cold.pupils / cold_seconds
    # Like for like: the naive loop writes summaries, bands and band history, which is the
    # run's first part; the alert rules come after it (cold.alerts_seconds).
    ours_summaries_rate = cold.pupils / cold.summaries_seconds

    print(json.dumps({
        "as_of": as_of.isoformat(),
        "pupils": cold.pupils,
        "marks": marks,
        "seconds": round(cold_seconds, 2),
        "rerun_seconds": round(seconds, 2),
        "rerun_changed": result.changed,
        "summaries_seconds": round(cold.summaries_seconds, 2),
        "alerts_seconds": round(cold.alerts_seconds, 2),
        "pupils_per_s": round(ours_rate),
        "summaries_pupils_per_s": round(ours_summaries_rate),
        "naive_pupils_per_s": round(naive_rate, 1),
        "speedup_vs_naive": round(ours_summaries_rate / naive_rate, 1),
        "speedup_vs_naive_with_our_alerts": round(ours_rate / naive_rate, 1),
        "naive_summaries": len(naive), "naive_summaries_differing": mismatched,
        "naive_minimal_pupils_per_s": round(len(sample) / minimal_seconds, 1),
        "speedup_vs_naive_minimal": round(ours_rate * minimal_seconds / len(sample), 1),
        "school_pupils": biggest["n"],
        "school_seconds": round(school_seconds, 3),
        "cold_delete_seconds": round(cold_delete, 2),
        "load_average": [round(x, 1) for x in os.getloadavg()],
        "targets": {"seconds": 120 if args.large else 20, "speedup_vs_naive": 100,
                    "school_seconds": 1},
    }))


if __name__ == "__main__":
    main()
