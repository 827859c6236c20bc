"""Template helpers for casework pages: GOV.UK form widgets, rates, the pupil-page include."""

from django import forms, template

register = template.Library()

_CLASSES = {
    "select": ("govuk-select", "govuk-select--error"),
    "textarea": ("govuk-textarea", "govuk-textarea--error"),
    "govuk-date": ("govuk-date-input", "govuk-input--error"),
    "text": ("govuk-input", "govuk-input--error"),
}


@register.filter
def field_kind(field) -> str:
    widget = field.field.widget
    if isinstance(widget, forms.RadioSelect):
        return "radio"
    if isinstance(widget, forms.Select):
        return "select"
    if isinstance(widget, forms.Textarea):
        return "textarea"
    if getattr(widget, "input_type", "") == "govuk-date":
        return "govuk-date"
    return "text"


@register.filter
def casework_widget(field):
    """The field's widget with the GOV.UK class for its kind, error state and described-by."""
    kind = field_kind(field)
    base, error = _CLASSES.get(kind, _CLASSES["text"])
    attrs = {"class": base + (f" {error}" if field.errors else "")}
    described = []
    if kind == "govuk-date":  # the fieldset around the three boxes carries the description
        return field.as_widget(attrs=attrs)
    if field.help_text:
        described.append(f"{field.auto_id}-hint")
    if field.errors:
        described.append(f"{field.auto_id}-error")
    if described:
        attrs["aria-describedby"] = " ".join(described)
    return field.as_widget(attrs=attrs)


@register.filter
def pct(value) -> str:
    return "–" if value is None else f"{value:.1f}%"


@register.filter
def signed_points(value) -> str:
    if value is None:
        return ""
    return f"{value:+.1f} points"


@register.simple_tag(takes_context=True)
def pupil_casework(context, pupil, band=None):
    """Casework for the pupil page (``selectors.pupil_casework``) for the signed-in user."""
    from interventions.selectors import pupil_casework as select

    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    if user is None or not user.is_authenticated:
        return {"cases": [], "live": None, "can_open": False, "band": None, "steps": []}
    return select(user=user, pupil=pupil, band=getattr(band, "value", band))
