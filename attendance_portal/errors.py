"""The one project error, and how the API turns it into a 400."""

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class ApplicationError(Exception):
    """A rule of the domain was broken; ``message`` is written for the user who acted."""

    def __init__(self, message: str, *, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


def api_exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        return Response(
            {"detail": exc.message, **exc.extra}, status=status.HTTP_400_BAD_REQUEST
        )
    return exception_handler(exc, context)
