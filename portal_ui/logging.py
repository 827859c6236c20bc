"""Keep pupils' personal data out of log output.

Request logs carry URL paths, and pupil pages are addressed by UPN (``/pupils/<UPN>/``): Django
logs every 4xx/5xx response as "Not Found: /pupils/A879…/" and runserver/gunicorn log every
request line, including searches (``?q=smith``). This filter rewrites such records before any
handler sees them: UPN-shaped tokens become ``[UPN]`` and search terms become ``[redacted]``.
"""

import logging
import re

UPN = re.compile(r"\b[A-Z][0-9]{11}[0-9A-Z]\b")
SEARCH = re.compile(r"([?&]q=)[^&\s\"']*")

# Loggers whose records include request paths or request lines.
REQUEST_LOGGERS = ["django.request", "django.server", "django.security", "gunicorn.access",
                   "gunicorn.error"]


def redact(text: str) -> str:
    return SEARCH.sub(r"\1[redacted]", UPN.sub("[UPN]", text))


class RedactPupilData(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: let logging report it as it would
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def install() -> None:
    """Attach the filter to the request loggers (idempotent)."""
    for name in REQUEST_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactPupilData) for f in logger.filters):
            logger.addFilter(RedactPupilData())
