"""Changes to pupil records. Views, API, admin and commands call these; they hold the rules."""

from auditlog.context import set_actor
from auditlog.signals import accessed

from pupils.models import Pupil


def pupil_view_record(*, pupil: Pupil, user) -> None:
    """Audit that ``user`` viewed this pupil's record (special-category data)."""
    with set_actor(user):
        accessed.send(sender=Pupil, instance=pupil)
