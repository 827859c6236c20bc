"""The one-command launcher: clear messages for a busy port or a stale pid, a real start, and
a real Ctrl-C that stops every process it started."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _launch(*args, data_dir, timeout=240):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["PORTAL_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "attendance_portal.launcher", "--no-demo", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_it_explains_a_busy_port_instead_of_a_traceback(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = _launch("--check", "--port", str(port), data_dir=tmp_path)
    assert result.returncode == 2
    assert f"port {port} on 127.0.0.1 is busy" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "portal.pid").exists()


def test_it_refuses_to_start_twice(tmp_path):
    (tmp_path / "portal.pid").write_text(str(os.getpid()))  # a live process: this test
    result = _launch("--check", "--port", str(_free_port()), data_dir=tmp_path)
    assert result.returncode == 2
    assert "already running" in result.stderr


@pytest.mark.worker
def test_it_starts_web_worker_and_beat_then_stops_cleanly(tmp_path):
    (tmp_path / "portal.pid").write_text("999999")  # left by a run that died
    port = _free_port()
    result = _launch("--check", "--port", str(port), data_dir=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "removing a stale pid file" in result.stdout
    assert f"the portal is running at http://127.0.0.1:{port}/" in result.stdout
    assert "the worker answered a ping, beat is running" in result.stdout
    assert "stopped." in result.stdout
    assert not (tmp_path / "portal.pid").exists()
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)


# --- Ctrl-C ------------------------------------------------------------------------------------

def _processes() -> dict[int, tuple[str, int, int, str]]:
    """pid → (state, parent pid, session id, command line), read from /proc."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue  # gone meanwhile
        fields = stat.rsplit(")", 1)[1].split()
        found[int(entry.name)] = (fields[0], int(fields[1]), int(fields[3]), command)
    return found


def _alive(pids: set[int]) -> set[int]:
    now = _processes()
    return {pid for pid in pids if pid in now and now[pid][0] != "Z"}


@pytest.fixture
def migrated_database(django_db_setup, django_db_blocker):
    """A copy of the migrated test database, so the launcher's migrate has nothing to do."""
    import psycopg
    from django.db import connection, connections

    db = dict(connection.settings_dict)
    name = f"launcher_{os.getpid()}"
    with django_db_blocker.unblock():
        connections.close_all()  # CREATE DATABASE … TEMPLATE needs the template unused
        with psycopg.connect(host=db["HOST"], user=db["USER"], dbname="postgres",
                             autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            for attempt in range(10):
                # Sessions of other threads or processes the earlier tests left (a live server
                # thread, a worker) keep the template busy: end them, then copy.
                admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = %s AND pid <> pg_backend_pid()", [db["NAME"]])
                try:
                    admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{db["NAME"]}"')
                    break
                except psycopg.errors.ObjectInUse:
                    if attempt == 9:
                        raise
                    time.sleep(0.5)
        yield f"postgres://{db['USER']}@{quote(db['HOST'], safe='')}/{name}"
        with psycopg.connect(host=db["HOST"], user=db["USER"], dbname="postgres",
                             autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.worker
def test_ctrl_c_stops_web_worker_beat_and_redis_and_removes_the_pid_file(tmp_path,
                                                                         migrated_database):
    """A real SIGINT to the launcher's process group, as a terminal sends for Ctrl-C. The web
    server, worker and beat run in sessions of their own (a stray Ctrl-C must not kill one
    alone), so the launcher has to stop each, with its workers, and the Redis it started."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(PORTAL_DATA_DIR=str(tmp_path), DATABASE_URL=migrated_database)
    launcher = subprocess.Popen(
        [sys.executable, "-m", "attendance_portal.launcher", "--no-demo", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,  # its own process group, like a job in a terminal
    )
    output = []
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            line = launcher.stdout.readline()
            output.append(line)
            if "the portal is running at" in line or not line:
                break
        assert "the portal is running at" in output[-1], "".join(output)[-3000:]
        assert (tmp_path / "portal.pid").read_text().strip() == str(launcher.pid)

        processes = _processes()
        children = {pid for pid, (_, parent, _, _) in processes.items()
                    if parent == launcher.pid}
        assert len(children) == 3, processes  # gunicorn, celery worker, celery beat
        started = {pid for pid, (_, _, session, command) in processes.items()
                   if session in children or str(tmp_path) in command}
        redis = {pid for pid in started if "redis-server" in processes[pid][3]}
        assert redis and len(started) > len(children) + len(redis)  # workers of their own

        os.killpg(launcher.pid, signal.SIGINT)
        interrupted = time.monotonic()
        rest, _ = launcher.communicate(timeout=60)
        stopping_took = time.monotonic() - interrupted
        output.append(rest)
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
    text = "".join(output)
    assert launcher.returncode == 0, text[-3000:]
    # Asked to stop, not killed: the launcher falls back to SIGKILL only after 20 s.
    assert stopping_took < 15, text[-3000:]
    assert "stopping web, worker and beat" in text and "stopped." in text
    assert "Traceback" not in text
    assert not (tmp_path / "portal.pid").exists()
    assert _alive(started) == set(), {pid: _processes().get(pid) for pid in _alive(started)}
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
