from django import forms
from django.contrib.auth.forms import AuthenticationForm


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email address",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True,
                                       "class": "govuk-input"}),
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password",
                                          "class": "govuk-input"}),
    )
    error_messages = {
        "invalid_login": "Enter a correct email address and password. Both may be case-sensitive.",
        "inactive": "This account is inactive. Ask your administrator to reactivate it.",
    }
