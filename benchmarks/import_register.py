"""Register import throughput; prints ONE JSON line.

    PORTAL_DEV=1 PORTAL_DATA_DIR=/tmp/portal-imports .venv/bin/python \
        benchmarks/import_register.py [--city]

Runs in its own database (bench_import_register, created fresh, dropped at the end) on the
configured PostgreSQL server, so the development data is untouched.

- marks_per_s: end to end (store + sha256 + parse + validate + COPY + upsert + commit) for a
  1,500-pupil secondary's full year as a long CSV (~570,000 marks).
- read_seconds / load_seconds: the part of the first import spent reading and checking the
  file (parse + validate, no database writes) and the rest (staging COPY, upsert, commit).
- copy_marks_per_s: a raw COPY (CSV text) of the same resolved rows into an empty table shaped
  like attendance_sessionmark with its keys (CREATE TABLE … LIKE … INCLUDING ALL: the primary
  key (pupil, date, school), the (school, date) index and the check). ratio_vs_copy =
  marks_per_s / copy_marks_per_s is the figure issue 4 sets at ≥ 1/3 (docs/decisions.md).
- copy_bare_marks_per_s: the same COPY into a bare heap (no key, no index, no check), printed
  for honesty with ratio_vs_bare_copy: no store that must refuse a second mark for a session
  can be loaded like that.
- import_export_marks_per_s: django-import-export's row-by-row SessionMarkResource on a sample.
- reimport_seconds, reimport_rows_written: the same file again (0 rows written).
- peak_rss_mb: peak memory (ru_maxrss) of a subprocess importing a 2,000,000-mark file
  (--memory-marks 14000000 makes it a ~200 MB CSV).
- city_marks_seconds (with --city): demo_marks_generate for the 40,500-pupil demo city.

Targets (issue 4): ≥150,000 marks/s end to end and ≥1/3 of the raw COPY rate; ≥50× import-export;
re-import no slower than the first; peak ≤1 GB; the city's year ≤ 3 minutes. load_avg_1m_* give
the machine's load next to each phase: on a shared machine the figures move with it.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
BENCH_DB = "bench_import_register"


def django_ready():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("PORTAL_DEV", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attendance_portal.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def fresh_database():
    from django.db import connection

    connection.settings_dict.setdefault("TEST", {})["NAME"] = BENCH_DB
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)


def drop_database(old_name):
    from django.db import connection

    connection.creation.destroy_test_db(old_name, verbosity=0)


def term_dates():
    from schools.models import AcademicYear, Term

    year, _ = AcademicYear.objects.get_or_create(
        start_year=2025, defaults={"start_date": date(2025, 9, 1), "end_date": date(2026, 8, 31)})
    for name, start, end, hts, hte in [
        ("autumn", date(2025, 9, 3), date(2025, 12, 19), date(2025, 10, 27), date(2025, 10, 31)),
        ("spring", date(2026, 1, 5), date(2026, 3, 27), date(2026, 2, 16), date(2026, 2, 20)),
        ("summer", date(2026, 4, 13), date(2026, 7, 22), date(2026, 5, 25), date(2026, 5, 29)),
    ]:
        Term.objects.get_or_create(academic_year=year, name=name, defaults={
            "start_date": start, "end_date": end, "half_term_start": hts, "half_term_end": hte})
    return year


def make_school(urn: str, estab: str, pupils: int, first_serial: int):
    """A secondary with ``pupils`` pupils on roll all year (valid UPNs, one enrolment each)."""
    from stdnum.gb import upn as upn_checker

    from pupils.models import Characteristics, Enrolment, Pupil
    from schools.models import School

    school = School.objects.create(urn=urn, la_code="879", establishment_number=estab,
                                   name=f"Benchmark {urn}", phase="secondary")
    people = []
    for i in range(first_serial, first_serial + pupils):
        body = f"879{7000 + i // 1000:04d}{10 + (i // 100) % 10:02d}{i % 1000:03d}"
        people.append(Pupil(upn=upn_checker.calc_check_digit(body) + body, surname="Bench",
                            forename=str(i), date_of_birth=date(2012, 1, 1), sex="F"))
    people = Pupil.objects.bulk_create(people, batch_size=5000)
    Enrolment.objects.bulk_create([Enrolment(pupil=p, school=school, start_date=date(2020, 9, 1))
                                   for p in people], batch_size=5000)
    Characteristics.objects.bulk_create([
        Characteristics(pupil=p, effective_date=date(2025, 10, 2), year_group=str(7 + i % 5),
                        fsm=i % 4 == 0) for i, p in enumerate(people)], batch_size=5000)
    return school, people


def year_of_marks(school, people, year, seed=1):
    """(DataFrame of UPN/Date/AM/PM, resolved rows) for every school day of 2025/26."""
    import numpy as np
    import pandas as pd

    from attendance.demo import _school_days, _school_marks, day_date
    from attendance.importers.validate import CodeTable

    codes = CodeTable.load().codes
    code_of = {c: i for i, c in enumerate(codes) if c}
    days = _school_days(year, date(2026, 11, 23))
    group = pd.DataFrame({"pupil_id": [p.pk for p in people], "fsm": [i % 4 == 0 for i in
                                                                      range(len(people))],
                          "sen": "N", "cin": False, "cp": False, "cla": False,
                          "year_group": [str(7 + i % 5) for i in range(len(people))],
                          "registration": "C"})
    am, pm = _school_marks(np.random.default_rng(seed), group, "secondary", days, year, code_of)
    n, t = am.shape
    text = np.array(codes, dtype=object)
    dates = np.array([day_date(d).strftime("%d/%m/%Y") for d in days], dtype=object)
    iso = np.array([day_date(d).isoformat() for d in days], dtype=object)
    upns = np.array([p.upn for p in people], dtype=object)
    frame = pd.DataFrame({"UPN": np.repeat(upns, t), "Date": np.tile(dates, n),
                          "AM": text[am.reshape(-1)], "PM": text[pm.reshape(-1)]})
    resolved = pd.DataFrame({"pupil_id": np.repeat([p.pk for p in people], t),
                             "school_id": school.pk, "date": np.tile(iso, n),
                             "am": text[am.reshape(-1)], "pm": text[pm.reshape(-1)]})
    return frame, resolved


READ_SECONDS: list[float] = []


def read_timed():
    """Wrap the reader the import service calls, to split read (parse + validate) from load."""
    import attendance.services as services

    real = services.read_register

    def timed(**kwargs):
        started = time.perf_counter()
        try:
            return real(**kwargs)
        finally:
            READ_SECONDS.append(time.perf_counter() - started)

    services.read_register = timed


def import_file(path: Path, school) -> tuple[object, float]:
    from attendance.services import (
        register_import_apply,
        register_import_claim,
        register_import_create,
    )

    READ_SECONDS.clear()
    started = time.perf_counter()
    with open(path, "rb") as fh:
        run = register_import_create(file=fh, filename=path.name, school=school, user=None,
                                     enqueue=False)
    register_import_claim(run_id=run.pk)
    run = register_import_apply(run_id=run.pk)
    return run, time.perf_counter() - started


def raw_copy(resolved, *, keyed: bool) -> float:
    from django.db import connection, transaction

    buffer = io.StringIO()
    resolved.to_csv(buffer, index=False, header=False)
    data = buffer.getvalue().encode()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy")
        if keyed:
            cursor.execute("CREATE TABLE bench_copy (LIKE attendance_sessionmark INCLUDING ALL)")
        else:
            cursor.execute("CREATE TABLE bench_copy (pupil_id bigint, school_id bigint, "
                           "date date, am varchar(2), pm varchar(2))")
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        with cursor.cursor.copy("COPY bench_copy (pupil_id, school_id, date, am, pm) FROM STDIN "
                                "(FORMAT csv)") as copy:
            copy.write(data)
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_copy")
    return seconds


def import_export_rate(school, people, year, marks: int) -> tuple[float, int]:
    import tablib

    from attendance.admin import SessionMarkResource

    frame, resolved = year_of_marks(school, people, year, seed=3)
    sample = resolved.iloc[: marks // 2]
    dataset = tablib.Dataset(headers=["pupil", "school", "date", "am", "pm"])
    for rec in sample.itertuples(index=False):
        dataset.append([rec.pupil_id, rec.school_id, rec.date, rec.am, rec.pm])
    started = time.perf_counter()
    result = SessionMarkResource().import_data(dataset, dry_run=False, raise_errors=True)
    seconds = time.perf_counter() - started
    assert not result.has_errors()
    n_marks = int(sample.am.astype(bool).sum() + sample.pm.astype(bool).sum())
    return n_marks / seconds, n_marks


CHILD = r"""
import json, os, resource, sys, time
sys.path.insert(0, sys.argv[3])
import django
django.setup()
import attendance.services as services
from attendance.services import register_import_apply, register_import_claim, register_import_create
services.school_summaries_refresh = lambda **kwargs: None  # queued work, not the import
from schools.models import School
started = time.perf_counter()
with open(sys.argv[1], "rb") as fh:
    run = register_import_create(file=fh, filename="big.csv",
                                 school=School.objects.get(urn=sys.argv[2]), user=None,
                                 enqueue=False)
register_import_claim(run_id=run.pk)
run = register_import_apply(run_id=run.pk)
print(json.dumps({"status": run.status, "marks": run.marks, "inserted": run.inserted,
                  "seconds": time.perf_counter() - started,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def peak_memory(path: Path, urn: str, media: str) -> dict:
    from django.db import connection

    host = connection.settings_dict["HOST"]
    url = (f"postgres://{connection.settings_dict['USER']}@{quote(host, safe='')}/"
           f"{connection.settings_dict['NAME']}" if host.startswith("/") else
           f"postgres://{connection.settings_dict['USER']}:{connection.settings_dict['PASSWORD']}"
           f"@{host}:{connection.settings_dict['PORT'] or 5432}/{connection.settings_dict['NAME']}")
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": "redis://127.0.0.1:1/0",
           "MEDIA_ROOT": media, "DJANGO_SETTINGS_MODULE": "attendance_portal.settings"}
    out = subprocess.run([sys.executable, "-c", CHILD, str(path), urn, str(ROOT)], env=env,
                         capture_output=True, text=True, check=True, cwd=str(ROOT))
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if result["status"] != "applied":
        result["stderr"] = out.stderr[-3000:]
    return result


def city(seed: int) -> dict:
    from unittest import mock

    from attendance.demo import demo_marks_generate
    from pupils.demo import demo_city_generate, demo_city_reset
    from schools.models import AcademicYear

    demo_city_reset()
    with mock.patch("django.utils.timezone.localdate", return_value=date(2026, 11, 23)):
        demo_city_generate(pupils=40500, seed=seed)
        year = AcademicYear.objects.get(start_year=2025)
        started = time.perf_counter()
        marks = demo_marks_generate(academic_year=year, seed=seed)
        seconds = time.perf_counter() - started
    return {"city_marks": marks, "city_marks_seconds": round(seconds, 1),
            "city_marks_per_s": round(marks / seconds)}


def memory_run(args, year, days: int, tmp: Path) -> dict:
    rows_needed = args.memory_marks // 2
    big_pupils = -(-rows_needed // days)
    big_school, big_people = make_school("900003", "7003", big_pupils, 10000)
    big_frame, _ = year_of_marks(big_school, big_people, year, seed=2)
    big_frame = big_frame.iloc[:rows_needed]
    big_path = tmp / "big.csv"
    big_frame.to_csv(big_path, index=False)
    del big_frame
    child = peak_memory(big_path, "900003", str(tmp / "media-child"))
    out = {"memory_file_marks": child["marks"],
           "memory_file_mb": round(big_path.stat().st_size / 1e6, 1),
           "memory_import_status": child["status"],
           "memory_import_marks_per_s": round(child["marks"] / child["seconds"]),
           "peak_rss_mb": round(child["maxrss_mb"])}
    if "stderr" in child:
        out["memory_import_stderr"] = child["stderr"]
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pupils", type=int, default=1500)
    parser.add_argument("--memory-marks", type=int, default=2_000_000)
    parser.add_argument("--ie-marks", type=int, default=10_000)
    parser.add_argument("--city", action="store_true", help="also time the demo city's year")
    parser.add_argument("--memory-only", action="store_true", help="only the peak-memory run")
    args = parser.parse_args()
    django_ready()
    from django.db import connection

    import attendance.services as services

    # The refresh after an import is queued work for a worker (issue 5), not part of the import.
    services.school_summaries_refresh = lambda **kwargs: None
    read_timed()

    old_name = connection.settings_dict["NAME"]
    fresh_database()
    out: dict = {"load_avg_1m_start": round(os.getloadavg()[0], 1), "cpus": os.cpu_count()}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp, \
                __import__("django.test.utils", fromlist=["override_settings"]).override_settings(
                    MEDIA_ROOT=tmp):
            from unittest import mock

            tmp = Path(tmp)
            year = term_dates()
            school, people = make_school("900001", "7001", args.pupils, 0)
            frame, resolved = year_of_marks(school, people, year)
            path = tmp / "year.csv"
            frame.to_csv(path, index=False)
            if args.memory_only:
                out.update(memory_run(args, year, len(frame) // args.pupils, tmp))
            else:
                load_at_import = round(os.getloadavg()[0], 1)
                with mock.patch("django.utils.timezone.localdate", return_value=date(2026, 11, 23)):
                    run, seconds = import_file(path, school)
                    assert run.status == "applied", run.errors[:3]
                    read_seconds = sum(READ_SECONDS)
                    again, again_seconds = import_file(path, school)
                out.update({
                    "file_mb": round(path.stat().st_size / 1e6, 1), "rows": run.rows,
                    "marks": run.marks, "load_avg_1m_import": load_at_import,
                    "seconds": round(seconds, 2), "read_seconds": round(read_seconds, 2),
                    "load_seconds": round(seconds - read_seconds, 2),
                    "marks_per_s": round(run.marks / seconds),
                    "reimport_seconds": round(again_seconds, 2),
                    "reimport_rows_written": again.inserted + again.updated,
                    "reimport_unchanged": again.unchanged,
                })
                # The same first import through INSERT … ON CONFLICT only (FRESH_PLAIN_INSERT off).
                from django.db import connection as conn

                from attendance import loading
                with conn.cursor() as cursor:
                    cursor.execute("TRUNCATE attendance_sessionmark")
                loading.FRESH_PLAIN_INSERT = False
                try:
                    with mock.patch("django.utils.timezone.localdate",
                                    return_value=date(2026, 11, 23)):
                        upsert_run, upsert_seconds = import_file(path, school)
                finally:
                    loading.FRESH_PLAIN_INSERT = True
                assert upsert_run.inserted == run.inserted
                out["marks_per_s_on_conflict_only"] = round(upsert_run.marks / upsert_seconds)
                out["load_avg_1m_copy"] = round(os.getloadavg()[0], 1)
                copy_s = raw_copy(resolved, keyed=True)
                bare_s = raw_copy(resolved, keyed=False)
                out["copy_marks_per_s"] = round(run.marks / copy_s)
                out["copy_bare_marks_per_s"] = round(run.marks / bare_s)
                out["ratio_vs_copy"] = round(out["marks_per_s"] / out["copy_marks_per_s"], 2)
                out["ratio_vs_bare_copy"] = round(
                    out["marks_per_s"] / out["copy_bare_marks_per_s"], 2)

                out["load_avg_1m_import_export"] = round(os.getloadavg()[0], 1)
                ie_school, ie_people = make_school("900002", "7002", 200, 5000)
                ie_rate, ie_marks = import_export_rate(ie_school, ie_people, year, args.ie_marks)
                out["import_export_marks"] = ie_marks
                out["import_export_marks_per_s"] = round(ie_rate)
                out["speedup_vs_import_export"] = round(out["marks_per_s"] / ie_rate, 1)

                out["load_avg_1m_memory"] = round(os.getloadavg()[0], 1)
                out.update(memory_run(args, year, len(frame) // args.pupils, tmp))
                if args.city:
                    out["load_avg_1m_city"] = round(os.getloadavg()[0], 1)
                    out.update(city(seed=2026))
    finally:
        drop_database(old_name)
    out["load_avg_1m_end"] = round(os.getloadavg()[0], 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
