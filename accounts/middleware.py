import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login


class IdleTimeoutMiddleware:
    """Sign a user out after IDLE_TIMEOUT_SECONDS without a request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            last = request.session.get("last_seen", now)
            if now - last > settings.IDLE_TIMEOUT_SECONDS:
                logout(request)
                messages.info(request, "You were signed out because you were inactive.")
                if not request.path.startswith("/api/"):
                    return redirect_to_login(request.get_full_path())
            else:
                request.session["last_seen"] = now
        return self.get_response(request)
