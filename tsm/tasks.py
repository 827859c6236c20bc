from celery import shared_task

from tsm import services


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_meeting_reminders() -> int:
    """Daily (07:30, django-celery-beat): remind both parties of meetings in the next 2 days."""
    return services.meeting_reminders_send()


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_booking_emails(meeting_id: int, event: str, sequence: int) -> int:
    """After a proposal, confirmation or cancellation is committed: email the people concerned."""
    return services.meeting_booking_emails_send(meeting_id=meeting_id, event=event,
                                                sequence=sequence)
