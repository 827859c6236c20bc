from django.utils import timezone

from pupils.selectors import caseload_allocations, pupil_list, pupils_on_roll
from schools.selectors import school_list


def home_figures(*, user) -> dict:
    """The numbers on a user's home page, each from the scoped selectors."""
    today = timezone.localdate()
    figures = {
        "schools": school_list(user=user).count(),
        "pupils": pupil_list(user=user, today=today).count(),
    }
    if user.is_social_worker:
        figures["caseload"] = (
            caseload_allocations(user=user, today=today).values("pupil").distinct().count()
        )
    if user.is_la_officer:
        figures["linked_schools"] = school_list(user=user).filter(link_officer=user).count()
    if user.is_school_lead and user.school_id:
        figures["own_school"] = user.school
        figures["own_school_on_roll"] = pupils_on_roll(
            user=user, school=user.school, today=today
        ).count()
    return figures


def account_details(*, user) -> dict:
    """What the 'Your account' page shows: the user's roles and what they give access to."""
    return {
        "linked_schools": list(school_list(user=user).filter(link_officer=user))
        if user.is_la_officer else [],
        "caseload": caseload_allocations(user=user).values("pupil").distinct().count()
        if user.is_social_worker else None,
    }
