"""TSM pages: thin views over tsm.selectors (reads, scoping) and tsm.services (changes).

Live recording posts each textarea with htmx as the user types and gets a small "Saved"
fragment back; without JavaScript the same forms post normally and redirect back.
"""

import csv
import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from attendance.bands import Band
from attendance_portal.errors import ApplicationError
from portal_ui.tables import sorted_paginated
from schools.models import Term
from tsm import selectors, services
from tsm.forms import (
    ActionForm,
    ActionStatusForm,
    AgendaItemForm,
    CancelForm,
    MeetingFilterForm,
    NotesForm,
    ProposeForm,
    PupilNoteForm,
    RoundOpenForm,
)
from tsm.ics import meeting_ics
from tsm.models import Action, MeetingStatus


def _htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _saved(request, *, error: str | None = None, status: int = 200):
    return render(request, "tsm/_saved.html", {"error": error, "now": timezone.localtime()},
                  status=status)


def _managers_only(user) -> None:
    if not selectors.can_see_coverage(user=user):
        raise Http404("Not a manager")


def _terms():
    return Term.objects.select_related("academic_year").order_by("-start_date")


# --- lists and rounds ------------------------------------------------------------------------

@login_required
def meeting_list_view(request):
    meetings = selectors.meeting_list(user=request.user)
    form = MeetingFilterForm(request.GET or None, terms=_terms())
    term = status = None
    if form.is_valid():
        term, status = form.cleaned_data["term"], form.cleaned_data["status"]
    elif not request.GET:
        term = selectors.current_term()
        form = MeetingFilterForm(initial={"term": term}, terms=_terms())
    if term:
        meetings = meetings.filter(round__term=term)
    if status == "overdue":
        meetings = meetings.exclude(status=MeetingStatus.HELD).filter(
            round__term__end_date__lt=timezone.localdate())
    elif status:
        meetings = meetings.filter(status=status)
    page, sort = sorted_paginated(
        request, meetings,
        sorts={"school": "school__name", "date": "proposed_start", "status": "status",
               "term": "round__term__start_date"},
        default="school",
    )
    return render(request, "tsm/list.html", {
        "page": page, "sort": sort, "form": form, "today": timezone.localdate(),
        "can_open_round": selectors.can_open_round(user=request.user),
        "can_see_coverage": selectors.can_see_coverage(user=request.user),
    })


@login_required
def round_open_view(request):
    if not selectors.can_open_round(user=request.user):
        raise Http404("Not a manager")
    terms = _terms()
    current = selectors.current_term()
    form = RoundOpenForm(request.POST or None, terms=terms,
                         initial={"term": current} if current else None)
    if request.method == "POST" and form.is_valid():
        try:
            tsm_round, made, missing = services.tsm_round_open(
                term=form.cleaned_data["term"], theme=form.cleaned_data["theme"],
                user=request.user, agenda_items=form.agenda_items(),
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            note = f"{made} new meeting{'s' if made != 1 else ''} to book"
            if missing:
                note += (f". {len(missing)} open school{'s have' if len(missing) != 1 else ' has'}"
                         " no link officer: link an officer, then open the round again to add "
                         "them")
            messages.success(request, f"{tsm_round.term} round is open: {note}.")
            return redirect(f"{reverse('tsm:coverage')}?term={tsm_round.term_id}")
    return render(request, "tsm/round_open.html", {"form": form})


# --- one meeting -----------------------------------------------------------------------------

def _roles(meeting, user) -> dict:
    is_officer = services._is_link_officer(meeting, user)
    is_lead = services._is_school_lead(meeting, user)
    proposed_by_school = bool(
        meeting.proposed_by and meeting.proposed_by.is_school_lead
        and meeting.proposed_by.school_id == meeting.school_id
        and meeting.proposed_by_id != meeting.school.link_officer_id
    )
    status = meeting.status
    return {
        "is_officer": is_officer, "is_lead": is_lead,
        "can_propose": is_officer and status != MeetingStatus.HELD,
        "can_propose_another": is_lead and status in (MeetingStatus.PROPOSED,
                                                      MeetingStatus.CONFIRMED),
        "can_confirm": status == MeetingStatus.PROPOSED and (
            (is_officer and proposed_by_school) or (is_lead and not proposed_by_school)),
        "awaiting": ("the link officer" if proposed_by_school else "the school")
        if status == MeetingStatus.PROPOSED else None,
        "can_cancel": (is_officer or user.is_manager or user.is_superuser)
        and status in (MeetingStatus.TO_BOOK, MeetingStatus.PROPOSED, MeetingStatus.CONFIRMED),
        "can_hold": is_officer and status == MeetingStatus.CONFIRMED,
        "can_record": (is_officer or is_lead) and status in (MeetingStatus.CONFIRMED,
                                                            MeetingStatus.HELD),
    }


def _detail(request, meeting, *, propose_form=None, error=None, status=200):
    roles = _roles(meeting, request.user)
    if propose_form is None:
        initial = {"duration_minutes": meeting.duration_minutes, "location": meeting.location}
        if meeting.proposed_start:
            start = timezone.localtime(meeting.proposed_start)
            initial.update(day=start.day, month=start.month, year=start.year,
                           start_time=f"{start:%H:%M}")
        propose_form = ProposeForm(initial=initial)
    previous = selectors.previous_meeting(meeting=meeting)
    return render(request, "tsm/detail.html", {
        "meeting": meeting, "roles": roles, "propose_form": propose_form, "error": error,
        "previous": previous, "overdue": meeting.is_overdue(),
        "meeting_day": bool(meeting.proposed_start) and timezone.localtime(
            meeting.proposed_start).date() <= timezone.localdate(),
        "actions": meeting.actions.select_related("owner", "pupil",
                                                  "carried_from__meeting__round__term"),
        "leads": meeting.school.attendance_leads.filter(is_active=True, is_school_lead=True),
    }, status=status)


@login_required
def meeting_detail_view(request, pk):
    return _detail(request, selectors.meeting_get(user=request.user, pk=pk))


@login_required
@require_POST
def meeting_propose_view(request, pk):
    meeting = selectors.meeting_get(user=request.user, pk=pk)
    form = ProposeForm(request.POST)
    if not form.is_valid():
        return _detail(request, meeting, propose_form=form, status=400)
    kwargs = {"meeting": meeting, "start": form.start(), "user": request.user,
              "location": form.cleaned_data["location"],
              "duration_minutes": form.cleaned_data["duration_minutes"]}
    try:
        if services._is_school_lead(meeting, request.user) and not services._is_link_officer(
                meeting, request.user):
            services.meeting_propose_another(**kwargs)
            messages.success(request, "Your date is proposed: the link officer will confirm it.")
        else:
            services.meeting_propose(**kwargs)
            messages.success(request, "Date proposed: the school will be asked to confirm it.")
    except ApplicationError as error:
        form.add_error(None, error.message)
        return _detail(request, meeting, propose_form=form, status=400)
    return redirect("tsm:detail", pk=meeting.pk)


def _state_change(request, pk, change, success: str):
    meeting = selectors.meeting_get(user=request.user, pk=pk)
    try:
        change(meeting=meeting, user=request.user)
    except ApplicationError as error:
        return _detail(request, meeting, error=error.message, status=400)
    messages.success(request, success)
    return redirect("tsm:detail", pk=meeting.pk)


@login_required
@require_POST
def meeting_confirm_view(request, pk):
    return _state_change(request, pk, services.meeting_confirm, "The meeting date is confirmed.")


@login_required
@require_POST
def meeting_hold_view(request, pk):
    meeting = selectors.meeting_get(user=request.user, pk=pk)
    try:
        services.meeting_hold(meeting=meeting, user=request.user)
    except ApplicationError as error:
        return _detail(request, meeting, error=error.message, status=400)
    messages.success(request, "The meeting is held: the pack is frozen as it is now. "
                              "Record the notes and actions below.")
    return redirect("tsm:record", pk=meeting.pk)


@login_required
def meeting_cancel_view(request, pk):
    meeting = selectors.meeting_get(user=request.user, pk=pk)
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.meeting_cancel(meeting=meeting, user=request.user,
                                    reason=form.cleaned_data["reason"])
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "The meeting is cancelled.")
            return redirect("tsm:detail", pk=meeting.pk)
    return render(request, "tsm/cancel.html", {"meeting": meeting, "form": form},
                  status=400 if form.errors else 200)


@login_required
def meeting_ics_view(request, pk):
    meeting = selectors.meeting_get(user=request.user, pk=pk)
    if meeting.proposed_start is None:
        raise Http404("No date yet")
    url = request.build_absolute_uri(reverse("tsm:detail", args=[meeting.pk]))
    response = HttpResponse(meeting_ics(meeting=meeting, url=url),
                            content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="tsm-{meeting.school.urn}.ics"'
    return response


@login_required
def meeting_pack_view(request, pk):
    meeting = selectors.meeting_get(user=request.user, pk=pk)
    pack = selectors.meeting_pack(meeting=meeting)
    return render(request, "tsm/pack.html", {"meeting": meeting, "pack": pack,
                                             "bands": Band.choices})


@login_required
def meeting_minutes_view(request, pk):
    meeting = selectors.meeting_get(user=request.user, pk=pk)
    return render(request, "tsm/minutes.html", {
        "meeting": meeting,
        "agenda": meeting.agenda_items.all(),
        "notes": meeting.pupil_notes.select_related("pupil").exclude(note=""),
        "actions": meeting.actions.select_related("owner", "pupil",
                                                  "carried_from__meeting__round__term"),
        "pack": meeting.snapshot,
        "leads": meeting.school.attendance_leads.filter(is_active=True, is_school_lead=True),
    })


# --- live recording --------------------------------------------------------------------------

def _record(request, meeting, *, action_form=None, note_form=None, agenda_form=None,
            error=None, status=200):
    roles = _roles(meeting, request.user)
    owners = selectors.action_owner_choices(meeting=meeting)
    if action_form is None:
        action_form = ActionForm(owners=owners, initial={"owner": request.user.pk})
    return render(request, "tsm/record.html", {
        "meeting": meeting, "roles": roles, **selectors.meeting_record(meeting=meeting),
        "action_form": action_form, "note_form": note_form or PupilNoteForm(),
        "agenda_form": agenda_form or AgendaItemForm(), "error": error,
        "owners": owners, "statuses": ActionStatusForm.base_fields["status"].choices,
    }, status=status)


@login_required
def meeting_record_view(request, pk):
    meeting = selectors.meeting_get(user=request.user, pk=pk)
    return _record(request, meeting)


def _back_to_record(meeting, anchor: str = ""):
    return redirect(reverse("tsm:record", args=[meeting.pk]) + (f"#{anchor}" if anchor else ""))


@login_required
@require_POST
def agenda_notes_view(request, pk, item_pk):
    meeting = selectors.meeting_get(user=request.user, pk=pk)
    item = get_object_or_404(meeting.agenda_items, pk=item_pk)
    form = NotesForm(request.POST)
    form.is_valid()
    try:
        services.agenda_item_notes_set(item=item, notes=form.cleaned_data.get("notes", ""),
                                       user=request.user)
    except ApplicationError as error:
        if _htmx(request):
            return _saved(request, error=error.message)
        return _record(request, meeting, error=error.message, status=400)
    if _htmx(request):
        return _saved(request)
    messages.success(request, f"Notes saved: {item.title}.")
    return _back_to_record(meeting, f"agenda-{item.pk}")


@login_required
@require_POST
def agenda_add_view(request, pk):
    meeting = selectors.meeting_get(user=request.user, pk=pk)
    form = AgendaItemForm(request.POST)
    if not form.is_valid():
        return _record(request, meeting, agenda_form=form, status=400)
    try:
        item = services.agenda_item_add(meeting=meeting, title=form.cleaned_data["title"],
                                        user=request.user)
    except ApplicationError as error:
        form.add_error(None, error.message)
        return _record(request, meeting, agenda_form=form, status=400)
    return _back_to_record(meeting, f"agenda-{item.pk}")


@login_required
@require_POST
def pupil_note_view(request, pk):
    meeting = selectors.meeting_get(user=request.user, pk=pk)
    form = PupilNoteForm(request.POST)
    if not form.is_valid() or form.cleaned_data.get("pupil") is None:
        if _htmx(request):
            return _saved(request, error="Enter the pupil's UPN.")
        return _record(request, meeting, note_form=form, status=400)
    pupil = form.cleaned_data["pupil"]
    try:
        services.pupil_note_save(meeting=meeting, pupil=pupil, note=form.cleaned_data["note"],
                                 user=request.user)
    except ApplicationError as error:
        if _htmx(request):
            return _saved(request, error=error.message)
        form.add_error("upn" if form.cleaned_data.get("upn") else None, error.message)
        return _record(request, meeting, note_form=form, status=400)
    if _htmx(request):
        return _saved(request)
    messages.success(request, f"Note saved: {pupil.full_name}.")
    return _back_to_record(meeting, f"pupil-{pupil.pk}")


@login_required
@require_POST
def action_create_view(request, pk):
    meeting = selectors.meeting_get(user=request.user, pk=pk)
    form = ActionForm(request.POST, owners=selectors.action_owner_choices(meeting=meeting))
    if not form.is_valid():
        return _record(request, meeting, action_form=form, status=400)
    try:
        services.action_create(
            meeting=meeting, description=form.cleaned_data["description"],
            owner=form.cleaned_data["owner"], due_date=form.cleaned_data["due_date"],
            pupil=form.cleaned_data["upn"], user=request.user,
        )
    except ApplicationError as error:
        form.add_error(None, error.message)
        return _record(request, meeting, action_form=form, status=400)
    messages.success(request, "Action recorded.")
    return _back_to_record(meeting, "actions")


@login_required
@require_POST
def action_status_view(request, action_pk):
    action = selectors.action_get(user=request.user, pk=action_pk)
    form = ActionStatusForm(request.POST)
    next_url = request.POST.get("next", "")
    try:
        if not form.is_valid():
            raise ApplicationError("Choose open, done or dropped.")
        services.action_set_status(action=action, status=form.cleaned_data["status"],
                                   user=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Action marked {Action.Status(action.status).label.lower()}.")
    if next_url == "home":
        return redirect("home")
    if selectors.meeting_list(user=request.user).filter(pk=action.meeting_id).exists():
        return _back_to_record(action.meeting, f"action-{action.pk}")
    return redirect("home")


@login_required
@require_POST
def action_description_view(request, action_pk):
    """Autosave of an action's wording while it is being agreed."""
    action = selectors.action_get(user=request.user, pk=action_pk)
    try:
        services.action_update(action=action, user=request.user,
                               description=request.POST.get("description", ""))
    except ApplicationError as error:
        if _htmx(request):
            return _saved(request, error=error.message)
        messages.error(request, error.message)
        return _back_to_record(action.meeting, f"action-{action.pk}")
    if _htmx(request):
        return _saved(request)
    return _back_to_record(action.meeting, f"action-{action.pk}")


# --- coverage --------------------------------------------------------------------------------

def _coverage_term(request) -> Term:
    term_id = request.GET.get("term")
    if term_id and term_id.isdigit():
        return get_object_or_404(Term, pk=term_id)
    term = selectors.current_term()
    if term is None:
        raise Http404("No terms")
    return term


@login_required
def coverage_view(request):
    _managers_only(request.user)
    term = _coverage_term(request)
    coverage = selectors.tsm_coverage(user=request.user, term=term)
    return render(request, "tsm/coverage.html", {"coverage": coverage, "terms": _terms(),
                                                 "term": term})


def neutralise(value) -> object:
    """A cell beginning with = + - @ (or a tab / carriage return) is prefixed with ' so a
    spreadsheet shows it as text and never runs it as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@login_required
def coverage_export_view(request, fmt):
    _managers_only(request.user)
    term = _coverage_term(request)
    header, rows = selectors.coverage_table(selectors.tsm_coverage(user=request.user, term=term))
    name = f"tsm-coverage-{term.academic_year.start_year}-{term.name}"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        writer.writerows([[neutralise(cell) for cell in row] for row in rows])
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "TSM coverage"
    sheet.append(header)
    for row in rows:
        sheet.append([neutralise(cell) for cell in row])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response

