"""Signing in and out, password reset, lockout, idle timeout, API tokens and security headers."""

import re
import time

import axes.utils
import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_axes():
    """No failed attempts carried between tests (axes also keeps them outside the test DB)."""
    axes.utils.reset()
    yield
    axes.utils.reset()


def _sign_in(client, email, password=PASSWORD):
    return client.post(reverse("login"), {"username": email, "password": password})


# --- Signing in and out ---------------------------------------------------------------------

def test_it_signs_a_user_in_with_their_email_address(client, school_lead):
    response = _sign_in(client, school_lead.email)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.get(reverse("home")).context["user"] == school_lead


def test_it_accepts_the_email_address_in_any_case(client, school_lead):
    response = _sign_in(client, school_lead.email.upper())
    assert response.status_code == 302
    assert client.get(reverse("home")).context["user"] == school_lead


def test_it_returns_to_the_page_asked_for_after_signing_in(client, school_lead, school):
    target = reverse("schools:detail", args=[school.urn])
    response = client.post(f"{reverse('login')}?next={target}",
                           {"username": school_lead.email, "password": PASSWORD, "next": target})
    assert response["Location"] == target


def test_it_shows_a_govuk_error_summary_for_a_wrong_password(client, school_lead):
    response = _sign_in(client, school_lead.email, "not-the-password")
    assert response.status_code == 200
    html = response.content.decode()
    assert "govuk-error-summary" in html
    assert "Enter a correct email address and password" in html
    assert response.context["user"].is_anonymous


def test_it_names_each_missing_field_in_the_error_summary(client, db):
    html = client.post(reverse("login"), {"username": "", "password": ""}).content.decode()
    assert '<a href="#id_username">Enter your email address</a>' in html
    assert '<a href="#id_password">Enter your password</a>' in html
    assert "<title>Error: Sign in" in html


def test_it_signs_out_only_with_a_post(client, school_lead):
    client.force_login(school_lead)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert client.get(reverse("home")).status_code == 302


def test_it_does_not_sign_in_an_inactive_account(client, school_lead):
    school_lead.is_active = False
    school_lead.save()
    response = _sign_in(client, school_lead.email)
    assert response.status_code == 200
    assert response.context["user"].is_anonymous


# --- Password reset -------------------------------------------------------------------------

def test_it_emails_a_password_reset_link_that_works(client, school_lead):
    response = client.post(reverse("password_reset"), {"email": school_lead.email})
    assert response["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [school_lead.email]
    assert message.subject == "Reset your password for the school attendance portal"
    link = re.search(r"https?://[^/\s]+(/accounts/reset/\S+/)", message.body).group(1)

    landing = client.get(link)  # Django swaps the token for a session and redirects
    assert landing.status_code == 302
    form_url = landing["Location"]
    assert client.get(form_url).context["validlink"] is True

    new_password = "a-brand-new-long-passphrase"
    done = client.post(form_url, {"new_password1": new_password, "new_password2": new_password})
    assert done["Location"] == reverse("password_reset_complete")
    client.logout()
    assert _sign_in(client, school_lead.email, new_password).status_code == 302


def test_it_sends_no_email_for_an_unknown_address_but_says_the_same(client, db):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.gov.uk"})
    assert response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []


def test_it_rejects_a_tampered_reset_link(client, school_lead):
    client.post(reverse("password_reset"), {"email": school_lead.email})
    link = re.search(r"(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)
    uid = link.split("/")[3]
    response = client.get(f"/accounts/reset/{uid}/bad-token/")
    assert response.status_code == 200
    assert response.context["validlink"] is False
    assert "This link has expired" in response.content.decode()


# --- Lockout (django-axes) ------------------------------------------------------------------

def test_it_locks_an_account_after_five_failed_sign_ins(client, school_lead):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(4):
        assert _sign_in(client, school_lead.email, "wrong-password").status_code == 200
    fifth = _sign_in(client, school_lead.email, "wrong-password")
    assert fifth.status_code == 429
    # Locked: even the right password is refused now, with the GOV.UK-styled lockout page.
    locked = _sign_in(client, school_lead.email)
    assert locked.status_code == 429
    assert "Your account is locked" in locked.content.decode()
    assert client.get(reverse("home")).status_code == 302


def test_it_counts_failures_per_account_whatever_the_case_of_the_email(client, school_lead):
    for spelling in ["lead@hilltop.example.sch.uk", "LEAD@hilltop.example.sch.uk",
                     "Lead@Hilltop.example.sch.uk", "lead@HILLTOP.example.sch.uk"]:
        _sign_in(client, spelling, "wrong-password")
    assert _sign_in(client, "lEAD@hilltop.example.sch.uk", "wrong-password").status_code == 429


def test_it_does_not_lock_other_accounts(client, school_lead, other_school_lead):
    for _ in range(5):
        _sign_in(client, school_lead.email, "wrong-password")
    assert _sign_in(client, other_school_lead.email).status_code == 302


def test_it_lets_the_user_in_again_after_a_reset(client, school_lead):
    for _ in range(5):
        _sign_in(client, school_lead.email, "wrong-password")
    axes.utils.reset(username=school_lead.email)
    assert _sign_in(client, school_lead.email).status_code == 302


# --- Idle timeout ---------------------------------------------------------------------------

def _go_idle(client, seconds):
    session = client.session
    session["last_seen"] = int(time.time()) - seconds
    session.save()


def test_it_signs_out_a_user_who_has_been_idle_too_long(client, school_lead):
    client.force_login(school_lead)
    assert client.get(reverse("home")).status_code == 200
    _go_idle(client, settings.IDLE_TIMEOUT_SECONDS + 5)
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    follow = client.get(response["Location"])
    assert follow.context["user"].is_anonymous
    assert "signed out because you were inactive" in follow.content.decode()
    # The notice is shown once, not on every later visit to the sign-in page.
    assert "inactive" not in client.get(reverse("login")).content.decode()


def test_it_keeps_an_active_user_signed_in(client, school_lead):
    client.force_login(school_lead)
    client.get(reverse("home"))
    _go_idle(client, settings.IDLE_TIMEOUT_SECONDS - 60)
    assert client.get(reverse("home")).status_code == 200


def test_it_refuses_the_api_to_an_idle_session(client, school_lead):
    client.force_login(school_lead)
    client.get(reverse("home"))
    _go_idle(client, settings.IDLE_TIMEOUT_SECONDS + 5)
    assert client.get("/api/schools/").status_code in (401, 403)


# --- API tokens -----------------------------------------------------------------------------

def test_it_accepts_a_token_on_the_api(school_lead, school, other_school):
    token = Token.objects.create(user=school_lead)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = api.get("/api/schools/")
    assert response.status_code == 200
    assert [row["urn"] for row in response.json()["results"]] == [school.urn]


def test_it_refuses_a_wrong_token_on_the_api(school_lead):
    Token.objects.create(user=school_lead)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    # 403 rather than 401 while SessionAuthentication is listed first in settings.
    assert api.get("/api/schools/").status_code in (401, 403)


def test_it_refuses_the_token_of_a_deactivated_user(school_lead):
    token = Token.objects.create(user=school_lead)
    school_lead.is_active = False
    school_lead.save()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get("/api/schools/").status_code in (401, 403)


# --- Security headers and page hygiene ------------------------------------------------------

@pytest.mark.parametrize("path", ["/accounts/login/", "/", "/schools/", "/pupils/"])
def test_it_sends_the_security_headers(client, school_lead, path):
    if path != "/accounts/login/":
        client.force_login(school_lead)
    response = client.get(path)
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "style-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("url", ["/accounts/login/", "/", "/schools/", "/schools/113501/",
                                 "/pupils/", "pupil", "/accounts/account/", "/missing/",
                                 "/api/docs/"])
def test_it_renders_pages_without_inline_scripts_or_styles(client, manager, school, pupil, url):
    """The CSP blocks inline code, so a page relying on it would silently break."""
    client.force_login(manager)
    if url == "pupil":
        url = reverse("pupils:detail", args=[pupil.upn])
    html = client.get(url).content.decode()
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert "<style" not in html
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html)
    assert "cdn." not in html  # everything is served locally (council networks block CDNs)


def test_it_marks_the_current_section_in_the_service_navigation(client, school_lead):
    client.force_login(school_lead)
    html = client.get(reverse("schools:list")).content.decode()
    assert re.search(r'govuk-service-navigation__item--active">\s*<a[^>]*href="/schools/"'
                     r'[^>]*aria-current="page"', html)
