from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings

from pupils.models import Pupil
from tsm.models import DEFAULT_AGENDA, ActionStatus, MeetingStatus

LONDON = ZoneInfo(settings.TIME_ZONE)


class RoundOpenForm(forms.Form):
    term = forms.ModelChoiceField(queryset=None, label="Term", empty_label=None)
    theme = forms.CharField(
        label="Theme for the term", max_length=200,
        help_text="Shared with schools in advance, e.g. 'Severe absence and EHCP pupils'.",
    )
    agenda = forms.CharField(
        label="Agenda", initial="\n".join(DEFAULT_AGENDA),
        help_text="One item a line. Every meeting of the round starts with this agenda.",
        widget=forms.Textarea(attrs={"class": "govuk-textarea", "rows": 9}),
    )

    def __init__(self, *args, terms, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["term"].queryset = terms
        self.fields["term"].widget.attrs["class"] = "govuk-select"

    def agenda_items(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["agenda"].splitlines() if line.strip()]


class ProposeForm(forms.Form):
    """GOV.UK date input (day, month, year) and a 24-hour start time."""

    day = forms.IntegerField(label="Day", min_value=1, max_value=31)
    month = forms.IntegerField(label="Month", min_value=1, max_value=12)
    year = forms.IntegerField(label="Year", min_value=2000, max_value=2100)
    start_time = forms.CharField(label="Start time", max_length=5,
                                 help_text="24-hour clock, for example 09:30 or 14:00")
    duration_minutes = forms.TypedChoiceField(
        label="Length", coerce=int, initial=60,
        choices=[(30, "30 minutes"), (45, "45 minutes"), (60, "1 hour"), (90, "1 hour 30 minutes"),
                 (120, "2 hours")],
    )
    location = forms.CharField(label="Where (optional)", required=False, max_length=200,
                               help_text="A room at the school, an address or 'Microsoft Teams'")

    def clean_start_time(self):
        value = self.cleaned_data["start_time"].strip().replace(".", ":")
        try:
            hours, minutes = (int(part) for part in value.split(":"))
            return time(hours, minutes)
        except (ValueError, TypeError):
            raise forms.ValidationError("Enter the start time like 09:30 or 14:00") from None

    def clean(self):
        data = super().clean()
        if {"day", "month", "year"} <= data.keys():
            try:
                data["date"] = date(data["year"], data["month"], data["day"])
            except ValueError:
                self.add_error("day", "Enter a real date")
        return data

    def start(self) -> datetime:
        return datetime.combine(self.cleaned_data["date"], self.cleaned_data["start_time"],
                                tzinfo=LONDON)


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="Why is the meeting cancelled?", max_length=2000,
        widget=forms.Textarea(attrs={"class": "govuk-textarea", "rows": 3}),
        error_messages={"required": "Enter why the meeting is cancelled"},
    )


class AgendaItemForm(forms.Form):
    title = forms.CharField(label="Add an agenda item", max_length=200)


class NotesForm(forms.Form):
    notes = forms.CharField(required=False, widget=forms.Textarea)


class PupilNoteForm(forms.Form):
    upn = forms.CharField(label="UPN", max_length=13, required=False)
    pupil_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    note = forms.CharField(label="Note", required=False, widget=forms.Textarea)

    def clean(self):
        data = super().clean()
        pupil = None
        if data.get("pupil_id"):
            pupil = Pupil.objects.filter(pk=data["pupil_id"]).first()
        elif data.get("upn"):
            pupil = Pupil.objects.filter(upn=data["upn"].strip().upper()).first()
            if pupil is None:
                self.add_error("upn", "No pupil has this UPN")
        else:
            self.add_error("upn", "Enter the pupil's UPN")
        data["pupil"] = pupil
        return data


class ActionForm(forms.Form):
    description = forms.CharField(
        label="Action", max_length=2000,
        widget=forms.Textarea(attrs={"class": "govuk-textarea", "rows": 2}),
        error_messages={"required": "Describe the action"},
    )
    owner = forms.ModelChoiceField(queryset=None, label="Owner", empty_label=None)
    due_date = forms.DateField(label="Due by", help_text="For example 27/03/2026",
                               input_formats=["%d/%m/%Y", "%Y-%m-%d", "%d/%m/%y"],
                               error_messages={"invalid": "Enter the due date like 27/03/2026",
                                               "required": "Enter the due date"})
    upn = forms.CharField(label="Pupil's UPN (optional)", max_length=13, required=False)

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners
        self.fields["owner"].widget.attrs["class"] = "govuk-select"

    def clean_upn(self):
        upn = self.cleaned_data["upn"].strip().upper()
        if not upn:
            return None
        pupil = Pupil.objects.filter(upn=upn).first()
        if pupil is None:
            raise forms.ValidationError("No pupil has this UPN")
        return pupil


class ActionStatusForm(forms.Form):
    status = forms.ChoiceField(choices=[(ActionStatus.OPEN, "Open"), (ActionStatus.DONE, "Done"),
                                        (ActionStatus.DROPPED, "Dropped")])


class MeetingFilterForm(forms.Form):
    term = forms.ModelChoiceField(queryset=None, required=False, empty_label="Any term")
    status = forms.ChoiceField(required=False,
                               choices=[("", "Any status"), *MeetingStatus.choices,
                                        ("overdue", "Overdue")])

    def __init__(self, *args, terms, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["term"].queryset = terms
