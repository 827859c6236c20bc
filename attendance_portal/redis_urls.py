"""One REDIS_URL, written the way each client of it reads a Unix socket.

An operator may give the socket like the PostgreSQL one, percent-encoded as the host
(``redis://%2Fvar%2Frun%2Fredis.sock/0``), and the embedded Redis gives Kombu's form
(``redis+socket:///path``). redis-py (Django's cache) reads only ``unix:///path?db=N``; Kombu (the
broker) and Celery's result backend read only ``redis+socket:///path?virtual_host=N`` (neither
knows a ``unix`` scheme). A TCP URL is used unchanged by all three.
"""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import parse_qsl, quote, unquote, urlsplit


class RedisUrls(NamedTuple):
    celery: str  # broker and result backend
    cache: str  # django.core.cache.backends.redis.RedisCache


def redis_urls(url: str) -> RedisUrls:
    socket = _socket(url)
    if socket is None:
        return RedisUrls(celery=url, cache=url)
    path, db, credentials = socket
    return RedisUrls(
        celery=f"redis+socket://{credentials}{quote(path)}?virtual_host={db}",
        cache=f"unix://{credentials}{quote(path)}?db={db}",
    )


def _socket(url: str) -> tuple[str, int, str] | None:
    """(socket path, database number, ``user:password@`` or "") when the URL names a socket."""
    scheme, rest = url.split("://", 1) if "://" in url else ("", url)
    parts = urlsplit(f"http://{rest}")
    # The host as written: urlsplit's .hostname would lower-case the socket's path.
    userinfo, _, host = parts.netloc.rpartition("@")
    credentials = f"{userinfo}@" if userinfo else ""
    query = dict(parse_qsl(parts.query))
    if scheme == "redis" and unquote(host).startswith("/"):
        path, db = unquote(host), parts.path.strip("/") or query.get("db", "0")
    elif scheme in {"redis+socket", "unix"} and not host:
        path, db = unquote(parts.path), query.get("virtual_host", query.get("db", "0"))
    else:
        return None
    try:
        return path, int(db), credentials
    except ValueError:
        raise ValueError(f"REDIS_URL: the database must be a number, not {db!r}") from None
