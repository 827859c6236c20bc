"""GIAS establishment exports: real headers, extra columns, Windows-1252, idempotent, all or nothing."""

import pytest
from django.core.management import CommandError, call_command

from schools.imports import ImportRejected
from schools.models import Locality, School
from schools.services import gias_phase, schools_import_gias

HEADER = (
    "URN,LA (code),LA (name),EstablishmentNumber,EstablishmentName,TypeOfEstablishment (name),"
    "EstablishmentTypeGroup (name),EstablishmentStatus (name),PhaseOfEducation (code),"
    "PhaseOfEducation (name),StatutoryLowAge,StatutoryHighAge,Boarders (name),Postcode,"
    "DistrictAdministrative (name),AdministrativeWard (name),SchoolWebsite\n"
)
ROWS = [
    "113501,879,Plymouth,2001,Hilltop Primary School,Community school,Local authority maintained "
    "schools,Open,2,Primary,4,11,No boarders,PL7 1AA,Plymouth,Plympton St Mary,http://hill.test",
    "136001,879,Plymouth,4001,Riverside Academy,Academy converter,Academies,Open,4,Secondary,11,"
    "18,No boarders,PL9 1AA,Plymouth,Plymstock Dunstone,",
    "113503,879,Plymouth,1100,Plymouth Tuition Service,Pupil referral unit,Local authority "
    "maintained schools,Open,0,Not applicable,11,16,No boarders,PL1 1AA,Plymouth,Stoke,",
    "113504,879,Plymouth,2002,Wembury Infant School,Community school,Local authority maintained "
    "schools,Open,2,Primary,4,7,No boarders,PL9 1AB,Plymouth,Plymstock Dunstone,",
    "113505,879,Plymouth,7001,Woodlands School,Community special school,Special schools,Open,0,"
    "Not applicable,2,19,No boarders,PL5 1AB,Plymouth,Budshead,",
    "130001,879,Plymouth,8000,City College Plymouth,Further education,Colleges,Open,0,"
    "Not applicable,16,99,No boarders,PL1 5QG,Plymouth,St Peter and the Waterfront,",
    "113506,879,Plymouth,2003,Ladysmith Junior School,Community school,Local authority "
    "maintained schools,Open,2,Primary,7,11,No boarders,PL4 1AA,Plymouth,Efford and Lipson,",
]


def write(tmp_path, rows, encoding="utf-8", name="gias.csv"):
    path = tmp_path / name
    path.write_bytes((HEADER + "\n".join(rows) + "\n").encode(encoding))
    return path


def test_it_imports_a_gias_export_with_real_headers_and_ignores_extra_columns(db, tmp_path):
    report = schools_import_gias(path=write(tmp_path, ROWS))

    assert report.written
    assert report.counts["created"] == 6
    assert report.counts["skipped (not a school type the portal tracks)"] == 1
    phases = dict(School.objects.values_list("urn", "phase"))
    assert phases == {"113501": "primary", "136001": "secondary", "113503": "pru",
                      "113504": "infant", "113505": "special", "113506": "junior"}
    hilltop = School.objects.get(urn="113501")
    assert hilltop.dfe_number == "879/2001"
    assert hilltop.statutory_low_age == 4 and hilltop.postcode == "PL7 1AA"
    assert hilltop.locality.name == "Plympton St Mary"  # the ward: the district never varies


def test_it_reads_windows_1252_files(db, tmp_path):
    rows = [ROWS[0].replace("Hilltop Primary School", "St Thérèse's Primary School")]
    schools_import_gias(path=write(tmp_path, rows, encoding="cp1252"))

    assert School.objects.get(urn="113501").name == "St Thérèse's Primary School"


def test_it_changes_nothing_when_the_same_export_is_imported_again(db, tmp_path):
    path = write(tmp_path, ROWS)
    schools_import_gias(path=path)
    before = list(School.objects.order_by("urn").values())

    report = schools_import_gias(path=path)

    assert report.counts.get("created", 0) == 0 and report.counts.get("updated", 0) == 0
    assert report.counts["unchanged"] == 6
    assert list(School.objects.order_by("urn").values()) == before
    assert Locality.objects.count() == 5


def test_it_updates_changed_schools_by_urn_and_keeps_the_link_officer(db, tmp_path, la_officer):
    schools_import_gias(path=write(tmp_path, ROWS))
    School.objects.filter(urn="113501").update(link_officer=la_officer)
    renamed = [ROWS[0].replace("Hilltop Primary School", "Hilltop Primary Academy")
               .replace("Community school", "Academy converter")]

    report = schools_import_gias(path=write(tmp_path, renamed, name="again.csv"))

    assert report.counts["updated"] == 1
    school = School.objects.get(urn="113501")
    assert school.name == "Hilltop Primary Academy" and school.link_officer == la_officer


def test_it_reports_every_bad_row_with_its_line_and_writes_nothing(db, tmp_path):
    rows = [ROWS[0], ROWS[1].replace("136001", "13600"), ROWS[2],
            ROWS[3].replace(",2002,", ",,"), ROWS[0]]

    with pytest.raises(ImportRejected) as caught:
        schools_import_gias(path=write(tmp_path, rows))

    errors = {e.line: e.reason for e in caught.value.report.errors}
    assert set(errors) == {3, 5, 6}
    assert "URN '13600' is not 6 digits" in errors[3]
    assert "establishment number" in errors[5]
    assert "already appears on line 2" in errors[6]
    assert School.objects.count() == 0


def test_it_rejects_a_file_that_is_not_a_gias_export(db, tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("Name,Address\nA,B\n")

    with pytest.raises(ImportRejected, match="missing column"):
        schools_import_gias(path=path)


def test_it_allows_a_closed_predecessor_to_share_an_academys_dfe_number(db, tmp_path):
    closed = ROWS[0].replace(",Open,", ",Closed,").replace("113501", "113499")
    academy = ROWS[0].replace("113501", "140001")

    schools_import_gias(path=write(tmp_path, [closed, academy]))

    assert School.objects.filter(la_code="879", establishment_number="2001").count() == 2


@pytest.mark.parametrize(("phase", "kind", "low", "high", "expected"), [
    ("Primary", "Academy converter", 4, 11, "primary"),
    ("Primary", "Community school", 3, 7, "infant"),
    ("Primary", "Foundation school", 7, 11, "junior"),
    ("Secondary", "Academy sponsor led", 11, 16, "secondary"),
    ("16 plus", "Academy 16-19 converter", 16, 19, "secondary"),
    ("All-through", "Free schools", 4, 19, "all_through"),
    ("Nursery", "Local authority nursery school", 2, 5, "nursery"),
    ("Middle deemed secondary", "Community school", 9, 13, "middle"),
    ("Not applicable", "Pupil referral unit", 11, 16, "pru"),
    ("Not applicable", "Academy alternative provision converter", 11, 16, "ap"),
    ("Not applicable", "Free schools alternative provision", 5, 16, "ap"),
    ("Not applicable", "Community special school", 2, 19, "special"),
    ("Secondary", "Academy special converter", 11, 19, "special"),
    ("Not applicable", "Other independent school", 3, 18, "all_through"),
    ("Not applicable", "Other independent school", None, None, None),
])
def test_it_maps_gias_phase_and_type_to_a_portal_phase(phase, kind, low, high, expected):
    assert gias_phase(phase=phase, school_type=kind, low_age=low, high_age=high) == expected


def test_it_imports_from_the_command_line_and_fails_loudly_on_bad_rows(db, tmp_path, capsys):
    call_command("import_schools", str(write(tmp_path, ROWS)))
    assert "6 created" in capsys.readouterr().out

    with pytest.raises(CommandError, match="bad row"):
        call_command("import_schools", str(write(tmp_path, [ROWS[0].replace("879", "87")],
                                                 name="bad.csv")))
    assert "line 2" in capsys.readouterr().err
