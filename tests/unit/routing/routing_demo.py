"""The demo configuration and a fixed instant, shared by the routing unit tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from routing import RouteRequest

DEMO = Path(__file__).parents[3] / "routing" / "configs" / "demo.yaml"
BERLIN = ZoneInfo("Europe/Berlin")
# Tuesday 4 June 2024, 10:00 in Berlin: every demo rail is open.
TUESDAY_10 = dt.datetime(2024, 6, 4, 10, 0, tzinfo=BERLIN)

MakeRequest = Callable[..., RouteRequest]
