"""An iCalendar (RFC 5545) invitation for one meeting, written by hand: one VEVENT, UTC times."""

from datetime import UTC, datetime

from django.conf import settings
from django.utils import timezone

from tsm.models import MeetingStatus, TargetingSupportMeeting


def _escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space (RFC 5545 3.1)."""
    raw = line.encode("utf-8")
    if len(raw) <= 75:
        return line
    parts, current = [], b""
    for char in line:
        encoded = char.encode("utf-8")
        if len(current) + len(encoded) > (75 if not parts else 74):
            parts.append(current.decode("utf-8"))
            current = b""
        current += encoded
    parts.append(current.decode("utf-8"))
    return "\r\n ".join(parts)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def meeting_ics(*, meeting: TargetingSupportMeeting, url: str = "") -> str:
    if meeting.proposed_start is None:
        raise ValueError("The meeting has no date yet")
    domain = getattr(settings, "PORTAL_ICS_DOMAIN", "attendance-portal")
    cancelled = meeting.status == MeetingStatus.CANCELLED
    description = f"{meeting.round.term} TSM. Theme: {meeting.round.theme}." + (
        f" Pack and agenda: {url}" if url else "")
    status = ("CANCELLED" if cancelled
              else "CONFIRMED" if meeting.status in (MeetingStatus.CONFIRMED, MeetingStatus.HELD)
              else "TENTATIVE")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Attendance portal//Targeting Support Meetings//EN",
        "CALSCALE:GREGORIAN",
        f"METHOD:{'CANCEL' if cancelled else 'PUBLISH'}",
        "BEGIN:VEVENT",
        f"UID:tsm-{meeting.pk}@{domain}",
        f"DTSTAMP:{_utc(timezone.now())}",
        f"SEQUENCE:{meeting.sequence}",
        f"DTSTART:{_utc(meeting.proposed_start)}",
        f"DTEND:{_utc(meeting.end)}",
        f"SUMMARY:{_escape(f'Targeting Support Meeting: {meeting.school.name}')}",
        f"DESCRIPTION:{_escape(description)}",
        f"STATUS:{status}",
    ]
    if meeting.location:
        lines.append(f"LOCATION:{_escape(meeting.location)}")
    if url:
        lines.append(f"URL:{url}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
