"""Small filters for TSM pages; the pack is JSON-ready data, so dates arrive as ISO strings."""

from datetime import date, datetime

from django import template

from attendance.bands import Band

register = template.Library()


@register.filter
def iso_date(value):
    """'2025-11-14' (or a datetime string) -> a date/datetime the |date filter can format."""
    if not value or isinstance(value, date):
        return value
    try:
        return datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    except ValueError:
        return value


@register.filter
def pct(value):
    if value is None or value == "":
        return "–"
    try:
        return f"{float(value):.1f}%"
    except (TypeError, ValueError):
        return "–"


@register.filter
def band_name(value):
    try:
        return Band(int(value)).label
    except (TypeError, ValueError):
        return "No band"


@register.filter
def band_short(value):
    try:
        return f"Band {int(value)}"
    except (TypeError, ValueError):
        return "–"


@register.filter
def band_row(figures, band):
    """The {count, pct} entry of a figures dict for one band (or None)."""
    if not figures:
        return None
    for row in figures.get("bands", []):
        if row["band"] == band:
            return row
    return None


@register.filter
def status_tag(status):
    return {
        "to_book": "govuk-tag--grey", "proposed": "govuk-tag--yellow",
        "confirmed": "govuk-tag--blue", "held": "govuk-tag--green",
        "cancelled": "govuk-tag--red", "none": "govuk-tag--grey",
        "open": "govuk-tag--blue", "done": "govuk-tag--green", "dropped": "govuk-tag--grey",
        "carried": "govuk-tag--purple",
    }.get(status, "")


@register.filter
def my_open_actions(user):
    """The home page include's list (tsm.selectors.actions_for_owner), at most 20."""
    from tsm.selectors import actions_for_owner

    return list(actions_for_owner(user)[:20])


@register.filter
def short_date(value):
    """'2026-11-05' -> '5 Nov 2026', as |iso_date|date:"j M Y" would, without Django's
    localised formatter: the pack's alerts table has hundreds of rows."""
    if not value:
        return ""
    try:
        day = date.fromisoformat(str(value)[:10])
    except ValueError:
        return value
    return f"{day.day} {day:%b %Y}"
