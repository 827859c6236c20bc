"""The admin's import (django-import-export) runs the same services: preview, then confirm."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from pupils.models import Pupil
from schools.models import School
from tests.factories import SchoolFactory, make_upn
from tests.schools.test_gias_import import HEADER, ROWS


def upload(client, url_name, name, content):
    url = reverse(url_name)
    response = client.post(url, {"format": "0",
                                 "import_file": SimpleUploadedFile(name, content)})
    assert response.status_code == 200
    return response


def confirm(client, url_name, response):
    form = response.context["confirm_form"]
    return client.post(reverse(url_name), form.initial, follow=True)


def test_it_previews_then_imports_a_gias_export_in_the_admin(client, administrator):
    client.force_login(administrator)
    content = (HEADER + "\n".join(ROWS) + "\n").encode("cp1252")

    preview = upload(client, "admin:schools_school_import", "edubasealldata.csv", content)

    assert "Hilltop Primary School" in preview.content.decode()
    assert School.objects.count() == 0  # the preview is a dry run
    done = confirm(client, "admin:schools_school_process_import", preview)
    assert done.status_code == 200
    assert School.objects.count() == 6


def test_it_shows_bad_rows_with_their_line_in_the_admin(client, administrator):
    client.force_login(administrator)
    content = (HEADER + ROWS[0].replace("113501", "1135") + "\n").encode()

    preview = upload(client, "admin:schools_school_import", "gias.csv", content)

    assert "line 2: URN &#x27;1135&#x27; is not 6 digits" in preview.content.decode()
    assert "confirm_form" not in preview.context or preview.context["confirm_form"] is None


def test_it_imports_a_roster_in_the_admin(client, administrator):
    SchoolFactory(urn="113501")
    client.force_login(administrator)
    content = ("UPN,Surname,Forename,DOB,Gender,Year,URN\n"
               f"{make_upn(1)},Smith,Amy,14/03/2015,F,5,113501\n").encode()

    preview = upload(client, "admin:pupils_pupil_import", "roster.csv", content)
    assert Pupil.objects.count() == 0
    confirm(client, "admin:pupils_pupil_process_import", preview)

    assert Pupil.objects.get().upn == make_upn(1)


def test_it_refuses_the_admin_import_to_non_staff(client, school_lead):
    client.force_login(school_lead)

    response = client.get(reverse("admin:pupils_pupil_import"))

    assert response.status_code == 302
