from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm


class EmailAuthenticationForm(AuthenticationForm):
    """Sign in with an email address; error messages follow the GOV.UK error message style."""

    username = forms.EmailField(
        label="Email address",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True,
                                       "spellcheck": "false", "class": "govuk-input"}),
        error_messages={
            "required": "Enter your email address",
            "invalid": "Enter an email address in the correct format, like name@example.gov.uk",
        },
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password",
                                          "class": "govuk-input"}),
        error_messages={"required": "Enter your password"},
    )
    error_messages = {
        "invalid_login": "Enter a correct email address and password. The password is "
                         "case-sensitive.",
        "inactive": "This account is inactive. Ask your administrator to reactivate it.",
    }

    def clean_username(self):
        # Accounts are stored with lower-case emails (UserManager); lower-case here too so that
        # "Sam.Lead@School..." signs in, and so django-axes counts failures per account, not per
        # spelling of it.
        return self.cleaned_data["username"].strip().lower()


class EmailPasswordResetForm(PasswordResetForm):
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false",
                                       "class": "govuk-input"}),
        error_messages={
            "required": "Enter your email address",
            "invalid": "Enter an email address in the correct format, like name@example.gov.uk",
        },
    )
