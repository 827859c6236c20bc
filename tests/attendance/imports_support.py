"""Helpers for the register-import tests: a school year, pupils on roll, files and a runner.

Imported by the test_import_* modules (not a conftest, so it cannot clash with other apps'
fixtures). Dates are in 2025/26, whose terms come from tests.factories.academic_year_2025().
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest

from attendance.models import ImportRun
from attendance.services import register_import_apply, register_import_claim, register_import_create
from tests.factories import EnrolmentFactory, PupilFactory, academic_year_2025, make_upn

TODAY = date(2026, 11, 23)
# School days in the autumn term of 2025/26 (term starts Wednesday 3 September 2025)
WED, THU, FRI = date(2025, 9, 3), date(2025, 9, 4), date(2025, 9, 5)
MON = date(2025, 9, 8)
SAT = date(2025, 9, 6)
HALF_TERM = date(2025, 10, 28)
NO_TERMS_DAY = date(2015, 9, 9)  # a Wednesday in a year with no term dates


def d(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def reference_codes_ensure() -> None:
    """Put the code reference data back if a transactional test elsewhere flushed it (Django's
    flush empties data-migration rows, and --reuse-db keeps the database between runs)."""
    import importlib

    from django.apps import apps

    from attendance.models import AttendanceCode

    if not AttendanceCode.objects.exists():
        importlib.import_module("attendance.migrations.0002_attendance_codes").load(apps, None)


@pytest.fixture(autouse=True)
def reference_codes(db):
    reference_codes_ensure()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def year(db):
    return academic_year_2025()


@pytest.fixture
def roll(db, school, year):
    """Three pupils on Hilltop's roll (UPNs from make_upn with serials 501-503)."""
    pupils = []
    for serial in (501, 502, 503):
        p = PupilFactory(upn=make_upn(serial))
        EnrolmentFactory(pupil=p, school=school, start_date=date(2020, 9, 1))
        pupils.append(p)
    return pupils


def write(tmp_path: Path, name: str, text: str | bytes, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_bytes(text.encode(encoding))
    else:
        path.write_bytes(text)
    return path


def run_import(path: Path, *, school=None, user=None, mode=ImportRun.Mode.ALL_OR_NOTHING,
               filename: str | None = None, today: date = TODAY) -> ImportRun:
    with open(path, "rb") as fh:
        run = register_import_create(file=io.BytesIO(fh.read()), filename=filename or path.name,
                                     school=school, user=user, mode=mode, enqueue=False)
    assert register_import_claim(run_id=run.id)
    return register_import_apply(run_id=run.id, today=today)


def only_error(run: ImportRun) -> dict:
    assert run.error_count == 1, run.errors
    return run.errors[0]


def long_csv(rows, header="UPN,Date,AM,PM", sep=",") -> str:
    """rows: (upn, day, am, pm) tuples."""
    lines = [header] + [sep.join([upn, d(day) if isinstance(day, date) else day, am, pm])
                        for upn, day, am, pm in rows]
    return "\n".join(lines) + "\n"


def ctf_xml(school, pupils, *, start: date, lea=None, estab=None, possible=None,
            doctype: str = "") -> str:
    """A CTF with one YearData per pupil. pupils: (upn, marks string) pairs."""
    lea = lea or school.la_code
    estab = estab or school.establishment_number
    body = []
    for upn, marks in pupils:
        stated = (possible if possible is not None
                  else sum(1 for ch in marks if ch not in "#DXZ"))
        body.append(f"""
    <Pupil>
      <UPN>{upn}</UPN><Surname>Test</Surname><Forename>Pupil</Forename><DOB>2015-03-14</DOB>
      <Sex>F</Sex>
      <Attendance>
        <YearData>
          <Year>{start.year}</Year><LEA>{lea}</LEA><Estab>{estab}</Estab>
          <SessionsPossible>{stated}</SessionsPossible>
          <SessionsAuthorised>0</SessionsAuthorised><SessionsAttended>0</SessionsAttended>
          <SessionsUnauthorised>0</SessionsUnauthorised>
          <AttendSessions>
            <AttendanceStartDate>{start.isoformat()}</AttendanceStartDate>
            <AttendanceMarks>{marks}</AttendanceMarks>
          </AttendSessions>
        </YearData>
      </Attendance>
    </Pupil>""")
    return f"""<?xml version="1.0" encoding="UTF-8"?>{doctype}
<CTfile>
  <Header>
    <DocumentName>Common Transfer File</DocumentName><CTFversion>20.0</CTFversion>
    <DateTime>2026-01-10T10:00:00</DateTime>
    <SourceSchool><LEA>{school.la_code}</LEA><Estab>{school.establishment_number}</Estab>
      <SchoolName>{school.name}</SchoolName><AcademicYear>2025</AcademicYear></SourceSchool>
  </Header>
  <CTFpupilData>{''.join(body)}
  </CTFpupilData>
</CTfile>
"""


def xlsx_bytes(rows, title="Register") -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def marks_of(pupil, school=None):
    from attendance.models import SessionMark

    rows = SessionMark.objects.filter(pupil=pupil)
    if school is not None:
        rows = rows.filter(school=school)
    return {m.date: (m.am, m.pm) for m in rows}
