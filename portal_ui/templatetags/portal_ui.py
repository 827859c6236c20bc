"""Template helpers for GOV.UK patterns the govuk-frontend-django tags do not cover."""

from django import template

register = template.Library()

# DfE ethnicity codes (school census, main and extended major-group codes).
ETHNICITY = {
    "WBRI": "White – British",
    "WIRI": "White – Irish",
    "WIRT": "Traveller of Irish heritage",
    "WROM": "Gypsy / Roma",
    "WOTH": "Any other White background",
    "MWBC": "White and Black Caribbean",
    "MWBA": "White and Black African",
    "MWAS": "White and Asian",
    "MOTH": "Any other mixed background",
    "AIND": "Indian",
    "APKN": "Pakistani",
    "ABAN": "Bangladeshi",
    "AOTH": "Any other Asian background",
    "BCRB": "Black Caribbean",
    "BAFR": "Black African",
    "BOTH": "Any other Black background",
    "CHNE": "Chinese",
    "OOTH": "Any other ethnic group",
    "REFU": "Refused",
    "NOBT": "Information not yet obtained",
}


@register.filter
def ethnicity_label(code: str) -> str:
    """'WBRI' -> 'White – British (WBRI)'; an unknown code is shown as it is."""
    if not code:
        return ""
    label = ETHNICITY.get(code.upper())
    return f"{label} ({code})" if label else code


@register.simple_tag
def pagination_items(page, *, around: int = 1) -> list:
    """Page numbers for the GOV.UK pagination component: first, last, current ±1, with gaps.

    Returns a list of ints and ``None`` (an ellipsis), e.g. [1, None, 4, 5, 6, None, 12].
    """
    last = page.paginator.num_pages
    wanted = {1, last} | set(range(page.number - around, page.number + around + 1))
    numbers = sorted(n for n in wanted if 1 <= n <= last)
    items: list = []
    previous = 0
    for number in numbers:
        if number - previous == 2:
            items.append(number - 1)  # a gap of one page: show it rather than an ellipsis
        elif number - previous > 2:
            items.append(None)
        items.append(number)
        previous = number
    return items


@register.filter
def govuk_widget(field):
    """Render a form field's widget with GOV.UK classes, error state and described-by ids."""
    attrs = dict(field.field.widget.attrs)
    classes = set(attrs.get("class", "").split())
    classes.add("govuk-input")
    described = []
    if field.help_text:
        described.append(f"{field.auto_id}-hint")
    if field.errors:
        classes.add("govuk-input--error")
        described.append(f"{field.auto_id}-error")
    attrs["class"] = " ".join(sorted(classes))
    if described:
        attrs["aria-describedby"] = " ".join(described)
    return field.as_widget(attrs=attrs)
