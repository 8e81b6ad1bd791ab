"""``paygate serve``: run the gateway (API + dispatch workers)."""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import shutil
import signal
import socket
from pathlib import Path
from typing import Any

from aiohttp import web

from paygate.config import Settings
from paygate.engine.metrics import share_across_processes
from paygate.logs import configure


def register(sub: Any) -> None:
    p = sub.add_parser(
        "serve",
        help="run the gateway HTTP API and its dispatch workers",
        description="Run the gateway. Several processes (or --processes N) can share one "
        "database: idempotency and work claims are enforced by PostgreSQL itself.",
    )
    p.add_argument("--host", help="bind address (default from PAYGATE_HOST)")
    p.add_argument("--port", type=int, help="port (default from PAYGATE_PORT)")
    p.add_argument("--processes", type=int, default=1, help="worker processes sharing the port")
    p.set_defaults(handler=run)


def _socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def run(args: argparse.Namespace) -> int:
    from paygate.api.app import create_app

    settings = Settings()
    overrides: dict[str, Any] = {}
    if args.host:
        overrides["host"] = args.host
    if args.port is not None:
        overrides["port"] = args.port
    settings = settings.model_copy(update=overrides)
    configure(settings.log_format, settings.log_level)
    processes = max(args.processes, 1)
    metrics_dir = _shared_metrics_dir(settings.data_dir) if processes > 1 else None

    children: list[int] = []
    parent = True
    for _ in range(processes - 1):
        pid = os.fork()
        if pid == 0:
            children, parent = [], False
            break
        children.append(pid)
    try:
        sock = _socket(settings.host, settings.port)
        app = create_app(settings)
        app.on_startup.append(_tune_gc(settings))
        web.run_app(app, sock=sock, print=None, handle_signals=True)
    finally:
        for pid in children:
            os.kill(pid, signal.SIGTERM)
        for pid in children:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        if parent and metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0


def _shared_metrics_dir(data_dir: Path) -> Path:
    """A fresh directory for this process group's metric files, named after the parent's pid;
    those of groups that are gone (killed before they could clean up) are removed."""
    root = data_dir / "metrics"
    root.mkdir(parents=True, exist_ok=True)
    for old in root.glob("serve-*"):
        pid = old.name.removeprefix("serve-")
        if not pid.isdigit() or not _alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    mine = root / f"serve-{os.getpid()}"
    shutil.rmtree(mine, ignore_errors=True)
    mine.mkdir()
    share_across_processes(mine)
    return mine


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _tune_gc(settings: Settings) -> Any:
    """After start-up (pools, routing tables, codecs' templates are built), keep the collector
    off the long-lived heap: a full collection over it stalled the event loop for tens of ms
    under load, which showed up in the intake p99. Request garbage is still collected."""

    async def tune(app: web.Application) -> None:
        if settings.gc_gen0_threshold:
            _, gen1, gen2 = gc.get_threshold()
            gc.set_threshold(settings.gc_gen0_threshold, gen1, gen2)
        if settings.gc_freeze:
            gc.collect()
            gc.freeze()

    return tune
