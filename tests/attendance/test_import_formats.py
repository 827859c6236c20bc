"""Each accepted format, encoding and header spelling lands the same marks."""

from datetime import date

from attendance.models import SessionMark, SummaryRecord
from tests.attendance.imports_support import *  # noqa: F403 (fixtures)
from tests.attendance.imports_support import (
    THU,
    WED,
    ctf_xml,
    d,
    long_csv,
    marks_of,
    run_import,
    write,
    xlsx_bytes,
)


def test_it_imports_the_long_format(tmp_path, school, roll):
    a, b, c = roll
    text = long_csv([(a.upn, WED, "/", "\\"), (a.upn, THU, "I", "I"), (b.upn, WED, "L", "N")])
    run = run_import(write(tmp_path, "reg.csv", text), school=school)
    assert run.status == "applied", run.errors
    assert run.format_detected == "long"
    assert (run.rows, run.marks, run.inserted, run.updated, run.unchanged, run.rejected) == (
        3, 6, 6, 0, 0, 0)
    assert marks_of(a) == {WED: ("/", "\\"), THU: ("I", "I")}
    assert marks_of(b) == {WED: ("L", "N")}
    assert run.school_urns == [school.urn]


def test_it_imports_the_per_session_format_with_header_synonyms(tmp_path, school, roll):
    a, _, _ = roll
    text = ("Unique Pupil Number;Attendance_Date;AM/PM;Attendance Code\n"
            f"{a.upn};{d(WED)};AM;/\n{a.upn};{d(WED)};pm;M\n{a.upn};2025-09-04;AM;/\n")
    run = run_import(write(tmp_path, "sessions.csv", text), school=school)
    assert run.status == "applied", run.errors
    assert run.format_detected == "per_session"
    assert marks_of(a) == {WED: ("/", "M"), THU: ("/", None)}


def test_it_imports_the_wide_register_grid(tmp_path, school, roll):
    a, b, _ = roll
    text = (f"UPN,Surname,{d(WED)} AM,{d(WED)} PM,{d(THU)} AM,{d(THU)} PM\n"
            f"{a.upn},Smith,/,\\,I,I\n{b.upn},Jones,/,,,O\n")
    run = run_import(write(tmp_path, "grid.csv", text), school=school)
    assert run.status == "applied", run.errors
    assert run.format_detected == "wide"
    assert run.marks == 6
    assert marks_of(a) == {WED: ("/", "\\"), THU: ("I", "I")}
    assert marks_of(b) == {WED: ("/", None), THU: (None, "O")}


def test_it_imports_a_ctf_marks_string(tmp_path, school, roll):
    a, b, _ = roll
    # From Monday 1 September 2025: Mon/Tue are before term (#), Wed-Fri marks, weekend #.
    marks = "####" + "/\\" + "II" + "/L" + "####"
    xml = ctf_xml(school, [(a.upn, marks), (b.upn, "####" + "//" + "##" * 5)],
                  start=date(2025, 9, 1))
    run = run_import(write(tmp_path, "ctf.xml", xml), school=school)
    assert run.status == "applied", run.errors
    assert run.format_detected == "ctf"
    assert run.rows == 2
    assert marks_of(a) == {WED: ("/", "\\"), THU: ("I", "I"), date(2025, 9, 5): ("/", "L")}
    assert marks_of(b) == {WED: ("/", "/")}
    assert run.warnings == []


def test_it_reports_a_ctf_sessions_possible_disagreement(tmp_path, school, roll):
    a, _, _ = roll
    xml = ctf_xml(school, [(a.upn, "####/\\II")], start=date(2025, 9, 1), possible=7)
    run = run_import(write(tmp_path, "ctf.xml", xml), school=school)
    assert run.status == "applied"
    [warning] = run.warnings
    assert warning["column"] == "SessionsPossible" and warning["value"] == "7"
    assert "says 7 but the marks hold 4 possible sessions" in warning["message"]


def test_it_takes_the_school_from_the_ctf_when_none_is_chosen(tmp_path, school, roll):
    a, _, _ = roll
    xml = ctf_xml(school, [(a.upn, "####/\\")], start=date(2025, 9, 1))
    run = run_import(write(tmp_path, "ctf.xml", xml), school=None)
    assert run.status == "applied", run.errors
    assert SessionMark.objects.get().school == school


def test_it_imports_xlsx_and_reports_sheet_cells(tmp_path, school, roll):
    a, b, _ = roll
    data = xlsx_bytes([["Register export"], [], ["UPN", "Date", "AM", "PM"],
                       [a.upn, WED, "/", "\\"], [b.upn, d(THU), "Q9", "/"]])
    run = run_import(write(tmp_path, "reg.xlsx", data), school=school,
                     mode="apply_valid")
    assert run.format_detected == "long"
    assert run.status == "applied"
    assert marks_of(a) == {WED: ("/", "\\")}
    assert marks_of(b) == {THU: (None, "/")}
    [error] = run.errors
    assert (error["line"], error["column"], error["value"], error["cell"]) == (
        5, "AM", "Q9", "Register!C5")


def test_it_reads_utf8_with_bom_windows_1252_and_tabs(tmp_path, school, roll):
    a, b, c = roll
    bom = "\ufeff" + long_csv([(a.upn, WED, "/", "\\")])
    cp1252 = long_csv([(b.upn, WED, "/", "\\")], header="UPN,Date,AM,PM,Note") \
        .replace("\\\n", "\\,Café – père\n")
    tabs = long_csv([(c.upn, "2025-09-03", "/", "\\")], sep="\t", header="UPN\tDate\tAM\tPM")
    for name, text, encoding in (("bom.csv", bom, "utf-8"), ("win.csv", cp1252, "cp1252"),
                                 ("tabs.txt", tabs, "utf-8")):
        run = run_import(write(tmp_path, name, text, encoding=encoding), school=school)
        assert run.status == "applied", (name, run.errors)
    assert SessionMark.objects.filter(date=WED).count() == 3


def test_it_imports_summary_rows_apart_from_marks(tmp_path, school, roll):
    a, b, _ = roll
    text = ("UPN,From,To,Possible,Attended,Authorised,Unauthorised\n"
            f"{a.upn},01/09/2025,19/12/2025,140,130,6,4\n"
            f"{b.upn},2025-09-01,2025-12-19,140,140,0,0\n")
    run = run_import(write(tmp_path, "summary.csv", text), school=school)
    assert run.status == "applied", run.errors
    assert run.format_detected == "summary"
    assert (run.inserted, run.updated, run.unchanged) == (2, 0, 0)
    record = SummaryRecord.objects.get(pupil=a)
    assert (record.possible, record.attended, record.authorised, record.unauthorised) == (
        140, 130, 6, 4)
    assert SessionMark.objects.count() == 0
    again = run_import(write(tmp_path, "summary.csv", text), school=school)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)


def test_it_rejects_summary_counts_that_do_not_add_up(tmp_path, school, roll):
    a, _, _ = roll
    text = ("UPN,Date From,Date To,Sessions Possible,Sessions Attended,Authorised,"
            f"Unauthorised\n{a.upn},01/09/2025,19/12/2025,140,130,6,5\n")
    run = run_import(write(tmp_path, "summary.csv", text), school=school)
    assert run.status == "rejected"
    error = run.errors[0]
    assert (error["line"], error["column"], error["value"]) == (2, "Sessions Possible", "140")
    assert "must equal attended + authorised + unauthorised (141)" in error["message"]


def test_it_imports_a_zip_of_several_schools_files(tmp_path, school, other_school, roll,
                                                     other_pupil):
    import io
    import zipfile

    a, _, _ = roll
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        bundle.writestr("hilltop.xml", ctf_xml(school, [(a.upn, "####/\\")],
                                               start=date(2025, 9, 1)))
        bundle.writestr("riverside.csv", f"URN,UPN,Date,AM,PM\n{other_school.urn},"
                                         f"{other_pupil.upn},{d(WED)},/,\\\n")
    run = run_import(write(tmp_path, "schools.zip", buffer.getvalue()), school=None)
    assert run.status == "applied", run.errors
    assert run.format_detected == "ctf+long"
    assert sorted(run.school_urns) == sorted([school.urn, other_school.urn])
    assert marks_of(other_pupil, other_school) == {WED: ("/", "\\")}
