"""docker-compose.yml must start the project's real entry points (no Docker engine needed)."""

import importlib
import re
import shlex
from pathlib import Path

import pytest
import yaml
from django.urls import resolve

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_it_runs_the_production_services(compose):
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(compose["services"])


def test_it_points_gunicorn_at_the_real_wsgi_application(compose):
    command = compose["services"]["web"]["command"]
    assert command[0] == "gunicorn"
    module = importlib.import_module(command[1])
    assert callable(module.application)


def test_it_matches_the_dockerfile_default_command(compose):
    dockerfile = (ROOT / "Dockerfile").read_text()
    cmd = re.search(r"^CMD (\[.*\])$", dockerfile, re.M).group(1)
    assert yaml.safe_load(cmd) == compose["services"]["web"]["command"]


@pytest.mark.parametrize("service", ["worker", "beat"])
def test_it_points_celery_at_the_real_app(compose, service):
    command = compose["services"][service]["command"]
    assert command[:3] == ["celery", "-A", "attendance_portal"]
    assert command[3] == service
    package = importlib.import_module(command[2])
    assert package.celery_app.main == "attendance_portal"


def test_it_schedules_beat_from_the_database(compose, settings):
    command = compose["services"]["beat"]["command"]
    scheduler = command[command.index("--scheduler") + 1]
    assert scheduler == settings.CELERY_BEAT_SCHEDULER
    module, name = scheduler.split(":")
    assert getattr(importlib.import_module(module), name)


def test_it_migrates_with_the_real_manage_command(compose):
    from django.core.management import get_commands

    command = compose["services"]["migrate"]["command"]
    assert command[:2] == ["python", "manage.py"]
    assert command[2] in get_commands()


def test_its_web_healthcheck_url_exists(compose):
    test = compose["services"]["web"]["healthcheck"]["test"]
    url = re.search(r"http://localhost:8000(/\S*?)'", " ".join(shlex.quote(t) for t in test))
    assert resolve(url.group(1)).url_name == "healthz"


def test_it_takes_service_urls_from_the_environment(compose):
    env = compose["x-portal"]["environment"]
    assert env["DATABASE_URL"].startswith("postgres://")
    assert env["REDIS_URL"].startswith("redis://")
    assert env["PORTAL_DEV"] == "false"
