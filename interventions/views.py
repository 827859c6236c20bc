"""Casework pages. Thin: fetch through the scoped selectors, change through the services.

A case the user may not see is a 404; so is a change the user may not make (a social worker
adding an intervention, a school lead agreeing for a social worker): never a 403.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.models import User
from attendance_portal.errors import ApplicationError
from interventions import forms as f
from interventions import selectors as s
from interventions import services
from interventions.gates import allocated_social_workers, case_gates, latest_characteristics
from interventions.models import Case, InterventionType, PenaltyNotice, Stage
from portal_ui.tables import sorted_paginated

CASE_SORTS = {
    "pupil": ("pupil__surname", "pupil__forename"),
    "opened": "opened_at",
    "stage": "stage",
    "status": "status",
}


def _form_page(request, form, on_valid, *, title, caption="", intro="", button="Save",
               back=None, case=None, template="interventions/form.html", extra=None):
    """Render a one-form page; on a valid POST call ``on_valid(data)`` and follow its redirect.
    An ApplicationError from the service becomes the GOV.UK error summary."""
    if request.method == "POST" and form.is_valid():
        try:
            return on_valid(form.cleaned_data)
        except ApplicationError as error:
            form.add_error(None, error.message)
    return render(request, template, {
        "form": form, "title": title, "caption": caption, "intro": intro, "button": button,
        "back": back, "case": case, **(extra or {}),
    })


def _case_url(case, anchor=""):
    return reverse("interventions:detail", args=[case.pk]) + (f"#{anchor}" if anchor else "")


# --- Case list, open, page ---------------------------------------------------------------------

@login_required
def case_list_view(request):
    s.require_casework_role(request.user)
    cases = s.case_list(user=request.user).select_related("pupil", "owner")
    query = request.GET.get("q", "").strip()
    if query:
        cases = cases.filter(Q(pupil__upn=query.upper()) | Q(pupil__surname__icontains=query)
                             | Q(pupil__forename__icontains=query))
    stage = request.GET.get("stage", "")
    if stage in Stage.values:
        cases = cases.filter(stage=stage)
    status = request.GET.get("status", "live")
    if status == "live":
        cases = cases.exclude(status=Case.Status.CLOSED)
    elif status in Case.Status.values:
        cases = cases.filter(status=status)
    page, sort = sorted_paginated(request, cases, sorts=CASE_SORTS, default="-opened")
    return render(request, "interventions/list.html", {
        "page": page, "sort": sort, "query": query, "stage": stage, "status": status,
        "stages": Stage.choices, "statuses": Case.Status.choices,
    })


@login_required
def case_open_view(request, upn):
    pupil = s.pupil_get_for_casework(user=request.user, upn=upn, editable=True)
    form = f.CaseOpenForm(request.POST or None)

    def on_valid(data):
        case = services.case_open(pupil=pupil, user=request.user, reason=data["reason"],
                                  stage=data["stage"])
        messages.success(request, f"Case opened for {pupil.full_name}.")
        return redirect(_case_url(case))

    return _form_page(request, form, on_valid, title="Open a case", caption=pupil.full_name,
                      button="Open case", back=reverse("pupils:detail", args=[pupil.upn]),
                      intro="A case holds the interventions, the chronology and the legal route "
                            "for this child.")


@login_required
def case_detail_view(request, pk):
    case = s.case_get(user=request.user, pk=pk)
    user = request.user
    interventions = list(s.with_review_dates(case.interventions.all())
                         .select_related("owner", "provider_school", "case"))
    effects = s.intervention_effects(interventions=interventions)
    for item in interventions:
        item.effect = effects.get(item.pk)
    gates = case_gates(case=case)
    workers = allocated_social_workers(case.pupil)
    siblings = []
    if case.family_id:
        siblings = list(s.case_list(user=user).filter(family_id=case.family_id)
                        .exclude(pk=case.pk).select_related("pupil"))
    prosecution = case.interventions.filter(type=InterventionType.PROSECUTION).first()
    return render(request, "interventions/detail.html", {
        "case": case,
        "pupil": case.pupil,
        "characteristics": latest_characteristics(case.pupil),
        "schools": s.pupil_schools(case.pupil),
        "interventions": interventions,
        "chronology": list(case.chronology.select_related("recorded_by").order_by(
            "-occurred_on", "-recorded_at", "-pk")[:10]),
        "chronology_count": case.chronology.count(),
        "gates": gates,
        "gates_passed": all(g.done or not g.needed for g in gates),
        "gates_needed": sum(1 for g in gates if g.needed),
        "gates_done": sum(1 for g in gates if g.needed and g.done),
        "steps": s.recommended_steps(case=case),
        "ladder": [{"value": v, "label": label, "current": v == case.stage,
                    "past": Stage.values.index(v) < Stage.values.index(case.stage)}
                   for v, label in Stage.choices],
        "can_edit": s.case_can_edit(user=user, case=case),
        "can_prosecute": user.is_la_officer or user.is_manager,
        "is_allocated_worker": user in workers,
        "social_workers": workers,
        "siblings": siblings,
        "holds": list(case.holds.select_related("put_by", "reviewed_by")),
        "open_hold": case.holds.filter(reviewed_on__isnull=True).first(),
        "decisions": list(case.legal_decisions.select_related("decided_by")),
        "notices": list(case.pupil.penalty_notices.all()),
        "prosecution": prosecution,
        "today": timezone.localdate(),
    })


@login_required
def chronology_print_view(request, pk):
    case = s.case_get(user=request.user, pk=pk)
    return render(request, "interventions/chronology_print.html", {
        "case": case, "pupil": case.pupil, "schools": s.pupil_schools(case.pupil),
        "entries": case.chronology.select_related("recorded_by", "corrects"),
        "decisions": case.legal_decisions.select_related("decided_by"),
        "interventions": case.interventions.select_related("owner"),
        "printed_at": timezone.localtime(), "printed_by": request.user,
    })


# --- Changes to a case -------------------------------------------------------------------------

@login_required
def case_stage_view(request, pk):
    case = s.case_get_editable(user=request.user, pk=pk)
    form = f.StageForm(request.POST or None, initial={"stage": case.stage})

    def on_valid(data):
        services.case_stage_set(case=case, user=request.user, stage=data["stage"],
                                note=data["note"])
        messages.success(request, "Stage updated.")
        return redirect(_case_url(case))

    return _form_page(request, form, on_valid, title="Change the stage",
                      caption=case.pupil.full_name, back=_case_url(case), case=case)


@login_required
def case_close_view(request, pk):
    case = s.case_get_editable(user=request.user, pk=pk)
    form = f.CloseForm(request.POST or None)

    def on_valid(data):
        services.case_close(case=case, user=request.user, note=data["note"])
        messages.success(request, "Case closed.")
        return redirect(_case_url(case))

    return _form_page(request, form, on_valid, title="Close the case", button="Close case",
                      caption=case.pupil.full_name, back=_case_url(case), case=case)


@login_required
def case_hold_view(request, pk):
    case = s.case_get_editable(user=request.user, pk=pk)
    form = f.HoldForm(request.POST or None)

    def on_valid(data):
        services.case_hold(case=case, user=request.user, reason=data["reason"],
                           review_due=data["review_due"])
        messages.success(request, "The legal approach is on hold until the review.")
        return redirect(_case_url(case, "legal-route"))

    return _form_page(request, form, on_valid, title="Put the legal approach on hold",
                      caption=case.pupil.full_name, back=_case_url(case, "legal-route"),
                      case=case, button="Put on hold",
                      intro="The case must be reviewed by the date you set before legal action "
                            "can go ahead (002 seed: case review in an agreed timescale).")


@login_required
def case_hold_review_view(request, pk):
    case = s.case_get_editable(user=request.user, pk=pk)
    form = f.HoldReviewForm(request.POST or None)
    hold = case.holds.filter(reviewed_on__isnull=True).first()

    def on_valid(data):
        services.case_hold_review(case=case, user=request.user, note=data["note"])
        messages.success(request, "Review recorded. The case is open again.")
        return redirect(_case_url(case, "legal-route"))

    intro = (f"On hold since {hold.started_on:%-d %B %Y}: {hold.reason}. Review due "
             f"{hold.review_due:%-d %B %Y}." if hold else "This case is not on hold.")
    return _form_page(request, form, on_valid, title="Record the case review",
                      caption=case.pupil.full_name, back=_case_url(case, "legal-route"),
                      case=case, intro=intro, button="Record review")


def _owners(case):
    schools = s.pupil_schools(case.pupil)
    return User.objects.filter(is_active=True).filter(
        Q(is_la_officer=True) | Q(is_manager=True)
        | Q(is_school_lead=True, school__in=[school.pk for school in schools])
    ).order_by("full_name")


@login_required
def intervention_add_view(request, pk):
    case = s.case_get_editable(user=request.user, pk=pk)
    form = f.InterventionForm(request.POST or None, owners=_owners(case),
                              initial={"owner": request.user.pk})

    def on_valid(data):
        item = services.intervention_add(
            case=case, user=request.user, type=data["type"], start_date=data["start_date"],
            owner=data["owner"], review_date=data["review_date"],
            planned_end_date=data["planned_end_date"], description=data["description"],
            provider_name=data["provider_name"], provider_school=data["provider_school"],
        )
        messages.success(request, f"{item.get_type_display()} added.")
        return redirect(_case_url(case, "interventions"))

    return _form_page(request, form, on_valid, title="Add an intervention",
                      caption=case.pupil.full_name, back=_case_url(case, "interventions"),
                      case=case, button="Add intervention")


@login_required
def intervention_end_view(request, pk, item):
    case = s.case_get_editable(user=request.user, pk=pk)
    intervention = get_object_or_404(case.interventions, pk=item)
    form = f.InterventionEndForm(request.POST or None,
                                 initial={"end_date": timezone.localdate()})

    def on_valid(data):
        services.intervention_end(intervention=intervention, user=request.user,
                                  end_date=data["end_date"], outcome=data["outcome"])
        messages.success(request, f"{intervention.get_type_display()} ended.")
        return redirect(_case_url(case, "interventions"))

    return _form_page(request, form, on_valid,
                      title=f"End: {intervention.get_type_display()}",
                      caption=case.pupil.full_name, back=_case_url(case, "interventions"),
                      case=case, button="End intervention",
                      intro=f"Started {intervention.start_date:%-d %B %Y}, owner "
                            f"{intervention.owner}.")


@login_required
def intervention_review_view(request, pk, item):
    case = s.case_get_editable(user=request.user, pk=pk)
    intervention = get_object_or_404(case.interventions, pk=item)
    form = f.InterventionReviewForm(request.POST or None,
                                    initial={"reviewed_on": timezone.localdate()})
    due = s.intervention_next_review_due(intervention)

    def on_valid(data):
        services.intervention_review_record(
            intervention=intervention, user=request.user, reviewed_on=data["reviewed_on"],
            note=data["note"], next_review_date=data["next_review_date"])
        messages.success(request, f"Review of the {intervention.get_type_display().lower()} "
                                  "recorded.")
        return redirect(_case_url(case, "interventions"))

    intro = f"{intervention.get_type_display()} from {intervention.start_date:%-d %B %Y}"
    if intervention.planned_end_date:
        intro += f", planned to end {intervention.planned_end_date:%-d %B %Y}"
    if due:
        intro += f". Review due {due:%-d %B %Y}"
    return _form_page(request, form, on_valid, title="Record a review",
                      caption=case.pupil.full_name, back=_case_url(case, "interventions"),
                      case=case, button="Record review", intro=intro + ".")


@login_required
def chronology_add_view(request, pk):
    case = s.case_get_editable(user=request.user, pk=pk)
    form = f.ChronologyForm(request.POST or None, initial={"occurred_on": timezone.localdate()})

    def on_valid(data):
        services.chronology_add(case=case, user=request.user, occurred_on=data["occurred_on"],
                                kind=data["kind"], note=data["note"])
        messages.success(request, "Added to the chronology.")
        return redirect(_case_url(case, "chronology"))

    return _form_page(request, form, on_valid, title="Add to the chronology",
                      caption=case.pupil.full_name, back=_case_url(case, "chronology"),
                      case=case, button="Add entry")


@login_required
def family_link_view(request, pk):
    case = s.case_get_editable(user=request.user, pk=pk)
    form = f.FamilyLinkForm(request.POST or None)

    def on_valid(data):
        sibling = s.case_editable_list(user=request.user).exclude(
            status=Case.Status.CLOSED).filter(pupil__upn=data["upn"].strip().upper()).first()
        if sibling is None:
            raise ApplicationError("No open case you can see has that UPN. Open a case for the "
                                   "sibling first.")
        family = services.family_link(case=case, sibling_case=sibling, user=request.user)
        messages.success(request, f"Linked to the {family.reference}.")
        return redirect(_case_url(case))

    return _form_page(request, form, on_valid, title="Link a sibling's case",
                      caption=case.pupil.full_name, back=_case_url(case), case=case,
                      button="Link", intro="Siblings may be at different schools. Linking their "
                      "cases shows them together for whole-family work.")


# --- Legal route -------------------------------------------------------------------------------

@login_required
def consultation_view(request, pk):
    case = s.case_get_editable(user=request.user, pk=pk)
    link = next((school.link_officer for school in s.pupil_schools(case.pupil)
                 if school.link_officer_id), None)
    form = f.ConsultationForm(request.POST or None, officers=s.officer_choices(),
                              initial={"officer": link.pk if link else None,
                                       "consulted_on": timezone.localdate()})

    def on_valid(data):
        services.officer_consultation_record(case=case, user=request.user,
                                             officer=data["officer"],
                                             consulted_on=data["consulted_on"], note=data["note"])
        messages.success(request, "Consultation recorded.")
        return redirect(_case_url(case, "legal-route"))

    return _form_page(request, form, on_valid, title="Record the consultation with the "
                      "attendance officer", caption=case.pupil.full_name,
                      back=_case_url(case, "legal-route"), case=case,
                      intro="Before a legal route, the school discusses the child with its named "
                            "attendance officer.")


@login_required
def alternatives_view(request, pk):
    case = s.case_get_editable(user=request.user, pk=pk)
    form = f.AlternativesForm(request.POST or None)

    def on_valid(data):
        services.alternatives_record(case=case, user=request.user,
                                     alternatives=data["alternatives"])
        messages.success(request, "Alternatives recorded.")
        return redirect(_case_url(case, "legal-route"))

    return _form_page(request, form, on_valid, title="Record the alternatives considered",
                      caption=case.pupil.full_name, back=_case_url(case, "legal-route"),
                      case=case)


@login_required
def social_worker_decision_view(request, pk):
    """The allocated social worker agrees to or declines legal action (CIN/CP children)."""
    case = get_object_or_404(s.social_worker_cases(user=request.user), pk=pk)
    form = f.SocialWorkerDecisionForm(request.POST or None)

    def on_valid(data):
        record = services.social_worker_decision_record(case=case, user=request.user,
                                                        decision=data["decision"],
                                                        note=data["note"])
        messages.success(request, f"Your decision is recorded: {record.get_decision_display()}.")
        return redirect(_case_url(case, "legal-route"))

    return _form_page(request, form, on_valid, title="Legal action: agree or decline",
                      caption=case.pupil.full_name, back=_case_url(case, "legal-route"),
                      case=case, button="Record my decision",
                      template="interventions/social_worker_decision.html",
                      extra={"gates": case_gates(case=case),
                             "chronology": case.chronology.select_related("recorded_by")
                             .order_by("-occurred_on", "-pk")[:8]})


GATE_FIX = {
    "officer_consulted": ("interventions:consultation", "Record the consultation"),
    "alternatives_considered": ("interventions:alternatives", "Record the alternatives"),
    "hold_reviewed": ("interventions:hold_review", "Record the case review"),
}


@login_required
def prosecution_view(request, pk):
    """Confirm the case proceeds as a prosecution; a refusal lists each missing gate."""
    case = s.case_get_editable(user=request.user, pk=pk)
    if not (request.user.is_la_officer or request.user.is_manager):
        raise Http404
    form = f.ProsecutionForm(request.POST or None)
    refusal = None
    if request.method == "POST" and form.is_valid():
        try:
            services.case_prosecution_start(case=case, user=request.user,
                                            note=form.cleaned_data["note"])
        except ApplicationError as error:
            refusal = error
        else:
            messages.success(request, "The case proceeds as a prosecution. The decision is "
                                      "recorded with your name and the time.")
            return redirect(_case_url(case, "legal-route"))
    gates = case_gates(case=case)
    problems = []
    if refusal is not None:
        by_key = {g.key: g for g in gates}
        for key, reason in zip(refusal.extra.get("missing_gates", []),
                               refusal.extra.get("reasons", []), strict=True):
            url_name, label = GATE_FIX.get(key, (None, ""))
            problems.append({
                "key": key, "text": reason[0].upper() + reason[1:],
                "href": reverse(url_name, args=[case.pk]) if url_name else
                f"#gate-{key}", "fix": label, "gate": by_key.get(key),
            })
        if not problems:
            problems.append({"key": "other", "text": refusal.message, "href": "#id_note"})
    return render(request, "interventions/prosecution.html", {
        "case": case, "form": form, "gates": gates, "refusal": refusal, "problems": problems,
        "back": _case_url(case, "legal-route"),
        "gates_passed": all(g.done or not g.needed for g in gates),
        "fix_urls": {key: reverse(name, args=[case.pk]) for key, (name, _) in GATE_FIX.items()},
    })


# --- Social worker page ------------------------------------------------------------------------

@login_required
def social_worker_view(request):
    if not request.user.is_social_worker:
        raise Http404
    rows = []
    for case in s.social_worker_cases(user=request.user):
        snapshot = latest_characteristics(case.pupil)
        gates = {g.key: g for g in case_gates(case=case)}
        rows.append({"case": case, "snapshot": snapshot, "sw_gate": gates["social_worker_agreed"],
                     "cin_cp": bool(snapshot and (snapshot.cin or snapshot.cp))})
    rows.sort(key=lambda r: (not r["cin_cp"], r["sw_gate"].done, r["case"].pupil.surname))
    return render(request, "interventions/social_worker.html", {"rows": rows})


# --- Oversight lists ---------------------------------------------------------------------------

@login_required
def part_time_view(request):
    s.require_casework_role(request.user)
    today = timezone.localdate()
    items = list(s.part_time_timetables(user=request.user))
    for item in items:
        item.review_overdue = (item.end_date is None and item.next_review_due
                               and item.next_review_due < today)
        item.past_end = (item.end_date is None and item.planned_end_date
                         and item.planned_end_date < today)
    return render(request, "interventions/part_time.html", {"items": items, "today": today})


@login_required
def alternative_provision_view(request):
    s.require_casework_role(request.user)
    return render(request, "interventions/alternative_provision.html",
                  {"items": s.alternative_provision(user=request.user)})


@login_required
def under_twenty_view(request):
    s.require_casework_role(request.user)
    summaries = s.under_twenty_percent(user=request.user)
    page, sort = sorted_paginated(request, summaries, sorts={
        "pupil": ("pupil__surname", "pupil__forename"),
        "rate": "rate_permille",
        "possible": "possible",
    }, default="rate")
    return render(request, "interventions/under_twenty.html", {"page": page, "sort": sort})


@login_required
def missing_view(request):
    s.require_casework_role(request.user)
    return render(request, "interventions/missing.html",
                  {"rows": s.possibly_missing_education(user=request.user)})


@login_required
def threshold_view(request):
    s.require_casework_role(request.user)
    return render(request, "interventions/threshold.html",
                  {"episodes": s.penalty_threshold_list(user=request.user),
                   "today": timezone.localdate()})


# --- Penalty notices ---------------------------------------------------------------------------

@login_required
def penalty_notices_view(request):
    s.require_casework_role(request.user)
    notices = s.penalty_notice_list(user=request.user)
    status = request.GET.get("status", "")
    if status in PenaltyNotice.Status.values:
        notices = notices.filter(status=status)
    query = request.GET.get("q", "").strip()
    if query:
        notices = notices.filter(Q(pupil__upn=query.upper()) | Q(pupil__surname__icontains=query)
                                 | Q(parent_name__icontains=query))
    page, sort = sorted_paginated(request, notices, sorts={
        "issued": "issued_on", "pupil": ("pupil__surname", "pupil__forename"),
        "parent": "parent_key", "status": "status",
    }, default="-issued")
    editable = set(s.casework_pupils(user=request.user, editable=True)
                   .filter(pk__in=[n.pupil_id for n in page]).values_list("pk", flat=True))
    return render(request, "interventions/penalty_notices.html", {
        "page": page, "sort": sort, "status": status, "query": query, "editable": editable,
        "statuses": PenaltyNotice.Status.choices,
    })


@login_required
def penalty_notice_add_view(request, pk):
    case = s.case_get_editable(user=request.user, pk=pk)
    form = f.PenaltyNoticeForm(request.POST or None)
    previous = list(case.pupil.penalty_notices.order_by("issued_on"))

    def on_valid(data):
        notice = services.penalty_notice_record(pupil=case.pupil, user=request.user,
                                                parent_name=data["parent_name"],
                                                issued_on=data["issued_on"], case=case)
        kind = "second notice: £160 flat" if notice.sequence == 2 else \
            "first notice: £80 if paid within 21 days, £160 within 28"
        messages.success(request, f"Penalty notice recorded ({kind}).")
        return redirect(_case_url(case, "penalty-notices"))

    return _form_page(request, form, on_valid, title="Record a penalty notice",
                      caption=case.pupil.full_name, back=_case_url(case, "penalty-notices"),
                      case=case, button="Record notice",
                      template="interventions/penalty_notice_form.html",
                      extra={"previous": previous})


@login_required
@require_http_methods(["GET", "POST"])
def penalty_notice_status_view(request, pk):
    notice = get_object_or_404(
        PenaltyNotice.objects.filter(pupil__in=s.casework_pupils(user=request.user,
                                                                 editable=True)), pk=pk)
    form = f.PenaltyStatusForm(request.POST or None, initial={"status": notice.status,
                                                              "paid_on": notice.paid_on})

    def on_valid(data):
        services.penalty_notice_status_set(notice=notice, user=request.user,
                                           status=data["status"], paid_on=data["paid_on"],
                                           outcome=data["outcome"])
        messages.success(request, "Penalty notice updated.")
        return redirect("interventions:penalty_notices")

    return _form_page(request, form, on_valid,
                      title=f"Penalty notice to {notice.parent_name}",
                      caption=f"{notice.pupil.full_name}, issued {notice.issued_on:%-d %B %Y}",
                      back=reverse("interventions:penalty_notices"), button="Save",
                      template="interventions/penalty_notice_form.html",
                      extra={"notice": notice})
