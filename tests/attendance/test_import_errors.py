"""Every bad input is reported at its file, line and column, with a message saying how to fix."""

import io
import zipfile
from datetime import date

import pytest

from attendance.models import SessionMark
from pupils.models import Enrolment
from schools.models import ClosureDay
from tests.attendance.imports_support import *  # noqa: F403 (fixtures)
from tests.attendance.imports_support import (
    FRI,
    HALF_TERM,
    NO_TERMS_DAY,
    SAT,
    THU,
    TODAY,
    WED,
    ctf_xml,
    d,
    long_csv,
    only_error,
    run_import,
    write,
)
from tests.factories import PupilFactory, make_upn


def rejected(tmp_path, school, text, name="reg.csv", **kwargs):
    run = run_import(write(tmp_path, name, text), school=school, **kwargs)
    assert run.status == "rejected"
    assert SessionMark.objects.count() == 0
    return run


def test_it_reports_an_unknown_code_at_its_line_and_column(tmp_path, school, roll):
    a, b, _ = roll
    text = long_csv([(a.upn, WED, "/", "\\"), (b.upn, WED, "/", "QQ")])
    error = only_error(rejected(tmp_path, school, text))
    assert (error["file"], error["line"], error["column"], error["value"]) == (
        "reg.csv", 3, "PM", "QQ")
    assert error["message"].startswith("03/09/2025 PM: 'QQ' is not a register code. Use a DfE")


def test_it_reports_an_invalid_upn_check_letter(tmp_path, school, roll):
    a, _, _ = roll
    wrong = ("B" if a.upn[0] != "B" else "C") + a.upn[1:]
    error = only_error(rejected(tmp_path, school, long_csv([(wrong, WED, "/", "\\")])))
    assert (error["line"], error["column"], error["value"]) == (2, "UPN", wrong)
    assert "is not a valid UPN" in error["message"] and "check" in error["message"]


def test_it_reports_a_pupil_the_portal_does_not_know(tmp_path, school, roll):
    stranger = make_upn(999)
    error = only_error(rejected(tmp_path, school, long_csv([(stranger, WED, "/", "\\")])))
    assert (error["line"], error["column"], error["value"]) == (2, "UPN", stranger)
    assert "No pupil with UPN" in error["message"]


def test_it_reports_a_pupil_not_on_this_schools_roll_that_day(tmp_path, school, roll):
    a, _, _ = roll
    Enrolment.objects.filter(pupil=a).update(end_date=WED)
    text = long_csv([(a.upn, WED, "/", "\\"), (a.upn, THU, "/", "\\")])
    error = only_error(rejected(tmp_path, school, text))
    assert (error["line"], error["column"], error["value"]) == (3, "Date", d(THU))
    assert "only for 01/09/2020–03/09/2025" in error["message"]


def test_it_reports_a_pupil_of_another_school(tmp_path, school, roll, other_pupil):
    error = only_error(rejected(tmp_path, school, long_csv([(other_pupil.upn, WED, "/", "\\")])))
    assert (error["line"], error["column"]) == (2, "Date")
    assert "has no enrolment at Hilltop Primary" in error["message"]


def test_it_accepts_z_for_a_pupil_not_yet_on_roll(tmp_path, school, year):
    newcomer = PupilFactory(upn=make_upn(601))
    Enrolment.objects.create(pupil=newcomer, school=school, start_date=THU)
    run = run_import(write(tmp_path, "z.csv", long_csv([(newcomer.upn, WED, "Z", "Z"),
                                                        (newcomer.upn, THU, "/", "\\")])),
                     school=school)
    assert run.status == "applied", run.errors


@pytest.mark.parametrize(("day", "expected"), [
    (SAT, "is a Saturday; there are no sessions at weekends"),
    (HALF_TERM, "is in the autumn half term (27/10/2025–31/10/2025)"),
    (NO_TERMS_DAY, "which has no term dates in the portal"),
    (date(2025, 12, 24), "is outside term time"),
    (date(2026, 11, 30), "is in the future"),
])
def test_it_reports_days_without_sessions(tmp_path, school, roll, day, expected):
    a, _, _ = roll
    text = long_csv([(a.upn, WED, "/", "\\"), (a.upn, day, "/", "\\")])
    error = only_error(rejected(tmp_path, school, text))
    assert (error["line"], error["column"], error["value"]) == (3, "Date", d(day))
    assert expected in error["message"]


def test_it_reports_closure_days_for_all_schools_and_for_one(tmp_path, school, roll):
    a, _, _ = roll
    ClosureDay.objects.create(date=THU, reason="INSET day", school=school)
    ClosureDay.objects.create(date=FRI, reason="Bank holiday", school=None)
    text = long_csv([(a.upn, WED, "/", "\\"), (a.upn, THU, "/", "\\"), (a.upn, FRI, "/", "\\")])
    run = rejected(tmp_path, school, text)
    assert [(e["line"], e["column"]) for e in run.errors] == [(3, "Date"), (4, "Date")]
    assert "closure day at this school (INSET day)" in run.errors[0]["message"]
    assert "closure day for all schools (Bank holiday)" in run.errors[1]["message"]


def test_it_reports_a_date_that_is_not_a_date(tmp_path, school, roll):
    a, _, _ = roll
    error = only_error(rejected(tmp_path, school, long_csv([(a.upn, "31/09/2025", "/", "\\")])))
    assert (error["line"], error["column"], error["value"]) == (2, "Date", "31/09/2025")
    assert "dd/mm/yyyy" in error["message"]


def test_it_rejects_two_different_marks_for_one_session_and_names_both_lines(
        tmp_path, school, roll):
    a, _, _ = roll
    text = long_csv([(a.upn, WED, "/", "\\"), (a.upn, THU, "/", "\\"), (a.upn, WED, "I", "\\")])
    error = only_error(rejected(tmp_path, school, text))
    assert (error["line"], error["column"], error["value"]) == (4, "AM", "I")
    assert "'I' here but '/' on line 2" in error["message"]
    assert "Neither was imported" in error["message"]


def test_it_counts_exact_duplicate_rows_once_and_says_they_are_harmless(tmp_path, school, roll):
    a, _, _ = roll
    text = long_csv([(a.upn, WED, "/", "\\"), (a.upn, WED, "/", "\\")])
    run = run_import(write(tmp_path, "dup.csv", text), school=school)
    assert run.status == "applied"
    assert (run.marks, run.inserted, run.error_count) == (4, 2, 0)
    assert "Exact repeats are harmless" in run.warnings[0]["message"]


def test_it_names_a_missing_required_column(tmp_path, school, roll):
    a, _, _ = roll
    error = only_error(rejected(tmp_path, school, f"UPN,AM,PM\n{a.upn},/,\\\n"))
    assert (error["line"], error["column"]) == (1, "Date")
    assert "needs a 'Date' column" in error["message"]
    error = only_error(rejected(tmp_path, school, f"Pupil,Date,AM,PM\nx,{d(WED)},/,\\\n"))
    assert (error["line"], error["column"]) == (1, "UPN")
    assert "no header row with a UPN column" in error["message"]


@pytest.mark.parametrize("content", ["", "\n\n", "UPN,Date,AM,PM\n"])
def test_it_rejects_an_empty_file(tmp_path, school, roll, content):
    error = only_error(rejected(tmp_path, school, content))
    assert "empty" in error["message"] or "no data rows" in error["message"]


def test_it_rejects_an_image_renamed_csv(tmp_path, school, roll):
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    error = only_error(rejected(tmp_path, school, png, name="register.csv"))
    assert error["message"].startswith("'register.csv' is a PNG image, not a register export")


def test_it_rejects_a_workbook_named_csv(tmp_path, school, roll):
    from tests.attendance.imports_support import xlsx_bytes

    error = only_error(rejected(tmp_path, school, xlsx_bytes([["UPN"]]), name="register.csv"))
    assert "is named as a .csv file but is a zip container" in error["message"]


def test_it_refuses_a_zip_bomb_before_opening_the_workbook(tmp_path, school, roll, monkeypatch):
    import openpyxl

    def never(*args, **kwargs):
        raise AssertionError("openpyxl must not open a zip bomb")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bomb:
        bomb.writestr("[Content_Types].xml", "<Types/>")
        bomb.writestr("xl/workbook.xml", "<workbook/>")
        bomb.writestr("xl/worksheets/sheet1.xml", b"\x00" * (20 * 1024 * 1024))
    error = only_error(rejected(tmp_path, school, buffer.getvalue(), name="register.xlsx"))
    assert "zip bomb" in error["message"] and "xl/worksheets/sheet1.xml" in error["message"]


def test_it_refuses_xml_with_a_dtd_or_external_entities(tmp_path, school, roll):
    a, _, _ = roll
    doctype = '\n<!DOCTYPE CTfile [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    xml = ctf_xml(school, [(a.upn, "####&x;")], start=date(2025, 9, 1), doctype=doctype)
    error = only_error(rejected(tmp_path, school, xml, name="ctf.xml"))
    assert "declares a DTD or entities" in error["message"]


def test_it_refuses_xml_that_is_not_a_ctf(tmp_path, school, roll):
    error = only_error(rejected(tmp_path, school, "<?xml version='1.0'?><svg></svg>",
                                name="ctf.xml"))
    assert "not a CTF" in error["message"]


def test_it_rejects_ctf_characters_it_cannot_map_with_date_and_session(tmp_path, school, roll):
    a, _, _ = roll
    # Wednesday AM is 'C', PM '1': a two-character code (C1) written into the string.
    xml = ctf_xml(school, [(a.upn, "####C1//")], start=date(2025, 9, 1))
    run = rejected(tmp_path, school, xml, name="ctf.xml")
    error = only_error(run)
    assert (error["column"], error["value"]) == ("AttendanceMarks", "1")
    assert error["message"].startswith("03/09/2025 PM: '1' is not a register code")
    assert "two-character codes" in error["message"]
    marks_line = next(i for i, line in enumerate(xml.splitlines(), 1) if "<AttendanceMarks>" in line)
    assert error["line"] == marks_line


def test_it_rejects_a_ctf_for_another_school(tmp_path, school, other_school, roll):
    a, _, _ = roll
    xml = ctf_xml(other_school, [(a.upn, "####//")], start=date(2025, 9, 1))
    error = only_error(rejected(tmp_path, school, xml, name="ctf.xml"))
    assert error["column"] == "SourceSchool" and "not from the school chosen" in error["message"]


def test_it_rejects_rows_for_another_school_than_the_one_chosen(tmp_path, school, other_school,
                                                                 roll):
    a, _, _ = roll
    text = f"URN,UPN,Date,AM,PM\n{other_school.urn},{a.upn},{d(WED)},/,\\\n"
    error = only_error(rejected(tmp_path, school, text))
    assert (error["line"], error["column"], error["value"]) == (2, "URN", other_school.urn)


def test_it_caps_stored_errors_and_keeps_the_total(tmp_path, school, roll):
    a, _, _ = roll
    rows = "".join(f"{a.upn},{d(WED)},Q{i % 10},\n" for i in range(1500))
    run = run_import(write(tmp_path, "many.csv", "UPN,Date,AM,PM\n" + rows), school=school)
    assert run.status == "rejected"
    assert len(run.errors) == 1000 and run.error_count == 1500


def test_it_uses_today_for_future_dates(tmp_path, school, roll):
    a, _, _ = roll
    run = run_import(write(tmp_path, "f.csv", long_csv([(a.upn, THU, "/", "\\")])),
                     school=school, today=WED)
    assert "is in the future" in only_error(run)["message"]
    assert TODAY > THU


def test_it_keeps_the_other_marks_and_counts_conflicts_in_apply_valid_mode(tmp_path, school,
                                                                           roll):
    a, b, _ = roll
    text = long_csv([(a.upn, WED, "/", "\\"), (b.upn, WED, "L", "\\"), (a.upn, WED, "I", "\\"),
                     (a.upn, WED, "/", "\\")])
    run = run_import(write(tmp_path, "r.csv", text), school=school, mode="apply_valid")
    assert run.status == "applied"
    # a's AM was given as '/', 'I', '/': rejected (3 marks); a's PM repeats are harmless.
    assert (run.marks, run.rejected, run.error_count, run.inserted) == (8, 3, 1, 3)
    assert run.errors[0]["line"] == 4 and run.errors[0]["value"] == "I"
    assert "2 marks repeat a mark" in run.warnings[0]["message"]
    from tests.attendance.imports_support import marks_of

    assert marks_of(a) == {WED: (None, "\\")}
    assert marks_of(b) == {WED: ("L", "\\")}
