"""The GOV.UK date input: three boxes in, one date out, the Design System's error messages."""

from datetime import date

import pytest
from django import forms

from portal_ui.forms import GovukDateField


class EventForm(forms.Form):
    happened_on = GovukDateField(label="Date of the visit")
    follow_up_on = GovukDateField(label="Follow-up date", required=False)


def _form(**data):
    return EventForm(data=data)


def test_it_reads_a_date_from_the_three_boxes():
    form = _form(**{"happened_on-day": "7", "happened_on-month": "03", "happened_on-year": "2026"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"happened_on": date(2026, 3, 7), "follow_up_on": None}


def test_it_still_accepts_one_iso_value():
    form = _form(happened_on="2026-03-07")
    assert form.is_valid() and form.cleaned_data["happened_on"] == date(2026, 3, 7)


@pytest.mark.parametrize(("day", "month", "year", "message"), [
    ("", "", "", "Enter the date of the visit"),
    ("7", "", "2026", "The date of the visit must include a month"),
    ("", "", "2026", "The date of the visit must include a day and month"),
    ("31", "2", "2026", "The date of the visit must be a real date"),
    ("7", "3", "26", "The date of the visit must be a real date, for example 27 3 2026"),
    ("seven", "3", "2026", "The date of the visit must be a real date, for example 27 3 2026"),
])
def test_it_says_what_is_wrong_with_a_date(day, month, year, message):
    form = _form(**{"happened_on-day": day, "happened_on-month": month,
                    "happened_on-year": year})
    assert not form.is_valid()
    assert form.errors["happened_on"] == [message]


def test_it_keeps_what_was_typed_when_the_form_comes_back():
    form = _form(**{"happened_on-day": "31", "happened_on-month": "2",
                    "happened_on-year": "2026"})
    html = str(form["happened_on"])
    assert 'name="happened_on-day"' in html and 'value="31"' in html
    assert 'id="id_happened_on"' in html  # the day box: error summary links land on it
    assert 'id="id_happened_on-month"' in html and 'id="id_happened_on-year"' in html
    assert 'type="date"' not in html


def test_it_fills_the_boxes_from_an_initial_date():
    form = EventForm(initial={"happened_on": date(2026, 11, 23)})
    html = str(form["happened_on"])
    assert 'value="23"' in html and 'value="11"' in html and 'value="2026"' in html
