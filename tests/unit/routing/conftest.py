from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from routing import RouteRequest, RoutingConfig, load_config

DEMO = Path(__file__).parents[3] / "routing" / "configs" / "demo.yaml"


@pytest.fixture(scope="session")
def demo() -> RoutingConfig:
    return load_config(DEMO)


@pytest.fixture
def make_request() -> Callable[..., RouteRequest]:
    def make(amount: str = "100", currency: str = "EUR", **fields: Any) -> RouteRequest:
        fields.setdefault("payment_id", "p-1")
        return RouteRequest(amount=Decimal(amount), currency=currency, **fields)

    return make
