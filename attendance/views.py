"""Register import pages: upload a file, follow its run, read the report, browse the history.

Thin views (docs/ARCHITECTURE): scoping comes from attendance.selectors (import_run_list,
import_run_get, user_can_import_registers) and schools.selectors; the write is
attendance.services.register_import_create, exactly as the API calls it.
"""

import csv

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from attendance.importers import FORMAT_LABELS
from attendance.models import ImportRun
from attendance.selectors import import_run_get, import_run_list, user_can_import_registers
from attendance.services import register_import_create
from attendance_portal.errors import ApplicationError
from portal_ui.tables import sorted_paginated
from schools.selectors import school_get, school_list

ERRORS_PAGE_SIZE = 50
FINISHED = {ImportRun.Status.APPLIED, ImportRun.Status.REJECTED, ImportRun.Status.FAILED}
FILE_NAMES_ITS_SCHOOLS = "file"

MODE_HINTS = {
    ImportRun.Mode.ALL_OR_NOTHING: "If any row has a mistake, nothing is imported. You fix the "
                                   "rows listed and upload the whole file again.",
    ImportRun.Mode.APPLY_VALID: "The rows without mistakes are imported now. The rows with "
                                "mistakes are listed so you can correct them in your MIS.",
}
MODE_LABELS = {
    ImportRun.Mode.ALL_OR_NOTHING: "Import the file only if every row is correct",
    ImportRun.Mode.APPLY_VALID: "Import the correct rows and list the rows with mistakes",
}


def _require_importer(user) -> None:
    """Pages for people who import registers; everyone else gets the 404 page (never 403)."""
    if not user_can_import_registers(user=user):
        raise Http404


def _may_let_file_name_schools(user) -> bool:
    """The LA data team (who see every school) may upload a CTF or .zip naming its schools."""
    return bool(user.sees_everything)


def _fixed_school(user):
    """A school lead (with no wider role) always imports for their own school."""
    if user.is_school_lead and not (user.is_la_officer or user.sees_everything):
        return user.school
    return None


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Register file",
        error_messages={"required": "Select the register file to upload",
                        "empty": "The selected file is empty. Export the register again and "
                                 "upload the new file",
                        "invalid": "The selected file could not be read. Choose it again"},
    )
    school = forms.ChoiceField(
        label="Which school is the file for?",
        error_messages={"required": "Select the school the file is for",
                        "invalid_choice": "Select a school from the list"},
    )
    mode = forms.ChoiceField(
        label="If some rows have mistakes",
        choices=[(value, MODE_LABELS[value]) for value in ImportRun.Mode.values],
        initial=ImportRun.Mode.ALL_OR_NOTHING, widget=forms.RadioSelect, required=False,
        error_messages={"invalid_choice": "Select what to do if some rows have mistakes"},
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fixed_school = _fixed_school(user)
        if self.fixed_school is not None:
            # Their own school, whatever was posted.
            self.fields["school"] = forms.CharField(required=False, label="School")
            return
        choices = [("", "Select a school")]
        if _may_let_file_name_schools(user):
            choices.append((FILE_NAMES_ITS_SCHOOLS,
                            "The file names its school or schools (CTF, URN column or .zip)"))
        choices += [(urn, f"{name} (URN {urn})") for urn, name in
                    school_list(user=user).order_by("name").values_list("urn", "name")]
        self.fields["school"].choices = choices

    def clean_school(self):
        value = self.cleaned_data.get("school")
        if self.fixed_school is not None:
            return self.fixed_school
        if value == FILE_NAMES_ITS_SCHOOLS:
            return None
        try:
            return school_get(user=self.user, urn=value)
        except Http404:
            raise forms.ValidationError("Select a school from the list") from None

    def clean_mode(self):
        return self.cleaned_data.get("mode") or ImportRun.Mode.ALL_OR_NOTHING

    def mode_options(self):
        chosen = self.data.get("mode") if self.is_bound else self.fields["mode"].initial
        return [{"value": value, "label": MODE_LABELS[value], "hint": MODE_HINTS[value],
                 "checked": chosen == value, "id": f"mode-{i}"}
                for i, value in enumerate(ImportRun.Mode.values, start=1)]


@login_required
def import_new(request):
    _require_importer(request.user)
    initial = {}
    if request.GET.get("school"):
        initial["school"] = request.GET["school"]
    form = UploadForm(request.POST or None, request.FILES or None, user=request.user,
                      initial=initial)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            run = register_import_create(file=upload, filename=upload.name,
                                         school=form.cleaned_data["school"], user=request.user,
                                         mode=form.cleaned_data["mode"])
        except ApplicationError as error:
            form.add_error("file", error.message)
        else:
            return redirect("imports:detail", run_id=run.pk)
    return render(request, "attendance/import_new.html", {
        "form": form, "fixed_school": form.fixed_school,
        "file_names_schools": _may_let_file_name_schools(request.user),
    })


def _outcome(run: ImportRun) -> str:
    """One word for the tag and the banner: done, partly, rejected, failed, waiting, checking."""
    if run.status == ImportRun.Status.APPLIED:
        return "partly" if run.rejected or run.error_count else "done"
    return {ImportRun.Status.REJECTED: "rejected", ImportRun.Status.FAILED: "failed",
            ImportRun.Status.PENDING: "waiting"}.get(run.status, "checking")


def _where(error: dict) -> str:
    """Where in the file: 'line 4', or 'Register!C5' for a spreadsheet cell."""
    if error.get("cell"):
        return error["cell"]
    if error.get("sheet") and error.get("line"):
        return f"{error['sheet']}, row {error['line']}"
    return f"line {error['line']}" if error.get("line") else "the whole file"


@login_required
def import_detail(request, run_id):
    _require_importer(request.user)
    run = import_run_get(user=request.user, run_id=run_id)
    finished = run.status in FINISHED
    errors_page = Paginator(run.errors or [], ERRORS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "attendance/import_detail.html", {
        "run": run, "finished": finished, "outcome": _outcome(run), "page": errors_page,
        "several_files": len({e.get("file") for e in run.errors or []}) > 1,
        "spreadsheet": any(e.get("sheet") for e in run.errors or []),
        "more_errors": max(run.error_count - len(run.errors or []), 0),
        "mode_label": MODE_LABELS.get(run.mode, run.get_mode_display()),
        "format_label": FORMAT_LABELS.get(run.format_detected, run.format_detected),
    })


def _csv_safe(value) -> str:
    """Stop a spreadsheet reading a cell as a formula (CSV injection): prefix ' to = + - @."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


@require_GET
@login_required
def import_errors_csv(request, run_id):
    _require_importer(request.user)
    run = import_run_get(user=request.user, run_id=run_id)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{run.pk}-errors.csv"'
    response.write("\ufeff")  # so Excel reads the file as UTF-8
    writer = csv.writer(response)
    writer.writerow(["File", "Line", "Sheet", "Cell", "Column", "Value", "Problem and what to do"])
    for error in run.errors or []:
        writer.writerow([_csv_safe(error.get(key)) for key in
                         ("file", "line", "sheet", "cell", "column", "value", "message")])
    return response


@login_required
def import_list(request):
    _require_importer(request.user)
    runs = import_run_list(user=request.user)
    schools = school_list(user=request.user).order_by("name")
    can_filter = _fixed_school(request.user) is None
    school_filter = None
    urn = request.GET.get("school", "").strip()
    if can_filter and urn:
        school_filter = school_get(user=request.user, urn=urn)
        runs = runs.filter(school=school_filter)
    page, sort = sorted_paginated(
        request, runs, sorts={"created": "created_at", "status": "status",
                              "file": "original_filename"},
        default="-created",
    )
    for run in page:
        run.outcome = _outcome(run)
    return render(request, "attendance/import_list.html", {
        "page": page, "sort": sort, "school_filter": school_filter,
        "schools": schools.values_list("urn", "name") if can_filter else [],
    })
