"""MIS roster imports: header synonyms, encodings, validation with line numbers, idempotence."""

from datetime import date

import pandas as pd
import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command

from pupils.models import Characteristics, Enrolment, Pupil
from pupils.services import roster_import
from schools.imports import ImportRejected
from tests.factories import SchoolFactory, make_upn

CENSUS = date(2025, 10, 2)


@pytest.fixture
def schools(db):
    return (SchoolFactory(urn="113501", la_code="879", establishment_number="2001"),
            SchoolFactory(urn="136001", la_code="879", establishment_number="4001",
                          phase="secondary"))


def write(tmp_path, text, encoding="utf-8", name="roster.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def sims_roster(*rows):
    header = ("UPN,Legal Surname,Legal Forename,DOB,Gender,NC Year,DfE Number,Date of Admission,"
              "FSM Eligible,SEN Status,EAL,Ethnicity\n")
    return header + "".join(row + "\n" for row in rows)


AMY = f"{make_upn(1)},Smith,Amy,14/03/2015,F,Year 5,879/2001,01/09/2019,Y,K,N,WBRI"
BEN = f"{make_upn(2)},Jones,Ben,2016-07-01,M,4,8792001,2020-09-01,N,,Y,White - British"
OLA = f"{make_upn(3)},Nowak,Ola,01/01/2012,F,Y9,879/4001,03/09/2023,N,E,Y,WOTH"


def test_it_creates_pupils_enrolments_and_a_snapshot(schools, tmp_path):
    report = roster_import(path=write(tmp_path, sims_roster(AMY, BEN, OLA)),
                           effective_date=CENSUS)

    assert report.written
    assert report.counts["pupils created"] == 3
    amy = Pupil.objects.get(upn=make_upn(1))
    assert (amy.surname, amy.forename, amy.date_of_birth, amy.sex) == (
        "Smith", "Amy", date(2015, 3, 14), "F")
    enrolment = amy.enrolments.get()
    assert enrolment.school == schools[0] and enrolment.start_date == date(2019, 9, 1)
    snapshot = amy.characteristics.get()
    assert snapshot.effective_date == CENSUS
    assert (snapshot.year_group, snapshot.fsm, snapshot.sen, snapshot.eal, snapshot.ethnicity) == (
        "5", True, "K", False, "WBRI")
    ben = Pupil.objects.get(upn=make_upn(2)).characteristics.get()
    assert (ben.year_group, ben.sen, ben.eal, ben.ethnicity) == ("4", "N", True, "WBRI")
    assert Pupil.objects.get(upn=make_upn(3)).enrolments.get().school == schools[1]


def test_it_accepts_other_header_names_a_bom_and_urns(schools, tmp_path):
    text = ("\ufeffupn , SURNAME,First name,Date of Birth,Sex,Year Group,URN,Entry Date\n"
            f"{make_upn(1)},Smith,Amy,14/03/2015,Female,R,113501,02/09/2020\n")

    roster_import(path=write(tmp_path, text), effective_date=CENSUS)

    amy = Pupil.objects.get(upn=make_upn(1))
    assert amy.forename == "Amy" and amy.characteristics.get().year_group == "R"
    assert amy.enrolments.get().school == schools[0]


def test_it_reads_windows_1252_rosters(schools, tmp_path):
    text = sims_roster(AMY.replace("Smith", "Ó Súilleabháin").replace("Amy", "Zoë"))

    roster_import(path=write(tmp_path, text, encoding="cp1252"), effective_date=CENSUS)

    assert Pupil.objects.get().full_name == "Zoë Ó Súilleabháin"


def test_it_reads_xlsx_rosters(schools, tmp_path):
    path = tmp_path / "roster.xlsx"
    pd.DataFrame([{"UPN": make_upn(1), "Surname": "Smith", "Forename": "Amy",
                   "DOB": pd.Timestamp("2015-03-14"), "Gender": "F", "Year": 5,
                   "URN": 113501, "FSM": "Y"}]).to_excel(path, index=False)

    roster_import(path=path, effective_date=CENSUS)

    amy = Pupil.objects.get()
    assert amy.date_of_birth == date(2015, 3, 14)
    assert amy.characteristics.get().year_group == "5" and amy.characteristics.get().fsm


def test_it_changes_nothing_when_the_same_roster_is_imported_again(schools, tmp_path):
    path = write(tmp_path, sims_roster(AMY, BEN, OLA))
    roster_import(path=path, effective_date=CENSUS)
    counts = (Pupil.objects.count(), Enrolment.objects.count(), Characteristics.objects.count(),
              LogEntry.objects.count())

    again = roster_import(path=path, effective_date=CENSUS)
    later = roster_import(path=path, effective_date=date(2026, 1, 15))

    for report in (again, later):
        assert report.counts["pupils created"] == 0 and report.counts["pupils updated"] == 0
        assert report.counts["enrolments created"] == 0
        assert report.counts["snapshots created"] == 0
        assert report.counts["snapshots unchanged"] == 3
    assert (Pupil.objects.count(), Enrolment.objects.count(), Characteristics.objects.count(),
            LogEntry.objects.count()) == counts


def test_it_adds_a_snapshot_only_when_characteristics_change(schools, tmp_path):
    roster_import(path=write(tmp_path, sims_roster(AMY, BEN)), effective_date=CENSUS)

    report = roster_import(
        path=write(tmp_path, sims_roster(AMY.replace(",Y,K,", ",N,E,"), BEN), name="jan.csv"),
        effective_date=date(2026, 1, 15))

    assert report.counts["snapshots created"] == 1 and report.counts["snapshots unchanged"] == 1
    latest = Pupil.objects.get(upn=make_upn(1)).characteristics.first()
    assert (latest.effective_date, latest.fsm, latest.sen) == (date(2026, 1, 15), False, "E")


def test_it_carries_forward_characteristics_the_roster_does_not_hold(schools, tmp_path):
    roster_import(path=write(tmp_path, sims_roster(AMY)), effective_date=CENSUS)
    Characteristics.objects.update(cla=True)
    slim = ("UPN,Surname,Forename,DOB,Sex,Year,URN\n"
            f"{make_upn(1)},Smith,Amy,14/03/2015,F,5,113501\n")

    report = roster_import(path=write(tmp_path, slim, name="slim.csv"),
                           effective_date=date(2026, 1, 15))

    assert report.counts["snapshots unchanged"] == 1
    assert Characteristics.objects.get().cla is True


def test_it_updates_a_changed_name_and_audits_it(schools, tmp_path, administrator):
    roster_import(path=write(tmp_path, sims_roster(AMY)), effective_date=CENSUS)

    report = roster_import(path=write(tmp_path, sims_roster(AMY.replace("Smith", "Smith-Jones")),
                                      name="b.csv"), effective_date=CENSUS, user=administrator)

    assert report.counts["pupils updated"] == 1
    assert Pupil.objects.get().surname == "Smith-Jones"
    entry = LogEntry.objects.filter(action=LogEntry.Action.UPDATE).get()
    assert entry.actor == administrator and entry.changes["surname"] == ["Smith", "Smith-Jones"]


def test_it_reports_an_invalid_upn_with_its_check_letter(schools, tmp_path):
    good = make_upn(1)
    wrong = ("A" if good[0] != "A" else "B") + good[1:]

    with pytest.raises(ImportRejected) as caught:
        roster_import(path=write(tmp_path, sims_roster(BEN, AMY.replace(good, wrong))),
                      effective_date=CENSUS)

    (error,) = caught.value.report.errors
    assert error.line == 3
    assert f"wrong check letter '{wrong[0]}'" in error.reason
    assert f"'{good[0]}'" in error.reason


def test_it_reports_unknown_schools_bad_dates_and_values_and_writes_nothing(schools, tmp_path):
    rows = [AMY, BEN.replace("8792001", "879/9999"), OLA.replace("01/01/2012", "31/02/2012"),
            AMY.replace(make_upn(1), make_upn(4)).replace("Year 5", "Year 15"),
            AMY.replace(make_upn(1), "X12345")]

    with pytest.raises(ImportRejected) as caught:
        roster_import(path=write(tmp_path, sims_roster(*rows)), effective_date=CENSUS)

    errors = {e.line: e.reason for e in caught.value.report.errors}
    assert set(errors) == {3, 4, 5, 6}
    assert "unknown school: DfE number 879/9999" in errors[3]
    assert "date of birth '31/02/2012' is not a date" in errors[4]
    assert "year group 'Year 15'" in errors[5]
    assert "not a valid UPN" in errors[6]
    assert Pupil.objects.count() == Enrolment.objects.count() == 0


def test_it_rejects_a_roster_without_the_required_columns(schools, tmp_path):
    with pytest.raises(ImportRejected, match="missing column"):
        roster_import(path=write(tmp_path, "UPN,Surname\nA,B\n"), effective_date=CENSUS)


def test_it_records_dual_registration_at_two_schools(schools, tmp_path):
    text = ("UPN,Surname,Forename,DOB,Sex,Year,URN,Enrol Status\n"
            f"{make_upn(5)},Kay,Lee,01/01/2012,M,9,136001,M\n"
            f"{make_upn(5)},Kay,Lee,01/01/2012,M,9,113501,S\n")

    roster_import(path=write(tmp_path, text), effective_date=CENSUS)

    pupil = Pupil.objects.get()
    assert sorted(pupil.enrolments.values_list("registration", flat=True)) == ["M", "S"]
    assert pupil.characteristics.count() == 1


def test_it_dry_runs_without_writing(schools, tmp_path):
    report = roster_import(path=write(tmp_path, sims_roster(AMY)), effective_date=CENSUS,
                           dry_run=True)

    assert report.counts["pupils created"] == 1 and not report.written
    assert Pupil.objects.count() == 0


def test_it_imports_from_the_command_line(schools, tmp_path, capsys):
    path = write(tmp_path, sims_roster(AMY, BEN))
    call_command("import_roster", str(path), "--effective-date", "2025-10-02")
    assert "2 pupils created" in capsys.readouterr().out

    with pytest.raises(CommandError):
        call_command("import_roster", str(write(tmp_path, sims_roster(AMY.replace(
            "879/2001", "879/0000")), name="bad.csv")))
    assert "line 2: unknown school" in capsys.readouterr().err


def test_it_audits_who_changed_a_pupils_characteristics(schools, tmp_path, administrator):
    roster_import(path=write(tmp_path, sims_roster(AMY)), effective_date=CENSUS,
                  user=administrator)
    roster_import(path=write(tmp_path, sims_roster(AMY.replace(",Y,K,", ",N,E,")), name="b.csv"),
                  effective_date=date(2026, 1, 15), user=administrator)

    snapshot = ContentType.objects.get_for_model(Characteristics)
    entries = LogEntry.objects.filter(content_type=snapshot).order_by("id")
    assert [e.action for e in entries] == [LogEntry.Action.CREATE, LogEntry.Action.CREATE]
    assert all(e.actor == administrator for e in entries)
    latest = Pupil.objects.get().characteristics.first()
    assert entries.last().object_pk == str(latest.pk)
    assert entries.last().changes == {"fsm": ["True", "False"], "sen": ["K", "E"]}
