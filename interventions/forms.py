"""Forms for casework pages. They only collect input: the rules live in services.py."""

from django import forms
from django.utils import timezone

from interventions.models import (
    ChronologyEntry,
    InterventionType,
    PenaltyNotice,
    SocialWorkerDecision,
    Stage,
)
from portal_ui.forms import GovukDateField
from schools.models import School


def _date(label, required=True, help_text=""):
    return GovukDateField(label=label, required=required, help_text=help_text)


def _text(label, required=True, help_text="", rows=4, max_length=4000):
    return forms.CharField(label=label, required=required, help_text=help_text,
                           max_length=max_length,
                           widget=forms.Textarea(attrs={"rows": rows}),
                           error_messages={"required": f"Enter {label[0].lower() + label[1:]}"})


class CaseOpenForm(forms.Form):
    reason = _text("Why are you opening a case?",
                   help_text="The attendance concern and what has been tried so far.")
    stage = forms.ChoiceField(label="Stage on the DfE ladder", choices=Stage.choices,
                              initial=Stage.LISTEN,
                              help_text="Expect, monitor, listen and understand, facilitate "
                                        "support, formalise support, enforce.")


class StageForm(forms.Form):
    stage = forms.ChoiceField(label="New stage", choices=Stage.choices)
    note = _text("Why (optional)", required=False, rows=3)


class CloseForm(forms.Form):
    note = _text("Why is the case being closed?")


class HoldForm(forms.Form):
    reason = _text("Why is the legal approach being put on hold?")
    review_due = _date("Review date", help_text="The case must be reviewed by this date before "
                       "legal action can go ahead.")


class HoldReviewForm(forms.Form):
    note = _text("What did the review find and decide?")


class InterventionForm(forms.Form):
    type = forms.ChoiceField(
        label="Type of intervention",
        choices=[("", "Choose a type")] + [c for c in InterventionType.choices
                                           if c[0] != InterventionType.PROSECUTION],
        error_messages={"required": "Choose the type of intervention"},
    )
    description = forms.CharField(label="Description (required for 'Other')", required=False,
                                  max_length=200)
    start_date = _date("Start date")
    review_date = _date("Review date", required=False,
                        help_text="Required for a part-time timetable.")
    planned_end_date = _date("Planned end date", required=False,
                             help_text="Required for a part-time timetable: it must be "
                                       "time-limited.")
    provider_school = forms.ModelChoiceField(
        label="Alternative provision: the school or PRU", required=False,
        queryset=School.objects.order_by("name"), empty_label="Not a school on our list",
        help_text="Choose it when the provider is a school, so its attendance can be shown.",
    )
    provider_name = forms.CharField(label="Alternative provision: provider name",
                                    required=False, max_length=200,
                                    help_text="If the provider is not a school on our list.")
    owner = forms.ModelChoiceField(label="Owner", queryset=None, empty_label=None)

    def __init__(self, *args, owners=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners
        self.fields["start_date"].initial = timezone.localdate()

    def clean(self):
        """Point the conditional requirements at their own fields (services check them too)."""
        data = super().clean()
        kind = data.get("type")
        if kind == InterventionType.PART_TIME:
            if not data.get("review_date"):
                self.add_error("review_date", "Enter a review date: a part-time timetable must "
                                              "be reviewed")
            if not data.get("planned_end_date"):
                self.add_error("planned_end_date", "Enter a planned end date: a part-time "
                                                   "timetable must be time-limited")
        if kind == InterventionType.AP and not (data.get("provider_school")
                                                or data.get("provider_name", "").strip()):
            self.add_error("provider_name", "Enter the provider, or choose the school or PRU")
        if kind == InterventionType.OTHER and not data.get("description", "").strip():
            self.add_error("description", "Describe the intervention")
        return data


class InterventionEndForm(forms.Form):
    end_date = _date("End date")
    outcome = _text("Outcome", help_text="What changed for the child: attendance, engagement, "
                    "what happens next.")


class InterventionReviewForm(forms.Form):
    reviewed_on = _date("Date of the review")
    note = _text("What did the review find and decide?",
                 help_text="Who took part, what is working, what changes, whether it continues.")
    next_review_date = _date("Next review date", required=False,
                             help_text="Required for a part-time timetable: it must keep being "
                                       "reviewed until it ends.")


class ChronologyForm(forms.Form):
    occurred_on = _date("Date")
    kind = forms.ChoiceField(label="Type", choices=ChronologyEntry.Kind.choices,
                             initial=ChronologyEntry.Kind.CONTACT)
    note = _text("What happened", help_text="Facts, who was there, what was agreed. Entries "
                 "cannot be changed later: add a correction if needed.")


class ConsultationForm(forms.Form):
    officer = forms.ModelChoiceField(label="Attendance officer consulted", queryset=None,
                                     empty_label=None)
    consulted_on = _date("Date of the consultation")
    note = _text("What was discussed (optional)", required=False, rows=3)

    def __init__(self, *args, officers=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["officer"].queryset = officers


class AlternativesForm(forms.Form):
    alternatives = _text("Alternatives considered",
                         help_text="Other approaches and support considered (early help, TAC, "
                                   "attendance contract, alternative provision…), what was "
                                   "tried and why legal action is still needed.", rows=6)


class SocialWorkerDecisionForm(forms.Form):
    decision = forms.ChoiceField(label="Do you agree to legal action?",
                                 choices=SocialWorkerDecision.Decision.choices,
                                 widget=forms.RadioSelect,
                                 error_messages={"required": "Choose agree or decline"})
    note = _text("Your reasons", required=False,
                 help_text="Required if you decline: say what should happen instead.")


class ProsecutionForm(forms.Form):
    note = _text("Decision note (optional)", required=False, rows=3)


class FamilyLinkForm(forms.Form):
    upn = forms.CharField(label="The sibling's UPN", max_length=13,
                          help_text="The sibling must have an open case you can see.")


class PenaltyNoticeForm(forms.Form):
    parent_name = forms.CharField(label="Parent's full name", max_length=150,
                                  help_text="Notices are counted per parent, per child.",
                                  error_messages={"required": "Enter the parent's full name"})
    issued_on = _date("Date issued")


class PenaltyStatusForm(forms.Form):
    status = forms.ChoiceField(label="Status", choices=PenaltyNotice.Status.choices,
                               widget=forms.RadioSelect)
    paid_on = _date("Date paid", required=False)
    outcome = _text("Outcome or reason (required to withdraw)", required=False, rows=3)
