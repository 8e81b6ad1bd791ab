"""The composition root: ``create_app(settings)`` builds every collaborator once, stores it in
a typed ``web.AppKey`` and ties its lifetime to the application with ``cleanup_ctx``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from paygate.api import merges, ops, payment_files, payments
from paygate.api import recon as recon_api
from paygate.api import routing as routing_api
from paygate.api.auth import KeyCache
from paygate.api.keys import (
    CLOCK,
    DATABASE,
    ENGINE,
    INTAKE,
    KEYS,
    METRICS,
    POOL,
    ROUTING,
    SETTINGS,
)
from paygate.api.middleware import request_context
from paygate.channels.registry import ChannelEndpoint, load_endpoints
from paygate.channels.transport import Transport
from paygate.config import Settings
from paygate.engine.clock import Clock, clock_from
from paygate.engine.dispatcher import Collaborators, Dispatcher
from paygate.engine.health import ChannelHealth
from paygate.engine.metrics import Metrics
from paygate.engine.routing_service import RoutingService
from paygate.errors import ConfigError
from paygate.merging import MergeConfig, load_merge_config
from paygate.store.database import open_database
from paygate.store.intake_batcher import IntakeBatcher
from routing import RoutingConfig, load_config

DEFAULT_ROUTING = Path(__file__).resolve().parents[2] / "routing" / "configs" / "demo.yaml"


@dataclass
class Overrides:
    """What tests and the demo inject instead of reading files."""

    endpoints: dict[str, ChannelEndpoint] | None = None
    routing_config: RoutingConfig | None = None
    clock: Clock | None = None
    run_workers: bool = True
    extra_routes: list[web.RouteTableDef] = field(default_factory=list)


def _routing_config(settings: Settings, overrides: Overrides) -> RoutingConfig:
    if overrides.routing_config is not None:
        return overrides.routing_config
    path = settings.routing_file or DEFAULT_ROUTING
    return load_config(path)


def _endpoints(settings: Settings, overrides: Overrides) -> dict[str, ChannelEndpoint]:
    if overrides.endpoints is not None:
        return overrides.endpoints
    if settings.channels_file is None:
        raise ConfigError("no channels configured: set PAYGATE_CHANNELS_FILE")
    return load_endpoints(settings.channels_file)


def _merge_config(settings: Settings) -> MergeConfig | None:
    # None: merging is off and every payment is routed on its own.
    return None if settings.merging_file is None else load_merge_config(settings.merging_file)


def create_app(settings: Settings, overrides: Overrides | None = None) -> web.Application:
    overrides = overrides or Overrides()
    app = web.Application(client_max_size=settings.body_limit_bytes, middlewares=[request_context])
    app[SETTINGS] = settings
    app[METRICS] = Metrics()
    app[CLOCK] = overrides.clock or clock_from(settings.clock_start, settings.clock_speed)
    app[ROUTING] = RoutingService(_routing_config(settings, overrides))
    app.add_routes(payments.routes)
    app.add_routes(payment_files.routes)
    app.add_routes(ops.routes)
    app.add_routes(merges.routes)
    app.add_routes(routing_api.routes)
    app.add_routes(recon_api.routes)
    for table in overrides.extra_routes:
        app.add_routes(table)
    app.cleanup_ctx.append(_database)
    routing_file = None if overrides.routing_config else settings.routing_file or DEFAULT_ROUTING
    app.cleanup_ctx.append(routing_api.lifetime(routing_file))
    merge_interval = min(0.5, max(settings.poll_interval_s * 5, 0.05))
    app.cleanup_ctx.append(
        merges.merge_context(
            _merge_config(settings), run=overrides.run_workers, interval_s=merge_interval
        )
    )
    app.cleanup_ctx.append(_engine_context(settings, overrides))
    return app


async def _database(app: web.Application) -> AsyncIterator[None]:
    database = await open_database(app[SETTINGS])
    app[DATABASE] = database
    app[POOL] = database.pool
    app[KEYS] = KeyCache(database.pool)
    app[INTAKE] = IntakeBatcher(database.pool, app[SETTINGS].insert_coalesce_ms)
    yield
    await app[INTAKE].close()
    await database.close()


def _engine_context(
    settings: Settings, overrides: Overrides
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def engine(app: web.Application) -> AsyncIterator[None]:
        transport = Transport(settings.channel_timeout_s)
        await transport.start()
        dispatcher = Dispatcher(
            Collaborators(
                pool=app[POOL],
                settings=settings,
                routing=app[ROUTING],
                health=ChannelHealth(usage=app[routing_api.USAGE].states),
                endpoints=_endpoints(settings, overrides),
                transport=transport,
                clock=app[CLOCK],
                metrics=app[METRICS],
                merging=app.get(merges.MERGE_WORKER),
            )
        )
        app[ENGINE] = dispatcher
        task = asyncio.create_task(dispatcher.run()) if overrides.run_workers else None
        yield
        dispatcher.stop()
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await transport.close()

    return engine
