import time

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login

IDLE_FLAG = "signed_out_idle"


class IdleTimeoutMiddleware:
    """Sign a user out after IDLE_TIMEOUT_SECONDS without a request.

    Pages redirect to the sign-in page, which says why (see ``SignInView``); the API carries on
    as an anonymous request and is refused by its permission classes. This middleware runs
    before MessageMiddleware, so it leaves a flag in the fresh session instead of a message.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            last = request.session.get("last_seen", now)
            if now - last > settings.IDLE_TIMEOUT_SECONDS:
                logout(request)
                request.session[IDLE_FLAG] = True
                if not request.path.startswith("/api/"):
                    return redirect_to_login(request.get_full_path())
            else:
                request.session["last_seen"] = now
        return self.get_response(request)
