"""Simulated clearing rails (rtgs, batch, instant, card, citybank, cips, swift).

Independent of `paygate` by design: own codecs, own ledgers; only `schemas/` is shared.
"""

from simulators.clock import SimClock
from simulators.config import RailConfig, RailsConfig, load_rails_config
from simulators.server import RailsHandle, start_rails

__all__ = [
    "RailConfig",
    "RailsConfig",
    "RailsHandle",
    "SimClock",
    "load_rails_config",
    "start_rails",
]
