from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render

from accounts.forms import EmailAuthenticationForm
from accounts.middleware import IDLE_FLAG
from accounts.selectors import account_details, home_figures


class SignInView(LoginView):
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True

    def get(self, request, *args, **kwargs):
        if request.session.pop(IDLE_FLAG, False):
            minutes = settings.IDLE_TIMEOUT_SECONDS // 60
            messages.info(request, f"You were signed out because you were inactive for "
                                   f"{minutes} minutes. Sign in again to carry on.")
        return super().get(request, *args, **kwargs)


@login_required
def home(request):
    return render(request, "home.html", {"figures": home_figures(user=request.user)})


@login_required
def account(request):
    return render(request, "accounts/account.html", account_details(user=request.user))


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
