"""The one-command launcher: clear messages for a busy port or a stale pid, and a real start."""

import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

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
