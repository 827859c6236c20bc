from django.conf import settings
from django.urls import reverse
from django.utils.html import format_html

from attendance.selectors import user_can_import_registers


def _alerts_label(user) -> str:
    """'Alerts', with the number of unread alerts as a badge when there are any."""
    from alerts.selectors import unread_count

    count = unread_count(user=user)
    if not count:
        return "Alerts"
    return format_html(
        'Alerts <span class="app-nav-count" data-testid="unread-alerts">{}'
        '<span class="govuk-visually-hidden"> unread</span></span>', count,
    )


def navigation(request):
    """Service navigation items for the signed-in user's roles.

    Each item is ``active`` when the page is in its section (aria-current="true") and ``current``
    when it is the section's own page (aria-current="page"), as the GOV.UK component does. The
    section is the item's own path, or a wider one (a social worker's caseload covers every
    pupil page); the most specific section wins, so only one item is active.
    """
    user = getattr(request, "user", None)
    items = []  # (text, href, section)
    can_import = user is not None and user_can_import_registers(user=user)
    if user is not None and user.is_authenticated:
        items.append(("Home", reverse("home"), None))
        if user.sees_everything or user.is_la_officer or user.is_school_lead:
            items.append(("Schools", reverse("schools:list"), None))
            items.append(("Pupils", reverse("pupils:list"), None))
            if user.is_social_worker:
                items.append(("Your caseload", reverse("pupils:caseload"), None))
        elif user.is_social_worker:
            items.append(("Your caseload", reverse("pupils:caseload"), reverse("pupils:list")))
        else:
            items.append(("Pupils", reverse("pupils:list"), None))
        items.append((_alerts_label(user), reverse("alerts:inbox"), None))
        if user.sees_everything or user.is_la_officer or user.is_school_lead:
            items.append(("Meetings", reverse("tsm:list"), None))
            items.append(("Dashboards", reverse("reports:city"), "/reports/"))
        elif user.is_social_worker:  # their caseload's cohort figures (reports.cohorts)
            items.append(("Caseload figures", reverse("reports:cohorts"), "/reports/"))
        if can_import:
            items.append(("Imports", reverse("imports:list"), None))
        if user.is_manager or user.is_la_officer or user.is_school_lead or user.is_social_worker:
            items.append(("Cases", reverse("interventions:list"), None))
        if user.is_staff and (user.is_administrator or user.is_superuser):
            items.append(("Admin", reverse("admin:index"), None))
    current = request.path
    sections = [(section or href) for _, href, section in items]
    matching = [s for s in sections if s != "/" and current.startswith(s)]
    best = max(matching, key=len) if matching else ("/" if current == "/" else None)
    nav = []
    for (text, href, _), section in zip(items, sections, strict=True):
        is_current = current == href
        nav.append({"text": text, "href": href, "active": is_current or section == best,
                    "current": is_current})
    return {
        "portal_name": settings.PORTAL_NAME,
        "la_name": settings.PORTAL_LA_NAME,
        "service_nav": nav,
        "can_import": can_import,
    }
