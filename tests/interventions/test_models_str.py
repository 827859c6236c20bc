"""Each legal-gate record reads as its case and what happened, never the child's name (admin
lists and audit entries show these strings)."""

from datetime import date

import pytest

from interventions.models import (
    AlternativesConsidered,
    CaseHold,
    LegalDecision,
    OfficerConsultation,
    SocialWorkerDecision,
)


@pytest.mark.parametrize(("record", "text"), [
    (OfficerConsultation(case_id=7, consulted_on=date(2025, 11, 3)),
     "Case 7: attendance officer consulted on 2025-11-03"),
    (AlternativesConsidered(case_id=7, alternatives="Mentoring"),
     "Case 7: alternatives considered"),
    (SocialWorkerDecision(case_id=7, decision="declined"), "Case 7: social worker declined"),
    (CaseHold(case_id=7, started_on=date(2025, 11, 3), review_due=date(2025, 12, 1)),
     "Case 7: on hold from 2025-11-03, review by 2025-12-01"),
    (LegalDecision(case_id=7, kind="no_legal_action"), "Case 7: No legal action"),
])
def test_a_legal_gate_record_reads_as_its_case_and_event(record, text):
    assert str(record) == text
