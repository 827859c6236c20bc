"""The register import pages: upload, the run's report, the errors CSV and the history."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from attendance.models import ImportRun, SessionMark
from tests.attendance.imports_support import *  # noqa: F403 (fixtures)
from tests.attendance.imports_support import FRI, THU, WED, long_csv, run_import, write


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    from datetime import date

    from django.utils import timezone

    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: date(2026, 11, 23))


def bad_upn(upn: str) -> str:
    """The same UPN with a wrong check letter."""
    return ("B" if upn[0] != "B" else "C") + upn[1:]


def csv_file(text: str, name: str = "register.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def post_upload(client, capture, file, **data):
    with capture(execute=True):
        return client.post(reverse("imports:new"), {"file": file, **data})


def test_it_applies_a_good_file_and_shows_the_counts(
        client, school, roll, school_lead, django_capture_on_commit_callbacks):
    a, b, _ = roll
    client.force_login(school_lead)
    text = long_csv([(a.upn, WED, "/", "\\"), (b.upn, WED, "/", "N")])
    response = post_upload(client, django_capture_on_commit_callbacks, csv_file(text),
                           mode="all_or_nothing")
    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("imports:detail", args=[run.pk])
    assert run.school == school and run.user == school_lead and run.status == "applied"

    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-outcome="done"' in html
    assert run.message in html
    assert 'data-testid="count-inserted">4<' in html
    assert 'data-testid="count-marks">4<' in html
    assert SessionMark.objects.count() == 2


def test_it_shows_the_errors_with_line_and_column_and_the_csv_has_them(
        client, school, roll, school_lead, django_capture_on_commit_callbacks):
    a, b, _ = roll
    client.force_login(school_lead)
    text = long_csv([(a.upn, WED, "/", "\\"), (b.upn, THU, "/", "QQ"),
                     (bad_upn(a.upn), FRI, "=cmd()", "/")])
    post_upload(client, django_capture_on_commit_callbacks, csv_file(text))
    run = ImportRun.objects.get()
    assert run.status == "rejected" and SessionMark.objects.count() == 0

    html = client.get(reverse("imports:detail", args=[run.pk])).content.decode()
    assert 'data-outcome="rejected"' in html
    assert "Your file was not imported" in html
    assert 'data-testid="errors"' in html
    lines = {e["line"] for e in run.errors}
    assert {3, 4} <= lines
    assert '<td class="govuk-table__cell" data-testid="error-line">3</td>' in html
    assert '<td class="govuk-table__cell" data-testid="error-line">4</td>' in html
    assert "QQ" in html and "PM" in html

    response = client.get(reverse("imports:errors_csv", args=[run.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["File", "Line"]
    body = rows[1:]
    assert ["register.csv", "3", "", "", "PM", "QQ"] == body[[r[1] for r in body].index("3")][:6]
    assert any(r[1] == "4" and r[4] == "UPN" for r in body)
    # A value a spreadsheet would run as a formula is neutralised.
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in body for cell in row)


def test_it_neutralises_formula_cells_in_the_errors_csv():
    from attendance.views import _csv_safe

    assert _csv_safe("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert [_csv_safe(v) for v in ("+1", "-1", "@x", "ok", None, 3)] == [
        "'+1", "'-1", "'@x", "ok", "", "3"]


def test_it_imports_the_valid_rows_in_apply_valid_mode(
        client, school, roll, school_lead, django_capture_on_commit_callbacks):
    a, b, _ = roll
    client.force_login(school_lead)
    text = long_csv([(a.upn, WED, "/", "\\"), (b.upn, WED, "/", "QQ")])
    post_upload(client, django_capture_on_commit_callbacks, csv_file(text), mode="apply_valid")
    run = ImportRun.objects.get()
    assert (run.mode, run.status, run.inserted, run.rejected) == ("apply_valid", "applied", 3, 1)
    html = client.get(reverse("imports:detail", args=[run.pk])).content.decode()
    assert 'data-outcome="partly"' in html
    assert 'data-testid="error-row"' in html


def test_it_shows_the_govuk_error_summary_for_a_missing_file(client, school, school_lead):
    client.force_login(school_lead)
    response = client.post(reverse("imports:new"), {"mode": "all_or_nothing"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in html and "Select the register file to upload" in html
    assert ImportRun.objects.count() == 0


def test_it_refuses_a_bad_mode_or_a_school_outside_the_officers_scope(
        client, school, other_school, la_officer):
    client.force_login(la_officer)
    response = client.post(reverse("imports:new"), {
        "file": csv_file("UPN,Date,AM,PM\n"), "mode": "everything", "school": other_school.urn})
    html = response.content.decode()
    assert "Select a school from the list" in html
    assert "Select what to do if some rows have mistakes" in html
    assert ImportRun.objects.count() == 0


def test_it_lets_an_officer_choose_only_their_linked_schools(client, school, other_school,
                                                              la_officer):
    client.force_login(la_officer)
    html = client.get(reverse("imports:new")).content.decode()
    assert school.name in html and other_school.name not in html
    assert "The file names its school" not in html


def test_it_lets_the_la_data_team_upload_a_file_that_names_its_schools(
        client, school, roll, administrator, django_capture_on_commit_callbacks):
    a, _, _ = roll
    client.force_login(administrator)
    assert "The file names its school" in client.get(reverse("imports:new")).content.decode()
    text = f"URN,UPN,Date,AM,PM\n{school.urn},{a.upn},03/09/2025,/,\\\n"
    post_upload(client, django_capture_on_commit_callbacks, csv_file(text), school="file")
    run = ImportRun.objects.get()
    assert run.school is None and run.status == "applied", run.message
    assert run.school_urns == [school.urn]


def test_it_does_not_let_a_school_lead_upload_for_or_see_another_school(
        client, school, other_school, roll, school_lead, other_school_lead, tmp_path,
        django_capture_on_commit_callbacks):
    a, _, _ = roll
    theirs = run_import(write(tmp_path, "r.csv", long_csv([(a.upn, WED, "/", "/")])),
                        school=other_school, user=other_school_lead)
    client.force_login(school_lead)
    # The school field is fixed to their own school: a posted URN is ignored.
    post_upload(client, django_capture_on_commit_callbacks,
                csv_file(long_csv([(a.upn, THU, "/", "/")])), school=other_school.urn)
    assert ImportRun.objects.exclude(pk=theirs.pk).get().school == school
    for name in ("imports:detail", "imports:errors_csv"):
        assert client.get(reverse(name, args=[theirs.pk])).status_code == 404
    listing = client.get(reverse("imports:list")).content.decode()
    assert reverse("imports:detail", args=[theirs.pk]) not in listing
    assert client.get(reverse("imports:list") + f"?school={other_school.urn}").status_code == 200


@pytest.mark.parametrize("name,args", [("imports:list", []), ("imports:new", []),
                                       ("imports:detail", [1]), ("imports:errors_csv", [1])])
def test_it_gives_a_social_worker_404_and_sends_anonymous_users_to_sign_in(
        client, social_worker, name, args):
    path = reverse(name, args=args)
    response = client.get(path)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    client.force_login(social_worker)
    assert client.get(path).status_code == 404


def test_it_lists_the_runs_newest_first_and_filters_by_school(
        client, school, other_school, roll, administrator, tmp_path):
    a, _, _ = roll
    first = run_import(write(tmp_path, "first.csv", long_csv([(a.upn, WED, "/", "/")])),
                       school=school, user=administrator)
    second = run_import(write(tmp_path, "second.csv", long_csv([(a.upn, THU, "QQ", "/")])),
                        school=school, user=administrator)
    client.force_login(administrator)
    response = client.get(reverse("imports:list"))
    assert [run.pk for run in response.context["page"]] == [second.pk, first.pk]
    html = response.content.decode()
    assert "Not imported" in html and "Imported" in html and "first.csv" in html
    filtered = client.get(reverse("imports:list") + f"?school={other_school.urn}")
    assert list(filtered.context["page"]) == []


def test_it_links_the_upload_page_from_the_school_page_and_the_navigation(
        client, school, school_lead, social_worker, manager):
    client.force_login(school_lead)
    html = client.get(reverse("schools:detail", args=[school.urn])).content.decode()
    assert f'{reverse("imports:new")}?school={school.urn}' in html
    assert reverse("imports:list") in client.get(reverse("home")).content.decode()
    client.force_login(social_worker)
    assert reverse("imports:list") not in client.get(reverse("home")).content.decode()


def test_it_shows_a_self_refreshing_checking_page_while_the_run_is_pending(
        client, school, school_lead, tmp_path):
    run = ImportRun.objects.create(school=school, user=school_lead, original_filename="r.csv",
                                   stored_path=str(tmp_path / "r"), sha256="0" * 64)
    client.force_login(school_lead)
    html = client.get(reverse("imports:detail", args=[run.pk])).content.decode()
    assert "Checking your file" in html
    assert f'data-import-poll="/api/imports/{run.pk}/"' in html
    assert "js/import-run.js" in html
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in html
    assert "<script>" not in html  # CSP: no inline scripts
