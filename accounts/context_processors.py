from django.conf import settings
from django.urls import reverse


def navigation(request):
    """Service navigation items for the signed-in user's roles."""
    user = request.user
    items = []
    if user.is_authenticated:
        items.append(("Home", reverse("home")))
        if user.sees_everything or user.is_la_officer or user.is_school_lead:
            items.append(("Schools", reverse("schools:list")))
        items.append(("Pupils", reverse("pupils:list")))
        if user.is_administrator or user.is_superuser:
            items.append(("Admin", reverse("admin:index")))
    current = request.path
    nav = [
        {"text": text, "href": href, "active": href != "/" and current.startswith(href)
         or current == href}
        for text, href in items
    ]
    return {
        "portal_name": settings.PORTAL_NAME,
        "la_name": settings.PORTAL_LA_NAME,
        "service_nav": nav,
    }
