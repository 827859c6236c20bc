from celery import shared_task

from alerts import services


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def email_new_alerts(alert_ids: list[int]) -> int:
    return services.alerts_email_immediate(alert_ids=alert_ids)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_daily_digest() -> int:
    return services.alerts_send_digest()
