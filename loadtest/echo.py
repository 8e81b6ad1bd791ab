"""A bare aiohttp JSON echo server: the baseline paygate's intake is compared against.

``POST`` (any path) parses the JSON body and answers it back re-serialised with status 200
(400 on malformed JSON); ``GET`` answers ``{"ok": true}``. ``delay_s`` makes every request
sleep first, which the tests use to show the generator is open-loop.

    python -m loadtest.echo --port 8099 [--host 127.0.0.1] [--delay-ms 0]

It is deliberately as thin as aiohttp allows (no middleware, no logging of requests), so its
requests/s is roughly the ceiling of any aiohttp service on the same machine and event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import time
from typing import Any

from aiohttp import web

_CPU_START = time.process_time()


def make_app(delay_s: float = 0.0) -> web.Application:
    async def echo(request: web.Request) -> web.Response:
        if delay_s > 0:
            await asyncio.sleep(delay_s)
        if request.method == "GET":
            return web.json_response({"ok": True})
        raw = await request.read()
        try:
            doc: Any = json.loads(raw) if raw else None
        except ValueError:
            return web.json_response({"error": "malformed JSON"}, status=400)
        return web.json_response(doc)

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", echo)
    return app


async def start_echo(
    host: str = "127.0.0.1", port: int = 0, *, delay_s: float = 0.0
) -> tuple[web.AppRunner, str]:
    """Start the echo server; ``port=0`` picks a free port. Returns the runner (call
    ``await runner.cleanup()`` to stop) and the base URL ``http://host:port/``."""
    runner = web.AppRunner(make_app(delay_s), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=1024)
    await site.start()
    bound_host, bound_port = runner.addresses[0][:2]
    return runner, f"http://{bound_host}:{bound_port}/"


async def _serve(host: str, port: int, delay_s: float) -> None:
    runner, url = await start_echo(host, port, delay_s=delay_s)
    print(f"echo server listening on {url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        print(f"echo server CPU: {time.process_time() - _CPU_START:.2f} s", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m loadtest.echo", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--delay-ms", type=float, default=0.0, help="sleep per request")
    args = parser.parse_args(argv)
    asyncio.run(_serve(args.host, args.port, args.delay_ms / 1000.0))


if __name__ == "__main__":
    main()
