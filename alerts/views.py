from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from alerts.models import AlertPreference, Rule
from alerts.selectors import alert_get, alert_list, alert_may_acknowledge
from alerts.services import alert_acknowledge, alert_mark_read, alert_preference_set
from attendance_portal.errors import ApplicationError
from portal_ui.tables import sorted_paginated


class AcknowledgeForm(forms.Form):
    note = forms.CharField(
        label="What you have done or will do (optional)", required=False, max_length=2000,
        widget=forms.Textarea(attrs={"class": "govuk-textarea", "rows": 3}),
    )


class PreferenceForm(forms.Form):
    delivery = forms.ChoiceField(choices=AlertPreference.Delivery.choices,
                                 widget=forms.RadioSelect, label="How should we email you?")


@login_required
def inbox(request):
    alerts = alert_list(user=request.user).select_related("pupil", "school", "acknowledged_by")
    show = request.GET.get("show", "open")
    if show == "open":
        alerts = alerts.filter(acknowledged_at__isnull=True)
    rule = request.GET.get("rule", "")
    if rule in Rule.values:
        alerts = alerts.filter(rule=rule)
    page, sort = sorted_paginated(
        request, alerts, sorts={"created": "created_at", "rule": "rule"}, default="-created"
    )
    return render(request, "alerts/inbox.html", {
        "page": page, "sort": sort, "show": show, "rule": rule, "rules": Rule.choices,
    })


@login_required
def alert_detail(request, pk):
    alert = alert_get(user=request.user, pk=pk)
    alert_mark_read(alert=alert, user=request.user)
    form = AcknowledgeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            alert_acknowledge(alert=alert, user=request.user, note=form.cleaned_data["note"])
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "Alert acknowledged.")
            return redirect("alerts:inbox")
    return render(request, "alerts/detail.html", {
        "alert": alert, "form": form,
        "may_acknowledge": alert_may_acknowledge(alert=alert, user=request.user)})


@login_required
def preferences(request):
    current = getattr(request.user, "alert_preference", None)
    initial = {"delivery": current.delivery if current else AlertPreference.Delivery.IMMEDIATE}
    form = PreferenceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        alert_preference_set(user=request.user, delivery=form.cleaned_data["delivery"])
        messages.success(request, "Your email preference is saved.")
        return redirect("alerts:inbox")
    return render(request, "alerts/preferences.html", {"form": form})
