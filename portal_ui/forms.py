"""The GOV.UK date input (day, month, year boxes) as a Django form field.

The Design System asks for three boxes rather than the browser's date picker: it works the same
in every browser and with a screen reader, and people type a date they know faster than they
pick it. The field also accepts one ISO value (``name=2026-03-27``), so API clients and tests
that post a date string keep working.
"""

from datetime import date

from django import forms
from django.core.exceptions import ValidationError

PARTS = ("day", "month", "year")


class GovukDateWidget(forms.Widget):
    template_name = "portal_ui/date_input.html"
    input_type = "govuk-date"

    def value_from_datadict(self, data, files, name):
        if data.get(name):
            return data.get(name)
        parts = [(data.get(f"{name}-{part}") or "").strip() for part in PARTS]
        return None if not any(parts) else parts

    def value_omitted_from_data(self, data, files, name):
        return name not in data and not any(f"{name}-{part}" in data for part in PARTS)

    def format_value(self, value):
        if isinstance(value, date):
            return {"day": value.day, "month": value.month, "year": value.year}
        if isinstance(value, list | tuple):
            return dict(zip(PARTS, value, strict=False))
        if isinstance(value, str) and value:
            try:
                return self.format_value(date.fromisoformat(value))
            except ValueError:
                return {"day": "", "month": "", "year": ""}
        return {"day": "", "month": "", "year": ""}

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["parts"] = [
            {"name": f"{name}-{part}", "part": part, "label": part.capitalize(),
             "value": context["widget"]["value"].get(part, ""),
             "id": context["widget"]["attrs"]["id"] if part == "day"
             else f"{context['widget']['attrs']['id']}-{part}",
             "width": 4 if part == "year" else 2}
            for part in PARTS
        ]
        return context

    def id_for_label(self, id_):
        return id_


class GovukDateField(forms.DateField):
    """A date from three boxes, with the Design System's error messages."""

    widget = GovukDateWidget

    def __init__(self, *, label: str, **kwargs):
        self.what = label[0].lower() + label[1:]
        kwargs.setdefault("error_messages", {"required": f"Enter the {self.what}"})
        super().__init__(label=label, **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                raise ValidationError(f"The {self.what} must be a real date",
                                      code="invalid") from None
        missing = [part for part, text in zip(PARTS, value, strict=True) if not text]
        if missing:
            raise ValidationError(f"The {self.what} must include a {' and '.join(missing)}",
                                  code="incomplete")
        if not all(text.isdigit() for text in value) or len(value[2]) != 4:
            raise ValidationError(f"The {self.what} must be a real date, for example 27 3 2026",
                                  code="invalid")
        day, month, year = (int(text) for text in value)
        try:
            return date(year, month, day)
        except ValueError:
            raise ValidationError(f"The {self.what} must be a real date", code="invalid") from None
