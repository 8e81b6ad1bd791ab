"""Typed application keys: the collaborators the composition root builds."""

from __future__ import annotations

import asyncpg
from aiohttp import web

from paygate.api.auth import KeyCache
from paygate.config import Settings
from paygate.engine.clock import Clock
from paygate.engine.dispatcher import Dispatcher
from paygate.engine.metrics import Metrics
from paygate.engine.routing_service import RoutingService
from paygate.store.database import Database
from paygate.store.intake_batcher import IntakeBatcher

SETTINGS = web.AppKey("settings", Settings)
DATABASE = web.AppKey("database", Database)
POOL = web.AppKey("pool", asyncpg.Pool)
METRICS = web.AppKey("metrics", Metrics)
CLOCK = web.AppKey("clock", Clock)
ROUTING = web.AppKey("routing", RoutingService)
KEYS = web.AppKey("keys", KeyCache)
ENGINE = web.AppKey("engine", Dispatcher)
INTAKE = web.AppKey("intake", IntakeBatcher)
