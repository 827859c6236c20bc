from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render

from accounts.selectors import account_details, home_figures


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
