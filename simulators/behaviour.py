"""Behaviour profile of a rail (latency, rejects, faults, outages) and the seeded dice for it.

The profile is data: loaded from rails.yaml, patched at runtime by POST /_control. All random
draws for one rail come from one random.Random(seed), so a sequential run is reproducible.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from simulators.clock import _as_utc

FAULT_NONE = "none"
FAULT_5XX = "error_5xx"
FAULT_LOST = "lost_response"
FAULT_TIMEOUT = "timeout"

OUTAGE_MODES = ("503", "drop")
LATENCY_DISTS = ("fixed", "uniform", "lognormal")


class ProfileError(ValueError):
    """A behaviour profile (YAML or /_control patch) that does not make sense."""


@dataclass(frozen=True)
class Outage:
    start: datetime
    end: datetime
    mode: str = "503"  # "503": answer 503; "drop": close the connection without an answer

    def covers(self, now: datetime) -> bool:
        return self.start <= now < self.end


@dataclass(frozen=True)
class Behaviour:
    latency_dist: str = "fixed"
    latency_ms: float = 0.0  # fixed value, uniform low bound, lognormal median
    latency_max_ms: float = 0.0  # uniform high bound
    latency_sigma: float = 0.5  # lognormal shape
    reject_rate: float = 0.0
    reject_reasons: dict[str, float] = field(default_factory=lambda: {"AM04": 1.0})
    timeout_rate: float = 0.0
    hold_ms: float = 30_000.0
    lost_response_rate: float = 0.0
    error_5xx_rate: float = 0.0
    settle_before_5xx: bool = False
    duplicate_callback_rate: float = 0.0
    outages: tuple[Outage, ...] = ()
    seed: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "latency": {
                "dist": self.latency_dist,
                "ms": self.latency_ms,
                "max_ms": self.latency_max_ms,
                "sigma": self.latency_sigma,
            },
            "reject_rate": self.reject_rate,
            "reject_reasons": dict(self.reject_reasons),
            "timeout_rate": self.timeout_rate,
            "hold_ms": self.hold_ms,
            "lost_response_rate": self.lost_response_rate,
            "error_5xx_rate": self.error_5xx_rate,
            "settle_before_5xx": self.settle_before_5xx,
            "duplicate_callback_rate": self.duplicate_callback_rate,
            "outages": [
                {"start": o.start.isoformat(), "end": o.end.isoformat(), "mode": o.mode}
                for o in self.outages
            ],
            "seed": self.seed,
        }

    def patched(self, patch: dict[str, Any]) -> Behaviour:
        """A new profile with the keys of `patch` (same shape as YAML / to_json) applied."""
        return parse_behaviour(patch, base=self)


def _rate(value: Any, name: str) -> float:
    try:
        rate = float(value)
    except (TypeError, ValueError) as exc:
        raise ProfileError(f"{name} must be a number") from exc
    if not 0.0 <= rate <= 1.0:
        raise ProfileError(f"{name} must be within [0, 1]")
    return rate


def _non_negative(value: Any, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise ProfileError(f"{name} must be a number") from exc
    if number < 0 or math.isnan(number):
        raise ProfileError(f"{name} must be >= 0")
    return number


def _datetime(value: Any, name: str) -> datetime:
    if isinstance(value, datetime):
        return _as_utc(value)
    try:
        return _as_utc(datetime.fromisoformat(str(value)))
    except ValueError as exc:
        raise ProfileError(f"{name} must be an ISO datetime") from exc


def parse_behaviour(data: dict[str, Any] | None, base: Behaviour | None = None) -> Behaviour:
    if data is None:
        return base or Behaviour()
    if not isinstance(data, dict):
        raise ProfileError("behaviour must be a mapping")
    known = {
        "latency", "reject_rate", "reject_reasons", "timeout_rate", "hold_ms",
        "lost_response_rate", "error_5xx_rate", "settle_before_5xx",
        "duplicate_callback_rate", "outages", "seed",
    }  # fmt: skip
    unknown = set(data) - known
    if unknown:
        raise ProfileError(f"unknown behaviour keys: {sorted(unknown)}")
    b = base or Behaviour()
    changes: dict[str, Any] = {}
    if "latency" in data:
        lat = data["latency"]
        if isinstance(lat, int | float):
            lat = {"dist": "fixed", "ms": lat}
        if not isinstance(lat, dict):
            raise ProfileError("latency must be a number of ms or a mapping")
        dist = str(lat.get("dist", b.latency_dist))
        if dist not in LATENCY_DISTS:
            raise ProfileError(f"latency.dist must be one of {LATENCY_DISTS}")
        changes["latency_dist"] = dist
        changes["latency_ms"] = _non_negative(lat.get("ms", b.latency_ms), "latency.ms")
        changes["latency_max_ms"] = _non_negative(
            lat.get("max_ms", b.latency_max_ms), "latency.max_ms"
        )
        changes["latency_sigma"] = _non_negative(lat.get("sigma", b.latency_sigma), "sigma")
    for key in (
        "reject_rate",
        "timeout_rate",
        "lost_response_rate",
        "error_5xx_rate",
        "duplicate_callback_rate",
    ):
        if key in data:
            changes[key] = _rate(data[key], key)
    if "hold_ms" in data:
        changes["hold_ms"] = _non_negative(data["hold_ms"], "hold_ms")
    if "settle_before_5xx" in data:
        changes["settle_before_5xx"] = bool(data["settle_before_5xx"])
    if "seed" in data:
        try:
            changes["seed"] = int(data["seed"])
        except (TypeError, ValueError) as exc:
            raise ProfileError("seed must be an integer") from exc
    if "reject_reasons" in data:
        mix = data["reject_reasons"]
        if not isinstance(mix, dict) or not mix:
            raise ProfileError("reject_reasons must be a non-empty mapping code -> weight")
        changes["reject_reasons"] = {
            str(code): _non_negative(w, f"reject_reasons.{code}") for code, w in mix.items()
        }
    if "outages" in data:
        windows = data["outages"] or []
        if not isinstance(windows, list):
            raise ProfileError("outages must be a list")
        parsed = []
        for w in windows:
            if not isinstance(w, dict):
                raise ProfileError("each outage is a mapping {start, end, mode}")
            mode = str(w.get("mode", "503"))
            if mode not in OUTAGE_MODES:
                raise ProfileError(f"outage mode must be one of {OUTAGE_MODES}")
            start = _datetime(w.get("start"), "outage.start")
            end = _datetime(w.get("end"), "outage.end")
            if end <= start:
                raise ProfileError("outage end must be after start")
            parsed.append(Outage(start, end, mode))
        changes["outages"] = tuple(parsed)
    result = replace(b, **changes)
    total = result.timeout_rate + result.lost_response_rate + result.error_5xx_rate
    if total > 1.0:
        raise ProfileError("timeout_rate + lost_response_rate + error_5xx_rate must be <= 1")
    return result


class Dice:
    """Every random decision of one rail, drawn from one seeded generator."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)

    def reseed(self, seed: int) -> None:
        self._rng = random.Random(seed)

    def fault(self, b: Behaviour) -> str:
        # One draw per submission picks at most one fault, so the rates are exact shares.
        r = self._rng.random()
        if r < b.error_5xx_rate:
            return FAULT_5XX
        r -= b.error_5xx_rate
        if r < b.lost_response_rate:
            return FAULT_LOST
        r -= b.lost_response_rate
        if r < b.timeout_rate:
            return FAULT_TIMEOUT
        return FAULT_NONE

    def latency_s(self, b: Behaviour) -> float:
        if b.latency_dist == "fixed":
            ms = b.latency_ms
        elif b.latency_dist == "uniform":
            ms = self._rng.uniform(b.latency_ms, max(b.latency_ms, b.latency_max_ms))
        elif b.latency_ms <= 0:
            ms = 0.0
        else:
            ms = self._rng.lognormvariate(math.log(b.latency_ms), b.latency_sigma)
        return ms / 1000.0

    def reject_reason(self, b: Behaviour) -> str | None:
        if b.reject_rate <= 0 or self._rng.random() >= b.reject_rate:
            return None
        codes = list(b.reject_reasons)
        weights = [b.reject_reasons[c] for c in codes]
        if sum(weights) <= 0:
            return codes[0]
        return self._rng.choices(codes, weights=weights)[0]

    def chance(self, rate: float) -> bool:
        return rate > 0 and self._rng.random() < rate
