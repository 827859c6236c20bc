from django.conf import settings
from django.urls import reverse


def navigation(request):
    """Service navigation items for the signed-in user's roles.

    Each item is ``active`` when the page is in its section (aria-current="true") and ``current``
    when it is the section's own page (aria-current="page"), as the GOV.UK component does.
    """
    user = getattr(request, "user", None)
    items = []
    if user is not None and user.is_authenticated:
        items.append(("Home", reverse("home")))
        if user.sees_everything or user.is_la_officer or user.is_school_lead:
            items.append(("Schools", reverse("schools:list")))
        pupils_label = (
            "Your caseload"
            if user.is_social_worker and not (
                user.sees_everything or user.is_la_officer or user.is_school_lead
            )
            else "Pupils"
        )
        items.append((pupils_label, reverse("pupils:list")))
        if user.is_staff and (user.is_administrator or user.is_superuser):
            items.append(("Admin", reverse("admin:index")))
    current = request.path
    nav = []
    for text, href in items:
        is_current = current == href
        in_section = is_current or (href != "/" and current.startswith(href))
        nav.append({"text": text, "href": href, "active": in_section, "current": is_current})
    return {
        "portal_name": settings.PORTAL_NAME,
        "la_name": settings.PORTAL_LA_NAME,
        "service_nav": nav,
    }
