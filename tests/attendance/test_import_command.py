"""python manage.py import_register: one JSON object, exit 0 applied / 1 rejected."""

import io
import json
from datetime import date

import pytest
from django.core.management import CommandError, call_command

from attendance.models import SessionMark
from tests.attendance.imports_support import *  # noqa: F403 (fixtures)
from tests.attendance.imports_support import WED, ctf_xml, d, long_csv, write


def command(*args) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("import_register", *args, stdout=out)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue()


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: date(2026, 11, 23))


def test_it_prints_one_json_object_and_exits_0_when_applied(tmp_path, school, roll):
    a, b, _ = roll
    path = write(tmp_path, "r.csv", long_csv([(a.upn, WED, "/", "\\"), (b.upn, WED, "I", "I")]))
    code, out = command(str(path), "--school", school.urn, "--json")
    assert code == 0
    result = json.loads(out)
    assert {k: result[k] for k in ("status", "marks", "inserted", "updated", "unchanged",
                                   "rejected", "errors")} == {
        "status": "applied", "marks": 4, "inserted": 4, "updated": 0, "unchanged": 0,
        "rejected": 0, "errors": []}
    code, out = command(str(path), "--school", school.urn, "--json")
    assert (code, json.loads(out)["unchanged"], json.loads(out)["inserted"]) == (0, 4, 0)


def test_it_exits_1_with_the_errors_when_rejected(tmp_path, school, roll):
    a, b, _ = roll
    path = write(tmp_path, "r.csv", long_csv([(a.upn, WED, "/", "\\"), (b.upn, WED, "/", "QQ")]))
    code, out = command(str(path), "--school", school.urn, "--json")
    assert code == 1
    result = json.loads(out)
    assert result["status"] == "rejected" and result["rejected"] == 1
    [error] = result["errors"]
    assert {k: error[k] for k in ("line", "column", "value")} == {
        "line": 3, "column": "PM", "value": "QQ"}
    assert "is not a register code" in error["message"]
    assert SessionMark.objects.count() == 0


def test_it_applies_valid_rows_with_apply_valid(tmp_path, school, roll):
    a, b, _ = roll
    path = write(tmp_path, "r.csv", long_csv([(a.upn, WED, "/", "\\"), (b.upn, WED, "/", "QQ")]))
    code, out = command(str(path), "--school", school.urn, "--apply-valid", "--json")
    result = json.loads(out)
    assert (code, result["status"], result["inserted"], result["rejected"]) == (
        0, "applied", 3, 1)


def test_it_imports_several_files_and_takes_each_ctf_school_from_the_file(
        tmp_path, school, other_school, roll, other_pupil):
    a, _, _ = roll
    ours = write(tmp_path, "hilltop.xml", ctf_xml(school, [(a.upn, "####/\\")],
                                                   start=date(2025, 9, 1)))
    theirs = write(tmp_path, "riverside.xml", ctf_xml(other_school, [(other_pupil.upn, "####LL")],
                                                       start=date(2025, 9, 1)))
    code, out = command(str(ours), str(theirs), "--json")
    result = json.loads(out)
    assert code == 0, result["errors"]
    assert sorted(result["schools"]) == sorted([school.urn, other_school.urn])
    assert SessionMark.objects.get(pupil=other_pupil).school == other_school


def test_it_rejects_a_file_without_a_school_when_none_is_given(tmp_path, school, roll):
    a, _, _ = roll
    path = write(tmp_path, "r.csv", f"UPN,Date,AM,PM\n{a.upn},{d(WED)},/,\\\n")
    code, out = command(str(path), "--json")
    assert code == 1
    assert "does not say which school it is for" in json.loads(out)["errors"][0]["message"]


def test_it_refuses_an_unknown_school(tmp_path, roll):
    with pytest.raises(CommandError, match="No school with URN 999999"):
        command(str(write(tmp_path, "r.csv", "x")), "--school", "999999")
