"""POST /api/imports/ and GET /api/imports/{id}/: who may import for which school."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from attendance.models import ImportRun, SessionMark
from tests.attendance.imports_support import *  # noqa: F403 (fixtures)
from tests.attendance.imports_support import WED, long_csv


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def upload(client, roll, urn=None, mode=None):
    a, _, _ = roll
    data = {"file": SimpleUploadedFile("reg.csv", long_csv([(a.upn, WED, "/", "\\")]).encode(),
                                       content_type="text/csv")}
    if urn:
        data["school"] = urn
    if mode:
        data["mode"] = mode
    return client.post("/api/imports/", data, format="multipart")


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    from datetime import date

    from django.utils import timezone

    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: date(2026, 11, 23))


def test_it_imports_for_the_school_lead_s_own_school_and_lets_them_poll(
        school, roll, school_lead, django_capture_on_commit_callbacks):
    client = client_for(school_lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, roll, urn=school.urn)
    assert response.status_code == 202, response.data
    assert response.data["status"] == "pending" and response.data["school"] == school.urn
    polled = client.get(f"/api/imports/{response.data['id']}/")
    assert polled.status_code == 200
    assert (polled.data["status"], polled.data["inserted"]) == ("applied", 2)
    assert SessionMark.objects.count() == 1


def test_it_defaults_a_school_lead_to_their_own_school(school, roll, school_lead):
    response = upload(client_for(school_lead), roll)
    assert response.status_code == 202
    assert ImportRun.objects.get().school == school


def test_it_gives_a_school_lead_404_for_another_school(school, other_school, roll,
                                                       other_school_lead, school_lead):
    response = upload(client_for(school_lead), roll, urn=other_school.urn)
    assert response.status_code == 404
    assert ImportRun.objects.count() == 0


def test_it_hides_another_school_s_import_from_a_school_lead(school, roll, school_lead,
                                                             other_school_lead, other_school):
    run_id = upload(client_for(school_lead), roll).data["id"]
    assert client_for(other_school_lead).get(f"/api/imports/{run_id}/").status_code == 404
    assert client_for(other_school_lead).get("/api/imports/").data["results"] == []


def test_it_refuses_social_workers(school, roll, social_worker):
    response = upload(client_for(social_worker), roll, urn=school.urn)
    assert response.status_code == 403
    assert client_for(social_worker).get("/api/imports/").status_code == 403
    assert ImportRun.objects.count() == 0


def test_it_lets_an_officer_import_only_for_linked_schools(school, other_school, roll,
                                                           la_officer):
    client = client_for(la_officer)
    assert upload(client, roll, urn=school.urn).status_code == 202
    assert upload(client, roll, urn=other_school.urn).status_code == 404
    run = ImportRun.objects.get()
    assert client.get(f"/api/imports/{run.pk}/").status_code == 200


def test_it_checks_rows_of_a_multi_school_file_against_the_officer_s_schools(
        school, other_school, roll, other_pupil, la_officer, django_capture_on_commit_callbacks):
    text = f"URN,UPN,Date,AM,PM\n{other_school.urn},{other_pupil.upn},03/09/2025,/,\\\n"
    client = client_for(la_officer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/imports/", {"file": SimpleUploadedFile("r.csv", text.encode())},
                               format="multipart")
    run = ImportRun.objects.get(pk=response.data["id"])
    assert run.status == "rejected"
    assert run.errors[0]["column"] == "URN"
    assert "not one of your schools" in run.errors[0]["message"]


def test_it_refuses_anonymous_users(school, roll):
    assert upload(APIClient(), roll, urn=school.urn).status_code in (401, 403)


def test_it_validates_the_mode(school, roll, administrator):
    response = upload(client_for(administrator), roll, urn=school.urn, mode="sometimes")
    assert response.status_code == 400 and "mode" in response.data
