"""Routing operations: quote a decision, manage config versions, replay a change (what-if)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import difflib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from paygate.api import openapi
from paygate.api.auth import authenticate
from paygate.api.keys import CLOCK, ENGINE, KEYS, POOL, ROUTING
from paygate.api.payments import read_json
from paygate.api.problems import problem
from paygate.domain import PaymentOrder, parse_model
from paygate.engine.config_watcher import ConfigWatcher, config_yaml
from paygate.engine.routing_service import route_request
from paygate.engine.usage import UsageLoader
from paygate.errors import FieldError, NotFound, ValidationFailed
from paygate.store import routing_configs as store
from routing import ConfigLoadError, RouteRequest, Snapshot, load_config_text, whatif

routes = web.RouteTableDef()
USAGE = web.AppKey("routing_usage", UsageLoader)
WATCHER = web.AppKey("routing_watcher", ConfigWatcher)
MAX_CONFIG_BYTES = 1_000_000
WHATIF_LIMIT = 200_000


def lifetime(
    config_file: Path | None,
) -> Callable[[web.Application], AsyncIterator[None]]:
    """The cleanup context of the routing background tasks: the usage loader (for
    ``ChannelHealth(usage=app[USAGE].states)``) and the config watcher. On first start with no
    version stored, the file config (or the injected one) becomes the first active version."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        pool = app[POOL]
        clock = app[CLOCK]
        loader = UsageLoader(pool, clock.now)
        watcher = ConfigWatcher(pool, app[ROUTING])
        app[USAGE] = loader
        app[WATCHER] = watcher
        service = app[ROUTING]
        if config_file is not None:
            text = config_file.read_text(encoding="utf-8")
        else:
            text = config_yaml(service.config)
        await watcher.bootstrap(text)
        await watcher.poll_once()
        await loader.refresh()
        stop = asyncio.Event()
        tasks = [asyncio.create_task(loader.run(stop)), asyncio.create_task(watcher.run(stop))]
        yield
        stop.set()
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return context


def _issues_problem(exc: ConfigLoadError, source: str) -> web.Response:
    issues = [
        {
            "line": i.line,
            "path": i.path,
            "message": i.message,
            "severity": i.severity,
            "text": i.format(source),
        }
        for i in exc.issues
    ]
    return problem(
        422,
        "routing-config-invalid",
        "The routing configuration is not valid",
        "; ".join(str(i["text"]) for i in issues) or "the configuration does not load",
        errors=[FieldError(f"/line/{i.line or 0}", i.format(source)) for i in exc.issues],
        extra={"issues": issues},
    )


@routes.post("/v1/routing/config")
async def upload_config(request: web.Request) -> web.Response:
    principal = await authenticate(request, request.app[KEYS], "operator")
    raw = await request.read()
    if len(raw) > MAX_CONFIG_BYTES:
        raise ValidationFailed("the configuration is too large", [FieldError("", "too large")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed("send the YAML as UTF-8", [FieldError("", "not UTF-8")]) from None
    source = "upload.yaml"
    try:
        config = load_config_text(text, source=source)
    except ConfigLoadError as exc:
        return _issues_problem(exc, source)
    if not config.version:
        raise ValidationFailed(
            "the configuration needs a `version:` to be stored",
            [FieldError("/version", "required to upload")],
        )
    async with request.app[POOL].acquire() as conn:
        await store.store_version(conn, config.version, text, principal.client_name)
        row = await store.get_version(conn, config.version)
    return web.json_response(row.summary(), status=201)


@routes.get("/v1/routing/config/versions")
async def list_versions(request: web.Request) -> web.Response:
    await authenticate(request, request.app[KEYS], "read")
    rows = await store.list_versions(request.app[POOL])
    return web.json_response(
        {"in_use": request.app[ROUTING].version, "versions": [r.summary() for r in rows]}
    )


@routes.get("/v1/routing/config")
async def active_config(request: web.Request) -> web.Response:
    await authenticate(request, request.app[KEYS], "read")
    service = request.app[ROUTING]
    row = await store.active_version(request.app[POOL])
    if row is None:
        body: dict[str, Any] = {
            "version": service.version,
            "yaml": config_yaml(service.config),
            "in_use": service.version,
        }
    else:
        body = {**row.summary(), "yaml": row.yaml, "in_use": service.version}
    return web.json_response(body)


@routes.get("/v1/routing/config/diff")
async def diff_configs(request: web.Request) -> web.Response:
    await authenticate(request, request.app[KEYS], "read")
    names = {k: request.query.get(k) for k in ("from", "to")}
    missing = [k for k, v in names.items() if not v]
    if missing:
        raise ValidationFailed(
            "give ?from=VERSION&to=VERSION",
            [FieldError(f"/query/{k}", "required") for k in missing],
        )
    pool = request.app[POOL]
    old = await store.get_version(pool, str(names["from"]))
    new = await store.get_version(pool, str(names["to"]))
    lines = difflib.unified_diff(
        old.yaml.splitlines(keepends=True),
        new.yaml.splitlines(keepends=True),
        fromfile=old.version,
        tofile=new.version,
    )
    return web.Response(text="".join(lines), content_type="text/plain")


@routes.post("/v1/routing/config/{version}/activate")
async def activate_config(request: web.Request) -> web.Response:
    principal = await authenticate(request, request.app[KEYS], "operator")
    version = request.match_info["version"]
    async with request.app[POOL].acquire() as conn:
        row = await store.get_version(conn, version)
        try:
            config = load_config_text(row.yaml, source=version)
        except ConfigLoadError as exc:
            return _issues_problem(exc, version)
        previous = await store.activate(conn, version, principal.client_name)
    # This process switches now; the others follow through their config watcher.
    request.app[ROUTING].set_config(config, version)
    return web.json_response({"version": version, "previous": previous, "active": True})


@routes.post("/v1/routing/quote")
async def quote(request: web.Request) -> web.Response:
    principal = await authenticate(request, request.app[KEYS], "read")
    document = await read_json(request)
    if not isinstance(document, dict):
        raise ValidationFailed("the body must be a JSON object", [FieldError("", "not an object")])
    order = parse_model(PaymentOrder, document)
    now = request.app[CLOCK].now()
    req = route_request(order, "quote", client=str(principal.client_id), now=now)
    snapshot = request.app[ENGINE].c.health.snapshot(now)
    service = request.app[ROUTING]
    decision = service.decide(req, snapshot, now, explain=True)
    return web.json_response(
        {**decision.to_dict(), "config_version": service.version, "at": now.isoformat()}
    )


def _since(value: Any) -> dt.datetime:
    try:
        since = dt.datetime.fromisoformat(str(value))
    except ValueError:
        since = None
    if since is None or since.tzinfo is None:
        raise ValidationFailed(
            "since must be an ISO time with a UTC offset",
            [FieldError("/since", "ISO 8601 with offset, e.g. 2026-11-24T00:00:00+00:00")],
        )
    return since


@routes.post("/v1/routing/whatif")
async def whatif_replay(request: web.Request) -> web.Response:
    await authenticate(request, request.app[KEYS], "operator")
    body = await read_json(request)
    if not isinstance(body, dict) or not isinstance(body.get("candidate"), str):
        raise ValidationFailed(
            "send {'candidate': VERSION, 'since': ISO time}",
            [FieldError("/candidate", "a stored version is required")],
        )
    since = _since(body.get("since", "1970-01-01T00:00:00+00:00"))
    pool = request.app[POOL]
    try:
        row = await store.get_version(pool, body["candidate"])
    except NotFound as exc:
        raise ValidationFailed(exc.detail, [FieldError("/candidate", "no such version")]) from None
    candidate = load_config_text(row.yaml, source=row.version)
    service = request.app[ROUTING]
    docs = await store.recorded_requests(pool, since, WHATIF_LIMIT)

    def replay() -> dict[str, Any]:
        requests = [RouteRequest.model_validate(d) for d in docs]
        report = whatif(requests, service.config, candidate, Snapshot())
        return report.to_dict()

    report = await asyncio.to_thread(replay)
    return web.json_response(
        {
            "active_version": service.version,
            "candidate_version": row.version,
            "since": since.isoformat(),
            **report,
        }
    )


openapi.register(
    "POST",
    "/v1/routing/config",
    "Upload a routing config version (YAML body; validated, stored inactive)",
    scope="operator",
    status="201",
)
openapi.register(
    "GET", "/v1/routing/config/versions", "Stored routing config versions", scope="read"
)
openapi.register("GET", "/v1/routing/config", "The active routing config (YAML)", scope="read")
openapi.register(
    "GET",
    "/v1/routing/config/diff",
    "Unified diff of two versions (?from=A&to=B)",
    scope="read",
)
openapi.register(
    "POST",
    "/v1/routing/config/{version}/activate",
    "Activate a version (audited; running workers follow without restart)",
    scope="operator",
)
openapi.register(
    "POST",
    "/v1/routing/quote",
    "Explain how an order would be routed now (live snapshot)",
    scope="read",
    request="PaymentOrder",
)
openapi.register(
    "POST",
    "/v1/routing/whatif",
    "Replay recorded route requests under a candidate version against the active one",
    scope="operator",
)
