"""Changes to casework. Views, the API and the nightly job call these; they hold the rules.

Every function is keyword-only, runs in one transaction and raises ApplicationError with a
message written for the person who acted. Every decision records who made it and when, and
most also write a line in the case's chronology so the court-ready chronology is complete.
"""

import re
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from alerts.models import Rule
from alerts.services import alerts_insert_from_select
from attendance_portal.errors import ApplicationError
from interventions.gates import allocated_social_workers, case_gates, missing_gates
from interventions.models import (
    FIRST_NOTICE_AMOUNT,
    FIRST_NOTICE_REDUCED,
    FRAMEWORK_START,
    SECOND_NOTICE_AMOUNT,
    STAGE_ORDER,
    AlternativesConsidered,
    Case,
    CaseHold,
    ChronologyEntry,
    Family,
    Intervention,
    InterventionReview,
    InterventionType,
    LegalDecision,
    OfficerConsultation,
    PenaltyNotice,
    SocialWorkerDecision,
    Stage,
)
from interventions.selectors import EPISODES_SQL, threshold_params
from pupils.models import Pupil

# The rung of the DfE ladder an intervention belongs to: adding one moves the case up to it.
TYPE_STAGE = {
    InterventionType.EARLY_HELP: Stage.FACILITATE,
    InterventionType.TAC: Stage.FACILITATE,
    InterventionType.WHOLE_FAMILY: Stage.FACILITATE,
    InterventionType.PART_TIME: Stage.FACILITATE,
    InterventionType.AP: Stage.FACILITATE,
    InterventionType.ATTENDANCE_CONTRACT: Stage.FORMALISE,
    InterventionType.ESO: Stage.FORMALISE,
    InterventionType.NOTICE_TO_IMPROVE: Stage.FORMALISE,
    InterventionType.PENALTY_NOTICE: Stage.ENFORCE,
    InterventionType.PROSECUTION: Stage.ENFORCE,
}

PENALTY_ALTERNATIVES = (
    "A third penalty notice cannot be issued to the same parent for the same child within three "
    "years of the first. Consider instead: prosecution under section 444(1) or 444(1A) of the "
    "Education Act 1996 (through the legal route on the child's case), an education supervision "
    "order, a parenting order, or more support (an attendance contract or early help)."
)


def _save(instance):
    try:
        instance.full_clean()
    except ValidationError as error:
        raise ApplicationError(" ".join(error.messages)) from error
    instance.save()
    return instance


def _today() -> date:
    return timezone.localdate()


def _live(case: Case) -> None:
    if case.status == Case.Status.CLOSED:
        raise ApplicationError("This case is closed. Reopen it or open a new case first.")


def _chronicle(case: Case, user, kind: str, note: str, on: date | None = None) -> ChronologyEntry:
    return _save(ChronologyEntry(case=case, occurred_on=on or _today(), kind=kind, note=note,
                                 recorded_by=user))


# --- Cases -------------------------------------------------------------------------------------

@transaction.atomic
def case_open(*, pupil: Pupil, user, reason: str, owner=None, stage: str = Stage.MONITOR,
              family: Family | None = None) -> Case:
    reason = reason.strip()
    if not reason:
        raise ApplicationError("Enter why you are opening a case.")
    live = Case.objects.filter(pupil=pupil).exclude(status=Case.Status.CLOSED).first()
    if live is not None:
        raise ApplicationError(f"{pupil.full_name} already has an open case (case {live.pk}). "
                               "Add to that case instead.", extra={"case": live.pk})
    case = _save(Case(pupil=pupil, owner=owner or user, reason=reason, stage=stage,
                      family=family, opened_by=user))
    _chronicle(case, user, ChronologyEntry.Kind.DECISION, f"Case opened by {user}: {reason}")
    return case


@transaction.atomic
def case_stage_set(*, case: Case, user, stage: str, note: str = "") -> Case:
    _live(case)
    if stage not in Stage.values:
        raise ApplicationError("Choose a stage on the DfE ladder.")
    if stage == case.stage:
        return case
    before = case.get_stage_display()
    case.stage = stage
    _save(case)
    _chronicle(case, user, ChronologyEntry.Kind.DECISION,
               f"Stage moved from {before} to {case.get_stage_display()}"
               + (f": {note.strip()}" if note.strip() else ""))
    return case


@transaction.atomic
def case_close(*, case: Case, user, note: str) -> Case:
    _live(case)
    if not note.strip():
        raise ApplicationError("Enter why the case is being closed.")
    if case.status == Case.Status.ON_HOLD:
        raise ApplicationError("Review the hold before closing the case.")
    case.status = Case.Status.CLOSED
    case.closed_at = timezone.now()
    case.closed_by = user
    _save(case)
    _chronicle(case, user, ChronologyEntry.Kind.DECISION, f"Case closed: {note.strip()}")
    return case


@transaction.atomic
def family_link(*, case: Case, sibling_case: Case, user) -> Family:
    """Link two children's cases as one family (siblings may be at different schools)."""
    if case.pk == sibling_case.pk:
        raise ApplicationError("Choose a different child's case.")
    family = case.family or sibling_case.family
    if case.family and sibling_case.family and case.family_id != sibling_case.family_id:
        raise ApplicationError("Both children are already linked to different families.")
    if family is None:
        family = Family.objects.create(reference=f"{case.pupil.surname} family", created_by=user)
    for item in (case, sibling_case):
        if item.family_id != family.pk:
            item.family = family
            item.save(update_fields=["family"])
            _chronicle(item, user, ChronologyEntry.Kind.NOTE,
                       f"Linked to the {family.reference} for whole-family work")
    return family


@transaction.atomic
def case_hold(*, case: Case, user, reason: str, review_due: date) -> CaseHold:
    """Put the legal approach on hold; the case must be reviewed by ``review_due``."""
    _live(case)
    if case.status == Case.Status.ON_HOLD:
        raise ApplicationError("This case is already on hold.")
    if not reason.strip():
        raise ApplicationError("Enter why the legal approach is being put on hold.")
    today = _today()
    if review_due < today:
        raise ApplicationError("The review date must be today or later.")
    hold = _save(CaseHold(case=case, reason=reason.strip(), started_on=today,
                          review_due=review_due, put_by=user))
    case.status = Case.Status.ON_HOLD
    case.on_hold_review_date = review_due
    _save(case)
    LegalDecision.objects.create(case=case, kind=LegalDecision.Kind.PUT_ON_HOLD,
                                 note=reason.strip(), decided_by=user)
    _chronicle(case, user, ChronologyEntry.Kind.DECISION,
               f"Legal approach put on hold until a review by {review_due:%d/%m/%Y}: "
               f"{reason.strip()}")
    return hold


@transaction.atomic
def case_hold_review(*, case: Case, user, note: str) -> CaseHold:
    """Record the case review after a hold; the case is open again."""
    hold = case.holds.filter(reviewed_on__isnull=True).first()
    if hold is None:
        raise ApplicationError("This case is not on hold.")
    if not note.strip():
        raise ApplicationError("Enter what the review found and decided.")
    hold.reviewed_on = _today()
    hold.reviewed_by = user
    hold.review_note = note.strip()
    _save(hold)
    case.status = Case.Status.OPEN
    case.on_hold_review_date = None
    _save(case)
    LegalDecision.objects.create(case=case, kind=LegalDecision.Kind.HOLD_REVIEWED,
                                 note=note.strip(), decided_by=user)
    _chronicle(case, user, ChronologyEntry.Kind.DECISION,
               f"Case reviewed after hold: {note.strip()}")
    return hold


# --- Interventions and chronology --------------------------------------------------------------

@transaction.atomic
def intervention_add(*, case: Case, user, type: str, start_date: date, owner=None,
                     review_date: date | None = None, planned_end_date: date | None = None,
                     description: str = "", provider_name: str = "",
                     provider_school=None) -> Intervention:
    _live(case)
    if type == InterventionType.PROSECUTION:
        raise ApplicationError("Start a prosecution from the legal route on the case page, "
                               "once every legal gate is passed.")
    if type == InterventionType.PART_TIME and (review_date is None or planned_end_date is None):
        raise ApplicationError("A part-time timetable must be time-limited and reviewed: enter "
                               "a review date and a planned end date.")
    if type == InterventionType.AP and not (provider_name.strip() or provider_school):
        raise ApplicationError("Enter the alternative provision provider.")
    if type == InterventionType.OTHER and not description.strip():
        raise ApplicationError("Describe the intervention.")
    if start_date > _today() + timedelta(days=366):
        raise ApplicationError("The start date is more than a year away.")
    item = _save(Intervention(
        case=case, type=type, start_date=start_date, owner=owner or user, review_date=review_date,
        planned_end_date=planned_end_date, description=description.strip(),
        provider_name=provider_name.strip(), provider_school=provider_school, created_by=user,
    ))
    where = ""
    if type == InterventionType.AP:
        where = f" at {provider_school.name if provider_school else provider_name.strip()}"
    _chronicle(case, user, ChronologyEntry.Kind.DECISION,
               f"Intervention started: {item.get_type_display()}{where}"
               + (f" ({item.description})" if item.description else "")
               + f", owner {item.owner}", on=min(start_date, _today()))
    _stage_at_least(case, user, TYPE_STAGE.get(type))
    return item


def _stage_at_least(case: Case, user, stage: str | None) -> None:
    if stage and STAGE_ORDER.index(stage) > STAGE_ORDER.index(case.stage):
        before = case.get_stage_display()
        case.stage = stage
        _save(case)
        _chronicle(case, user, ChronologyEntry.Kind.DECISION,
                   f"Stage moved from {before} to {case.get_stage_display()}")


@transaction.atomic
def intervention_end(*, intervention: Intervention, user, end_date: date,
                     outcome: str) -> Intervention:
    if intervention.end_date is not None:
        raise ApplicationError("This intervention has already ended.")
    if not outcome.strip():
        raise ApplicationError("Enter the outcome of the intervention.")
    if end_date < intervention.start_date:
        raise ApplicationError("The end date cannot be before the start date.")
    if end_date > _today():
        raise ApplicationError("The end date cannot be in the future.")
    intervention.end_date = end_date
    intervention.outcome = outcome.strip()
    intervention.ended_by = user
    _save(intervention)
    _chronicle(intervention.case, user, ChronologyEntry.Kind.DECISION,
               f"Intervention ended: {intervention.get_type_display()}. Outcome: "
               f"{intervention.outcome}", on=end_date)
    return intervention


@transaction.atomic
def intervention_review_record(*, intervention: Intervention, user, reviewed_on: date, note: str,
                               next_review_date: date | None = None) -> InterventionReview:
    """Record a review of a current intervention: when it was held, what it found and decided
    and, for a part-time timetable (which must keep being reviewed), when the next one is due.
    Reviews are recorded in the order they were held."""
    case = intervention.case
    _live(case)
    # Lock the intervention so two reviews recorded at once keep their order.
    Intervention.objects.select_for_update().filter(pk=intervention.pk).first()
    if intervention.end_date is not None:
        raise ApplicationError("This intervention has ended: there is nothing to review.")
    if not note.strip():
        raise ApplicationError("Enter what the review found and decided.")
    if reviewed_on > _today():
        raise ApplicationError("The review date cannot be in the future.")
    if reviewed_on < intervention.start_date:
        raise ApplicationError("The review date cannot be before the intervention started.")
    last = intervention.reviews.order_by("reviewed_on", "recorded_at", "pk").last()
    if last is not None and reviewed_on < last.reviewed_on:
        raise ApplicationError(f"A later review (held {last.reviewed_on:%-d %B %Y}) is already "
                               "recorded. Record reviews in the order they were held.")
    if intervention.type == InterventionType.PART_TIME and next_review_date is None:
        raise ApplicationError("Enter the next review date: a part-time timetable must keep "
                               "being reviewed until it ends.")
    if next_review_date is not None and next_review_date <= reviewed_on:
        raise ApplicationError("The next review date must be after this review.")
    review = _save(InterventionReview(intervention=intervention, reviewed_on=reviewed_on,
                                      note=note.strip(), next_review_date=next_review_date,
                                      recorded_by=user))
    _chronicle(case, user, ChronologyEntry.Kind.DECISION,
               f"{intervention.get_type_display()} reviewed: {review.note}"
               + (f". Next review by {next_review_date:%d/%m/%Y}" if next_review_date else ""),
               on=reviewed_on)
    return review


@transaction.atomic
def chronology_add(*, case: Case, user, occurred_on: date, kind: str, note: str,
                   corrects: ChronologyEntry | None = None) -> ChronologyEntry:
    if occurred_on > _today():
        raise ApplicationError("The date cannot be in the future.")
    if not note.strip():
        raise ApplicationError("Enter what happened.")
    if corrects is not None and corrects.case_id != case.pk:
        raise ApplicationError("You can only correct an entry of the same case.")
    return _save(ChronologyEntry(case=case, occurred_on=occurred_on, kind=kind,
                                 note=note.strip(), recorded_by=user, corrects=corrects))


# --- Legal gates -------------------------------------------------------------------------------

@transaction.atomic
def officer_consultation_record(*, case: Case, user, officer, consulted_on: date,
                                note: str = "") -> OfficerConsultation:
    _live(case)
    if not officer.is_la_officer:
        raise ApplicationError(f"{officer} is not an LA attendance officer.")
    if consulted_on > _today():
        raise ApplicationError("The consultation date cannot be in the future.")
    record = _save(OfficerConsultation(case=case, officer=officer, consulted_on=consulted_on,
                                       note=note.strip(), recorded_by=user))
    _chronicle(case, user, ChronologyEntry.Kind.MEETING,
               f"School consulted its attendance officer ({officer}) about legal action"
               + (f": {note.strip()}" if note.strip() else ""), on=consulted_on)
    return record


@transaction.atomic
def alternatives_record(*, case: Case, user, alternatives: str) -> AlternativesConsidered:
    _live(case)
    if not alternatives.strip():
        raise ApplicationError("Enter the alternatives considered.")
    record = _save(AlternativesConsidered(case=case, alternatives=alternatives.strip(),
                                          recorded_by=user))
    _chronicle(case, user, ChronologyEntry.Kind.DECISION,
               f"Alternatives to legal action considered: {alternatives.strip()}")
    return record


@transaction.atomic
def social_worker_decision_record(*, case: Case, user, decision: str,
                                  note: str = "") -> SocialWorkerDecision:
    """The allocated social worker agrees to, or declines, legal action on a CIN/CP child."""
    _live(case)
    if user not in allocated_social_workers(case.pupil):
        raise ApplicationError("Only the child's allocated social worker can agree or decline "
                               "legal action.")
    if decision not in SocialWorkerDecision.Decision.values:
        raise ApplicationError("Choose whether you agree or decline.")
    if decision == SocialWorkerDecision.Decision.DECLINED and not note.strip():
        raise ApplicationError("Enter why you decline, so the officer knows what to do next.")
    record = _save(SocialWorkerDecision(case=case, social_worker=user, decision=decision,
                                        note=note.strip()))
    _chronicle(case, user, ChronologyEntry.Kind.DECISION,
               f"Social worker {record.get_decision_display().lower()} to legal action"
               + (f": {note.strip()}" if note.strip() else ""))
    return record


@transaction.atomic
def case_prosecution_start(*, case: Case, user, note: str = "") -> LegalDecision:
    """The case proceeds as a prosecution (s444 Education Act 1996), if every gate is passed.

    Refuses, naming each missing gate: the school has not consulted its officer; no
    alternatives are recorded; a CIN or CP child's allocated social worker has not agreed (or
    declined); a case that was on hold has not been reviewed.
    """
    if not (user.is_la_officer or user.is_manager):
        raise ApplicationError("Only an LA attendance officer or a manager can start a "
                               "prosecution.")
    # Lock the case so two officers pressing the button at once record one decision.
    Case.objects.select_for_update().filter(pk=case.pk).first()
    _live(case)
    if case.interventions.filter(type=InterventionType.PROSECUTION,
                                 end_date__isnull=True).exists():
        raise ApplicationError("A prosecution is already under way on this case.")
    missing = missing_gates(case_gates(case=case))
    if missing:
        lines = "; ".join(f"{n}. {gate.missing}" for n, gate in enumerate(missing, 1))
        raise ApplicationError(
            f"The case cannot proceed as a prosecution yet. "
            f"{len(missing)} legal gate{'s are' if len(missing) > 1 else ' is'} not passed: "
            f"{lines}.",
            extra={"missing_gates": [g.key for g in missing],
                   "reasons": [g.missing for g in missing]},
        )
    decision = LegalDecision.objects.create(case=case, kind=LegalDecision.Kind.PROSECUTION_STARTED,
                                            note=note.strip(), decided_by=user)
    _save(Intervention(case=case, type=InterventionType.PROSECUTION, start_date=_today(),
                       owner=user, created_by=user))
    _stage_at_least(case, user, Stage.ENFORCE)
    _chronicle(case, user, ChronologyEntry.Kind.DECISION,
               f"Case proceeds as prosecution under s444 Education Act 1996 (decided by {user})"
               + (f": {note.strip()}" if note.strip() else ""))
    return decision


# --- Penalty notices ---------------------------------------------------------------------------

def parent_key(name: str) -> str:
    return re.sub(r"\s+", " ", name).strip().casefold()


def _three_years(day: date) -> date:
    return day + relativedelta(years=3)


@transaction.atomic
def penalty_notice_record(*, pupil: Pupil, user, parent_name: str, issued_on: date,
                          case: Case | None = None) -> PenaltyNotice:
    """Record a penalty notice a school or the LA has issued (the portal never issues one).

    National Framework (from 19 August 2024): the first notice to a parent for a child is £160,
    reduced to £80 if paid within 21 days (£160 within 28). A second to the same parent for the
    same child within three years of the first is £160 flat. No third within those three years.
    Paid and unpaid notices count; withdrawn ones do not. Notices are recorded in issue order.
    """
    name = parent_name.strip()
    if not name:
        raise ApplicationError("Enter the parent's full name.")
    if issued_on > _today():
        raise ApplicationError("The issue date cannot be in the future: record a notice once it "
                               "has been issued.")
    if issued_on < FRAMEWORK_START:
        raise ApplicationError("This register holds notices issued under the National Framework "
                               "in force from 19 August 2024.")
    if case is not None and case.pupil_id != pupil.pk:
        raise ApplicationError("That case is for a different child.")
    key = parent_key(name)
    # One writer at a time per child, so two clerks cannot both record a "second" notice.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(7240007, %s)", [pupil.pk])
    live = list(PenaltyNotice.objects.filter(pupil=pupil, parent_key=key)
                .exclude(status=PenaltyNotice.Status.WITHDRAWN).order_by("issued_on", "pk"))
    later = [n for n in live if n.issued_on > issued_on]
    if later:
        raise ApplicationError(
            f"A later notice (issued {later[-1].issued_on:%-d %B %Y}) is already recorded for "
            f"{name}. Record notices in the order they were issued.")
    # Walk the live notices into three-year periods; a stored first notice always starts one.
    periods: list[list[PenaltyNotice]] = []
    for notice in live:
        if (notice.sequence == 1 or not periods
                or notice.issued_on >= _three_years(periods[-1][0].issued_on)):
            periods.append([notice])
        else:
            periods[-1].append(notice)
    current = periods[-1] if periods else None
    if current and issued_on < _three_years(current[0].issued_on):
        first = current[0]
        if len(current) >= 2:
            raise ApplicationError(
                f"Refused: {name} has already had two penalty notices for {pupil.full_name} "
                f"within three years of the first (issued {first.issued_on:%-d %B %Y}; the "
                f"three years end on {_three_years(first.issued_on):%-d %B %Y}). "
                + PENALTY_ALTERNATIVES,
                extra={"rule": "three_year_limit",
                       "period_ends": _three_years(first.issued_on).isoformat()},
            )
        notice = PenaltyNotice(sequence=2, period_start=first.issued_on,
                               amount=SECOND_NOTICE_AMOUNT, reduced_amount=None, reduced_by=None)
    else:
        notice = PenaltyNotice(sequence=1, period_start=issued_on, amount=FIRST_NOTICE_AMOUNT,
                               reduced_amount=FIRST_NOTICE_REDUCED,
                               reduced_by=issued_on + timedelta(days=21))
    notice.pupil = pupil
    notice.case = case
    notice.parent_name = name
    notice.parent_key = key
    notice.issued_on = issued_on
    notice.pay_by = issued_on + timedelta(days=28)
    notice.recorded_by = user
    try:
        with transaction.atomic():
            _save(notice)
    except IntegrityError as error:
        raise ApplicationError(f"The notice breaks the three-year rule: {error}") from error
    if case is not None:
        due = (f"£{notice.amount} within 28 days" if notice.sequence == 2 else
               f"£{notice.reduced_amount} if paid within 21 days, £{notice.amount} within 28")
        _chronicle(case, user, ChronologyEntry.Kind.LETTER,
                   f"Penalty notice {'(second, flat rate) ' if notice.sequence == 2 else ''}"
                   f"issued to {name}: {due}", on=issued_on)
    return notice


@transaction.atomic
def penalty_notice_status_set(*, notice: PenaltyNotice, user, status: str,
                              paid_on: date | None = None, outcome: str = "") -> PenaltyNotice:
    if status not in PenaltyNotice.Status.values:
        raise ApplicationError("Choose paid, unpaid or withdrawn.")
    if notice.status == PenaltyNotice.Status.WITHDRAWN and status != notice.status:
        raise ApplicationError("A withdrawn notice cannot be reinstated; record a new notice.")
    if status == PenaltyNotice.Status.PAID:
        if paid_on is None:
            raise ApplicationError("Enter the date the notice was paid.")
        if paid_on < notice.issued_on or paid_on > _today():
            raise ApplicationError("The payment date must be between the issue date and today.")
    else:
        paid_on = None
    if status == PenaltyNotice.Status.WITHDRAWN and not outcome.strip():
        raise ApplicationError("Enter why the notice was withdrawn.")
    notice.status = status
    notice.paid_on = paid_on
    if outcome.strip():
        notice.outcome = outcome.strip()
    _save(notice)
    if notice.case_id:
        _chronicle(notice.case, user, ChronologyEntry.Kind.NOTE,
                   f"Penalty notice to {notice.parent_name} of {notice.issued_on:%d/%m/%Y} "
                   f"marked {notice.get_status_display().lower()}"
                   + (f" (paid {paid_on:%d/%m/%Y})" if paid_on else "")
                   + (f": {outcome.strip()}" if outcome.strip() else ""))
    return notice


def penalty_notice_due_amount(notice: PenaltyNotice, paid_on: date) -> str:
    """What a payment on ``paid_on`` settles the notice at (for display)."""
    if notice.reduced_by and paid_on <= notice.reduced_by:
        return f"£{notice.reduced_amount}"
    return f"£{notice.amount}"


# --- Penalty threshold alerts (called by the nightly job) --------------------------------------

def penalty_threshold_alerts_raise(*, as_of: date) -> list[int]:
    """Alert each pupil's school's link officer when the pupil reaches the penalty notice
    threshold (10 unauthorised sessions in 10 school weeks). One alert per episode: the dedup
    key is the pupil and the Monday of the first window that reached the threshold, so
    re-running changes nothing and a later, separate episode raises a new alert. Reaching the
    threshold means a notice must be *considered*; the alert says so and nothing is issued."""
    params, pupil_filter = threshold_params(as_of=as_of)
    if not params["mondays"]:
        return []
    select = f"""
        WITH episodes AS ({EPISODES_SQL.format(pupil_filter=pupil_filter)})
        SELECT DISTINCT ON (s.link_officer_id, ep.pupil_id, ep.first_window_start)
               s.link_officer_id, ep.pupil_id, s.id, '{Rule.PENALTY_THRESHOLD}',
               ep.first_sessions || ' unauthorised sessions in 10 school weeks ('
                   || to_char(ep.first_window_start, 'DD/MM/YYYY') || ' to '
                   || to_char(ep.first_window_end, 'DD/MM/YYYY')
                   || '): consider a penalty notice or other action',
               jsonb_build_object(
                   'unauthorised sessions', ep.first_sessions,
                   'window from', to_char(ep.first_window_start, 'DD/MM/YYYY'),
                   'window to', to_char(ep.first_window_end, 'DD/MM/YYYY'),
                   'latest window sessions', ep.latest_sessions,
                   'threshold', '10 unauthorised sessions (G, N, O, U) in 10 school weeks',
                   'note', 'A notice must be considered, never issued automatically'),
               'penalty:' || ep.pupil_id || ':' || ep.first_window_start
        FROM episodes ep
        JOIN pupils_enrolment e ON e.pupil_id = ep.pupil_id
         AND e.start_date <= %(as_of)s
         AND (e.end_date IS NULL OR e.end_date >= ep.first_window_start)
        JOIN schools_school s ON s.id = e.school_id AND s.link_officer_id IS NOT NULL
        JOIN accounts_user u ON u.id = s.link_officer_id AND u.is_active
        ORDER BY s.link_officer_id, ep.pupil_id, ep.first_window_start, e.end_date DESC NULLS FIRST
    """
    return alerts_insert_from_select(select_sql=select, params=params)
