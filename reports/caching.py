"""Computed dashboard contexts kept in Django's cache until the data under them changes.

Every figure on a dashboard comes from the nightly job's summaries, which change only when a
reclassification runs (nightly, or for a school after its import) or an import completes. So a
computed context is keyed by what the page was asked for *and* by the latest
``ReclassificationRun`` and applied ``ImportRun`` ids (and a version bumped whenever a benchmark
figure is edited or the term summaries are rewritten: ``data_changed``): a new run or import
makes a new key, and the old entries simply expire.

    from reports.caching import cached_for_latest_run

    context = cached_for_latest_run(
        ["schools", year, scope_key(user), sorted(filters.items())],
        lambda: school_table(user=user, academic_year=year, filters=filters),
    )

The key parts must include the user's scope (``scope_key``) whenever the result depends on who
asks: a school lead's figures must never be served to another school's lead.
"""

import hashlib
import json

from django.core.cache import cache

TIMEOUT = 60 * 60 * 24  # a day: the nightly run replaces everything anyway
PREFIX = "reports:v1:"
VERSION_KEY = "reports:data-version"


def data_version() -> tuple:
    """(latest reclassification run id, latest applied import run id, reports' own version)."""
    from attendance.models import ImportRun, ReclassificationRun

    run = ReclassificationRun.objects.order_by("-id").values_list("id", flat=True).first()
    imported = (ImportRun.objects.filter(status=ImportRun.Status.APPLIED)
                .order_by("-id").values_list("id", flat=True).first())
    return (run or 0, imported or 0, cache.get(VERSION_KEY, 0))


def data_changed() -> None:
    """Forget every cached context: a benchmark figure was saved or deleted (reports.apps
    connects it) or the term summaries were rewritten."""
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # not set yet
        cache.set(VERSION_KEY, 1, None)


def scope_key(user) -> str:
    """What decides which figures this user may see: their role, and their school / caseload
    where the role is scoped. Two users with the same key see the same figures."""
    if user.sees_everything:
        return "all"
    if user.is_school_lead:
        return f"school:{user.school_id}"
    if user.is_la_officer:
        return f"officer:{user.pk}"
    return f"user:{user.pk}"


def cache_key(key_parts) -> str:
    text = json.dumps([data_version(), list(key_parts)], default=str, sort_keys=True)
    return PREFIX + hashlib.sha256(text.encode()).hexdigest()


def cached_for_latest_run(key_parts, compute):
    """``compute()``'s result, from the cache when the same parts were computed since the latest
    run and import. ``compute`` must return something picklable."""
    key = cache_key(key_parts)
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, TIMEOUT)
    return value
