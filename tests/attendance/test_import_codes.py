"""The code reference table and the legacy mapping, at their boundaries."""

from datetime import date

import pytest

from attendance.models import AttendanceCode, CodeCategory, LegacyCodeMapping, SessionMark
from schools.models import AcademicYear, Term
from tests.attendance.imports_support import *  # noqa: F403 (fixtures)
from tests.attendance.imports_support import WED, long_csv, only_error, run_import, write

NOT_POSSIBLE = ["D", "X", "Q", "Y1", "Y2", "Y3", "Y4", "Y5", "Y6", "Y7", "Z", "#"]
ATTENDED = ["/", "\\", "L", "K", "V", "P", "W", "B"]
AUTHORISED = ["C1", "M", "J1", "S", "C2", "C", "T", "R", "I", "E"]
UNAUTHORISED = ["G", "N", "O", "U"]
OLD_DAY = date(2023, 9, 6)  # a Wednesday in 2023/24, before the 2024 regulations


@pytest.fixture
def year_2023(db):
    year = AcademicYear.objects.create(start_year=2023, start_date=date(2023, 9, 1),
                                       end_date=date(2024, 8, 31))
    Term.objects.create(academic_year=year, name="autumn", start_date=date(2023, 9, 4),
                        end_date=date(2023, 12, 20), half_term_start=date(2023, 10, 30),
                        half_term_end=date(2023, 11, 3))
    return year


def counts(code):
    row = AttendanceCode.objects.get(code=code)
    return row.counts_as_possible, row.counts_as_attended, row.category


def test_it_holds_the_full_2024_set_and_nothing_unexplained():
    in_force = set(AttendanceCode.objects.filter(last_year__isnull=True)
                   .values_list("code", flat=True))
    assert in_force == set(NOT_POSSIBLE + ATTENDED + AUTHORISED + UNAUTHORISED)
    assert set(AttendanceCode.objects.filter(last_year__isnull=False)
               .values_list("code", flat=True)) == {"H", "F", "J", "Y"}


@pytest.mark.parametrize("code", NOT_POSSIBLE)
def test_it_does_not_count_d_x_q_y1_to_y7_z_and_hash_as_possible(code):
    assert counts(code) == (False, False, CodeCategory.NOT_POSSIBLE)


@pytest.mark.parametrize("code", ATTENDED)
def test_it_counts_presence_and_approved_activities_as_attended(code):
    possible, attended, _ = counts(code)
    assert (possible, attended) == (True, True)


@pytest.mark.parametrize(("code", "category"), [(c, CodeCategory.AUTHORISED) for c in AUTHORISED]
                         + [(c, CodeCategory.UNAUTHORISED) for c in UNAUTHORISED])
def test_it_counts_absences_as_possible_not_attended(code, category):
    assert counts(code) == (True, False, category)


def test_it_keeps_historic_j_attended_and_j1_an_absence():
    assert counts("J") == (True, True, CodeCategory.APPROVED_ACTIVITY)
    assert counts("J1") == (True, False, CodeCategory.AUTHORISED)
    assert AttendanceCode.objects.get(code="J").last_year == 2023
    assert AttendanceCode.objects.get(code="J1").first_year == 2024
    assert set(LegacyCodeMapping.objects.values_list("code", flat=True)) == {
        "H", "F", "J", "Y", "B", "C"}


def test_it_keeps_legacy_codes_in_their_own_years_and_lists_the_mapping(tmp_path, school, roll,
                                                                          year_2023):
    a, b, _ = roll
    text = long_csv([(a.upn, OLD_DAY, "J", "H"), (b.upn, OLD_DAY, "B", "/")])
    run = run_import(write(tmp_path, "old.csv", text), school=school, today=date(2026, 1, 1))
    assert run.status == "applied", run.errors
    assert SessionMark.objects.get(pupil=a).am == "J"  # stored as written, never recoded
    used = {m["code"]: m for m in run.legacy_code_mappings}
    assert set(used) == {"J", "H", "B"}
    assert used["J"]["academic_year"] == "2023/24" and used["J"]["marks"] == 1
    assert "ATTENDED" in used["J"]["note"]
    assert "legacy mapping: B (2023/24, 1), H (2023/24, 1), J (2023/24, 1)" in run.message


def test_it_rejects_a_withdrawn_code_after_august_2024(tmp_path, school, roll, year):
    a, _, _ = roll
    error = only_error(run_import(write(tmp_path, "h.csv", long_csv([(a.upn, WED, "H", "/")])),
                                  school=school))
    assert (error["line"], error["column"], error["value"]) == (2, "AM", "H")
    assert "'H' was withdrawn after 2023/24" in error["message"]


def test_it_rejects_a_2024_code_before_it_existed(tmp_path, school, roll, year_2023):
    a, _, _ = roll
    error = only_error(run_import(write(tmp_path, "c1.csv",
                                        long_csv([(a.upn, OLD_DAY, "/", "C1")])),
                                  school=school, today=date(2026, 1, 1)))
    assert (error["line"], error["column"], error["value"]) == (2, "PM", "C1")
    assert "came into force in 2024/25" in error["message"]


def test_it_reads_codes_case_insensitively_and_keeps_two_character_codes(tmp_path, school, roll):
    a, _, _ = roll
    run = run_import(write(tmp_path, "y.csv", long_csv([(a.upn, WED, " y1", "c2 ")])),
                     school=school)
    assert run.status == "applied", run.errors
    assert (SessionMark.objects.get().am, SessionMark.objects.get().pm) == ("Y1", "C2")
