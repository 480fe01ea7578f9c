"""Start, watch and stop the local stack as plain processes (no Docker, no systemd).

Used by ``make up`` / ``make down`` / ``make demo`` and by the tests, so the tests exercise the
same start-up path a person uses. Every process is started in its own session and its PID is
written under the run folder, so ``down`` stops exactly what ``up`` started.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from shared import queues

ROOT = Path(__file__).resolve().parents[2]
WORKER_CONCURRENCY = {queues.CPU: 2, queues.GPU: 1, queues.SAGEMAKER: 1}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str, interval_s: float = 0.05) -> None:
    """Poll ``condition`` until it holds; raise naming ``what`` when ``timeout_s`` passes."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval_s)
    raise TimeoutError(f"timed out after {timeout_s:.0f}s waiting for {what}")


@dataclass
class Service:
    name: str
    process: subprocess.Popen
    log_path: Path

    def stop(self, timeout_s: float = 20) -> None:
        stop_pid(self.process.pid, timeout_s)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=1)


def stop_pid(pid: int, timeout_s: float = 20) -> None:
    """SIGTERM the process group (warm shutdown), SIGKILL it if it outlives ``timeout_s``."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:
            pass
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def spawn(name: str, argv: list[str], env: dict[str, str], log_dir: Path) -> Service:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    with open(log_path, "ab") as log_file:
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    return Service(name, process, log_path)


def redis_ping(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5).ping())
    except redis.RedisError:
        return False


def start_redis(port: int, run_dir: Path, env: dict[str, str]) -> Service:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed: run 'sudo apt-get install -y redis-server' "
                         "(make does it for you when run as root)")
    run_dir.mkdir(parents=True, exist_ok=True)
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(run_dir), "--daemonize", "no"]
    service = spawn("redis", argv, env, run_dir / "logs")
    wait_until(lambda: redis_ping(f"redis://127.0.0.1:{port}/0") or service.process.poll() is not None, 15, "redis")
    if service.process.poll() is not None:
        raise RuntimeError(f"redis-server exited; see {service.log_path}")
    return service


def start_worker(queue_names: list[str], env: dict[str, str], log_dir: Path, name: str, concurrency: int) -> Service:
    argv = [sys.executable, "-m", "celery", "-A", "shared.celery_app", "worker", "-Q", ",".join(queue_names),
            "-n", f"{name}@%h", "-c", str(concurrency), "--loglevel", "INFO",
            "--without-gossip", "--without-mingle"]
    return spawn(f"worker-{name}", argv, env, log_dir)


def start_beat(env: dict[str, str], run_dir: Path) -> Service:
    """The scheduler of periodic tasks (the reconciler); its schedule state stays in the run folder."""
    argv = [sys.executable, "-m", "celery", "-A", "shared.celery_app", "beat", "--loglevel", "INFO",
            "--schedule", str(run_dir / "beat-schedule"), "--pidfile="]
    return spawn("beat", argv, env, run_dir / "logs")


API_FACTORY = "apps.api.main:create_app"


def start_api(host: str, port: int, env: dict[str, str], log_dir: Path, factory: str = API_FACTORY,
              name: str = "api") -> Service:
    """uvicorn serving ``factory`` (the benchmarks serve their bare baseline app the very same way)."""
    from shared.config import get_settings

    argv = [sys.executable, "-m", "uvicorn", "--factory", factory, "--host", host, "--port", str(port),
            "--workers", str(get_settings().resolved_api_workers), "--no-access-log",
            "--timeout-graceful-shutdown", "5"]
    return spawn(name, argv, env, log_dir)


def wait_for_workers(names: list[str], timeout_s: float = 60) -> None:
    """Until every named worker answers a ping over the broker."""
    from shared.celery_app import app

    expected = {f"{name}@{socket.gethostname()}" for name in names}

    def all_answer() -> bool:
        replies = app.control.ping(timeout=0.5)
        return expected <= {host for reply in replies for host in reply}

    wait_until(all_answer, timeout_s, f"workers {sorted(expected)}")


def wait_for_api(base_url: str, timeout_s: float = 60, api_key: str | None = None) -> None:
    """Until ``/ready`` answers 200; ``api_key`` for an API running with API_KEYS (/ready needs one then).

    Without a key, an API that answers ``/ready`` with 401 has keys configured: it is serving, and
    ``/health`` (open to all) is what can be waited on. The stack checks its workers over the broker.
    """
    import httpx

    headers = {"X-API-Key": api_key} if api_key else {}

    def ready() -> bool:
        try:
            status = httpx.get(f"{base_url}/ready", headers=headers, timeout=1).status_code
            if status == 401 and not api_key:
                status = httpx.get(f"{base_url}/health", timeout=1).status_code
            return status == 200
        except httpx.HTTPError:
            return False

    wait_until(ready, timeout_s, f"{base_url}/ready")


def stack_env(data_dir: Path, redis_port: int, api_port: int) -> dict[str, str]:
    """The environment of the stack's processes: the caller's, with the stack's own Redis (the seeds'
    Redis parts, if set for some other Redis, would disagree with it and stop every process)."""
    from shared.config import REDIS_PARTS

    env = {name: value for name, value in os.environ.items() if name not in REDIS_PARTS}
    env.update({
        "DATA_DIR": str(data_dir),
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "API_PORT": str(api_port),
        "OMP_NUM_THREADS": env.get("OMP_NUM_THREADS", "1"),
        "PYTHONUNBUFFERED": "1",
    })
    return env


def up(data_dir: Path, redis_port: int, api_host: str, api_port: int) -> dict[str, int]:
    """Start redis (unless one answers already), one worker per queue and the API; return the PIDs."""
    run_dir = data_dir / "run"
    env = stack_env(data_dir, redis_port, api_port)
    os.environ.update({k: env[k] for k in ("DATA_DIR", "REDIS_URL", "API_PORT")})
    started: list[Service] = []
    try:
        if not redis_ping(env["REDIS_URL"]):
            started.append(start_redis(redis_port, run_dir, env))
        names = []
        for queue_name, concurrency in WORKER_CONCURRENCY.items():
            name = queue_name.replace("_tasks", "")
            names.append(name)
            started.append(start_worker([queue_name], env, run_dir / "logs", name, concurrency))
        started.append(start_beat(env, run_dir))
        started.append(start_api(api_host, api_port, env, run_dir / "logs"))
        wait_for_workers(names)
        wait_for_api(f"http://{api_host}:{api_port}")
    except BaseException:
        for service in reversed(started):
            service.stop()
        raise
    pids = {service.name: service.process.pid for service in started}
    (run_dir / "pids.json").write_text(json.dumps(pids))
    return pids


def down(data_dir: Path) -> list[str]:
    """Stop what ``up`` recorded, API first and redis last, so in-flight work is acked."""
    pid_file = data_dir / "run" / "pids.json"
    if not pid_file.exists():
        return []
    pids: dict[str, int] = json.loads(pid_file.read_text())
    order = sorted(pids, key=lambda name: (name == "redis", name != "api"))
    for name in order:
        stop_pid(pids[name])
    pid_file.unlink()
    return order


def main(argv: list[str] | None = None) -> int:
    from shared.config import get_settings

    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m infra.local.stack", description=__doc__)
    parser.add_argument("command", choices=["up", "down"])
    args = parser.parse_args(argv)
    redis_port = int(settings.redis_url.rsplit(":", 1)[1].split("/")[0])
    if args.command == "up":
        pids = up(settings.data_dir, redis_port, settings.api_host, settings.api_port)
        print(f"stack up: API at http://{settings.api_host}:{settings.api_port}  (docs: /docs)")
        print(f"logs in {settings.data_dir / 'run' / 'logs'}; processes: {', '.join(pids)}")
    else:
        stopped = down(settings.data_dir)
        print(f"stopped: {', '.join(stopped) or 'nothing was running'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
