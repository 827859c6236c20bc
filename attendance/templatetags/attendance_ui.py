"""Template helpers for attendance figures: band tags and rates to one decimal place.

Rates are shown to one decimal (DOMAIN.md) but the band always comes from the session counts,
so a band tag is never derived from the displayed figure.
"""

from django import template
from django.utils.html import format_html

from attendance.bands import Band, rate_text

register = template.Library()


def _band(value) -> Band | None:
    try:
        return Band(int(value))
    except (TypeError, ValueError):
        return None


@register.simple_tag
def band_tag(value, empty: str = "No band yet", short: bool = False):
    """A coloured GOV.UK tag: 'Band 3: Persistent absence' (or secondary text when no band).

    ``short`` shows 'Band 3' for narrow table columns; the name stays in the tag for screen
    readers and as its tooltip.
    """
    band = _band(value)
    if band is None:
        return format_html('<span class="app-secondary-text">{}</span>', empty)
    if short:
        return format_html(
            '<strong class="govuk-tag app-band app-band--short app-band-{}" data-band="{}" title="{}">Band {}'
            '<span class="govuk-visually-hidden">: {}</span></strong>',
            band.value, band.value, band.label, band.value, band.label,
        )
    return format_html(
        '<strong class="govuk-tag app-band app-band-{}" data-band="{}">Band {}: {}</strong>',
        band.value, band.value, band.value, band.label,
    )


@register.filter
def band_name(value) -> str:
    band = _band(value)
    return band.label if band else ""


@register.filter
def percent(value) -> str:
    """A percentage (0–100 float) to one decimal place: 90.0%; empty values give ''."""
    if value is None or value == "":
        return ""
    return f"{float(value):.1f}%"


@register.simple_tag
def rate(attended, possible) -> str:
    """attended/possible as a percentage to one decimal place, or '–' with no possible sessions."""
    if not possible:
        return "–"
    return rate_text(attended=attended, possible=possible)


@register.simple_tag
def trend(band, recent_band):
    """How the last four school weeks compare with the year so far, as an arrow and words."""
    if band is None or recent_band is None:
        return format_html('<span class="app-secondary-text">{}</span>', "Not enough data")
    if recent_band > band:
        arrow, word, css = "↓", "Falling", "app-trend--down"
    elif recent_band < band:
        arrow, word, css = "↑", "Improving", "app-trend--up"
    else:
        arrow, word, css = "→", "Steady", "app-trend--steady"
    return format_html(
        '<span class="app-trend {}"><span aria-hidden="true">{} </span>{}'
        '<span class="govuk-visually-hidden">: last four school weeks in band {}</span></span>',
        css, arrow, word, recent_band,
    )


@register.filter
def academic_year(start_year) -> str:
    """2026 -> '2026/27'."""
    try:
        year = int(start_year)
    except (TypeError, ValueError):
        return ""
    return f"{year}/{(year + 1) % 100:02d}"
