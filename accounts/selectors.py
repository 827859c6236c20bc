from django.utils import timezone

from pupils.selectors import caseload_allocations, pupil_list
from schools.selectors import school_list


def home_figures(*, user) -> dict:
    """The numbers on a user's home page, each from the scoped selectors."""
    figures = {
        "schools": school_list(user=user).count(),
        "pupils": pupil_list(user=user).count(),
    }
    if user.is_social_worker:
        figures["caseload"] = caseload_allocations(user=user, today=timezone.localdate()).count()
    if user.is_la_officer:
        figures["linked_schools"] = user.linked_schools.count()
    return figures
