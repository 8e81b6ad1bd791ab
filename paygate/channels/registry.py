"""Which rails exist, where they listen and which protocol each speaks.

Loaded from YAML (``channels: {id: {protocol, base_url, ...}}``) or built in code by the demo.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from paygate.channels.base import Adapter
from paygate.channels.iso20022_rail import Iso20022Rail
from paygate.channels.json_rail import JsonRail
from paygate.errors import ConfigError

PROTOCOLS = ("iso20022", "json", "swift_fin")


@dataclass(frozen=True)
class ChannelEndpoint:
    id: str
    base_url: str
    adapter: Adapter


def build_adapter(channel_id: str, protocol: str, options: dict[str, Any]) -> Adapter:
    try:
        if protocol == "iso20022":
            return Iso20022Rail(channel_id, **options)
        if protocol == "json":
            return JsonRail(channel_id, **options)
        if protocol == "swift_fin":
            from paygate.channels.swift_fin import SwiftFinRail

            return SwiftFinRail(channel_id, **options)
    except (TypeError, ValueError) as exc:  # an unknown option or a value out of range
        raise ConfigError(f"channel {channel_id}: {exc}") from exc
    raise ConfigError(f"channel {channel_id}: unknown protocol {protocol!r}; known: {PROTOCOLS}")


def endpoints_from(doc: dict[str, Any]) -> dict[str, ChannelEndpoint]:
    channels = doc.get("channels")
    if not isinstance(channels, dict) or not channels:
        raise ConfigError("channels file needs a non-empty 'channels:' mapping")
    found: dict[str, ChannelEndpoint] = {}
    for channel_id, spec in channels.items():
        if not isinstance(spec, dict) or "base_url" not in spec or "protocol" not in spec:
            raise ConfigError(f"channel {channel_id}: needs 'protocol' and 'base_url'")
        options = {k: v for k, v in spec.items() if k not in ("protocol", "base_url")}
        adapter = build_adapter(str(channel_id), str(spec["protocol"]), options)
        found[str(channel_id)] = ChannelEndpoint(str(channel_id), str(spec["base_url"]), adapter)
    return found


def load_endpoints(path: Path) -> dict[str, ChannelEndpoint]:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read channels file {path}: {exc}") from exc
    return endpoints_from(doc or {})


# The protocol each kind of simulated or real rail speaks unless configured otherwise.
DEFAULT_PROTOCOL = {
    "rtgs": "iso20022",
    "batch": "iso20022",
    "instant": "iso20022",
    "cips": "iso20022",
    "citybank": "json",
    "card": "json",
    "swift": "swift_fin",
}


# What the bundled simulators take beyond their protocol. The rtgs simulator books each
# transaction of a multi-transaction pacs.008 on its own (gross settlement), so the gateway
# may bundle; the batch rail books a message as one batch, so it gets one payment each.
SIMULATED_OPTIONS: dict[str, dict[str, Any]] = {"rtgs": {"max_transactions_per_message": 32}}


def simulated_channel(rail_id: str, base_url: str) -> dict[str, Any]:
    """The channels-file entry for a simulated rail named like its kind."""
    return {
        "protocol": DEFAULT_PROTOCOL.get(rail_id, "iso20022"),
        "base_url": base_url,
        **SIMULATED_OPTIONS.get(rail_id, {}),
    }


def endpoints_for_urls(urls: dict[str, str]) -> dict[str, ChannelEndpoint]:
    """Endpoints for rails named like their kind (the demo's and the simulators' naming)."""
    return endpoints_from(
        {"channels": {rid: simulated_channel(rid, url) for rid, url in urls.items()}}
    )
