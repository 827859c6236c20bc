"""The legal gates of a case (002 seed, "Joint decision making on enforcement").

1. The school discussed the child with its named attendance officer.
2. Other approaches and support were considered, and that is recorded.
3. If the child is on a CIN or CP plan, the allocated social worker agreed.
4. If the legal approach was put on hold, the case was reviewed.
Only then may the case proceed as a prosecution (``services.case_prosecution_start``).

A read over a case the caller has already fetched through the scoped selectors.
"""

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Q
from django.utils import timezone

from interventions.models import Case, SocialWorkerDecision
from pupils.models import Characteristics, SocialWorkerAllocation


@dataclass
class Gate:
    key: str
    name: str
    done: bool
    needed: bool = True
    detail: str = ""
    blocked: bool = False  # refused outright (a social worker declined)
    missing: str = ""  # what the refusal says when the gate is not passed
    records: list = field(default_factory=list)

    @property
    def status(self) -> str:
        if not self.needed:
            return "Not needed"
        if self.blocked:
            return "Declined"
        return "Completed" if self.done else "Not yet done"


def latest_characteristics(pupil, today: date | None = None) -> Characteristics | None:
    today = today or timezone.localdate()
    return pupil.characteristics.filter(effective_date__lte=today).first()


def allocated_social_workers(pupil, today: date | None = None) -> list:
    today = today or timezone.localdate()
    allocations = SocialWorkerAllocation.objects.filter(
        pupil=pupil, start_date__lte=today
    ).filter(Q(end_date__isnull=True) | Q(end_date__gte=today)).select_related("social_worker")
    return [a.social_worker for a in allocations]


def needs_social_worker(pupil, today: date | None = None) -> bool:
    snapshot = latest_characteristics(pupil, today)
    return bool(snapshot and (snapshot.cin or snapshot.cp))


def _when(moment) -> str:
    return f"{timezone.localtime(moment):%-d %B %Y at %H:%M}"


def case_gates(*, case: Case, today: date | None = None) -> list[Gate]:
    today = today or timezone.localdate()
    gates = []

    consultations = list(case.consultations.select_related("officer", "recorded_by"))
    last = consultations[-1] if consultations else None
    gates.append(Gate(
        key="officer_consulted",
        name="School has consulted its attendance officer",
        done=bool(consultations),
        records=consultations,
        detail=(f"{last.officer} consulted on {last.consulted_on:%-d %B %Y} (recorded by "
                f"{last.recorded_by}, {_when(last.recorded_at)})" if last else
                "The school must discuss the child with its named attendance officer."),
        missing="the school has not yet consulted its attendance officer "
                "(record the consultation: who and when)",
    ))

    alternatives = list(case.alternatives.select_related("recorded_by"))
    last = alternatives[-1] if alternatives else None
    gates.append(Gate(
        key="alternatives_considered",
        name="Alternatives to legal action considered and recorded",
        done=bool(alternatives),
        records=alternatives,
        detail=(f"Recorded by {last.recorded_by}, {_when(last.recorded_at)}" if last else
                "Record the other approaches and support considered, and why they are not "
                "enough."),
        missing="the alternatives to legal action considered have not been recorded",
    ))

    snapshot = latest_characteristics(case.pupil, today)
    needed = bool(snapshot and (snapshot.cin or snapshot.cp))
    workers = allocated_social_workers(case.pupil, today)
    decisions = list(
        case.social_worker_decisions.select_related("social_worker").order_by("decided_at", "pk")
    )
    current = [d for d in decisions if d.social_worker in workers]
    latest = current[-1] if current else None
    plan = ("child protection plan" if snapshot and snapshot.cp else "child in need plan")
    if not needed:
        gate = Gate(key="social_worker_agreed", name="Social worker agrees (CIN or CP child)",
                    done=True, needed=False,
                    detail="Not needed: the child is not on a CIN or CP plan.")
    elif not workers:
        gate = Gate(key="social_worker_agreed", name="Social worker agrees (CIN or CP child)",
                    done=False,
                    detail=f"The child is on a {plan} but no social worker is allocated.",
                    missing=f"the child is on a {plan} and no social worker is allocated to "
                            "agree (ask children's social care to allocate one)")
    elif latest is None:
        names = ", ".join(str(w) for w in workers)
        gate = Gate(key="social_worker_agreed", name="Social worker agrees (CIN or CP child)",
                    done=False,
                    detail=f"Waiting for {names} to agree or decline. Ask them to record it: "
                           "they see this case under Cases, Legal decisions for your caseload.",
                    missing=f"the child is on a {plan} and the allocated social worker "
                            f"({names}) has not agreed")
    elif latest.decision == SocialWorkerDecision.Decision.DECLINED:
        gate = Gate(key="social_worker_agreed", name="Social worker agrees (CIN or CP child)",
                    done=False, blocked=True,
                    detail=f"Declined by {latest.social_worker}, {_when(latest.decided_at)}: "
                           f"{latest.note}. The case cannot proceed unless they agree later.",
                    missing=f"the allocated social worker ({latest.social_worker}) declined on "
                            f"{timezone.localtime(latest.decided_at):%-d %B %Y}: {latest.note}")
    else:
        gate = Gate(key="social_worker_agreed", name="Social worker agrees (CIN or CP child)",
                    done=True,
                    detail=f"Agreed by {latest.social_worker}, {_when(latest.decided_at)}"
                           + (f": {latest.note}" if latest.note else ""))
    gate.records = decisions
    gates.append(gate)

    holds = list(case.holds.select_related("put_by", "reviewed_by"))
    open_holds = [h for h in holds if h.reviewed_on is None]
    if not holds:
        gates.append(Gate(key="hold_reviewed", name="Case reviewed after being on hold",
                          done=True, needed=False,
                          detail="Not needed: the legal approach has not been put on hold."))
    elif open_holds:
        hold = open_holds[0]
        gates.append(Gate(
            key="hold_reviewed", name="Case reviewed after being on hold", done=False,
            records=holds,
            detail=f"On hold since {hold.started_on:%-d %B %Y}; review due "
                   f"{hold.review_due:%-d %B %Y}.",
            missing=f"the case was put on hold on {hold.started_on:%-d %B %Y} and has not been "
                    f"reviewed (review due {hold.review_due:%-d %B %Y})"))
    else:
        hold = holds[-1]
        gates.append(Gate(
            key="hold_reviewed", name="Case reviewed after being on hold", done=True,
            records=holds,
            detail=f"Reviewed on {hold.reviewed_on:%-d %B %Y} by {hold.reviewed_by}"))
    return gates


def missing_gates(gates: list[Gate]) -> list[Gate]:
    return [g for g in gates if g.needed and not g.done]
