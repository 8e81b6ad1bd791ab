"""The one settings object. Environment variables ``PAYGATE_*`` override an optional file.

Nothing else in paygate reads ``os.environ``; collaborators receive a ``Settings`` value.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PAYGATE_", env_file=".paygate.env", extra="ignore", frozen=True
    )

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL DSN. Unset: an embedded PostgreSQL is started in data_dir.",
    )
    data_dir: Path = Field(default=Path(".paygate"), description="Embedded database, reports.")
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    log_format: Literal["json", "console"] = "console"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    body_limit_bytes: int = Field(default=1024 * 1024, gt=0)
    db_pool_min: int = Field(default=2, ge=1)
    db_pool_max: int = Field(default=10, ge=1)
    dispatch_workers: int = Field(default=4, ge=0, description="Concurrent dispatch loops.")
    dispatch_batch: int = Field(default=64, ge=1, description="Work items claimed per poll.")
    poll_interval_s: float = Field(default=0.05, gt=0)
    channel_timeout_s: float = Field(default=5.0, gt=0)
    inquiry_max_attempts: int = Field(default=8, ge=1)
    inquiry_backoff_s: float = Field(default=0.2, gt=0)
    max_submission_attempts: int = Field(default=3, ge=1)
    channels_file: Path | None = Field(
        default=None, description="YAML mapping channel id -> base URL and protocol."
    )
    routing_file: Path | None = Field(default=None, description="Routing config (YAML).")
    merging_file: Path | None = Field(default=None, description="Merge rules (YAML).")
    clock_start: dt.datetime | None = Field(
        default=None,
        description="Start of a simulated business clock (demo, tests). Unset: real time.",
    )
    clock_speed: float = Field(default=1.0, gt=0, description="Simulated seconds per second.")
    insert_coalesce_ms: float = Field(
        default=0.0,
        ge=0,
        description="Intake INSERT coalescing. 0: a batch is cut at the end of each event-loop "
        "turn and written as soon as a writer is free; batches grow while the writers are busy "
        "(group commit without a fixed delay). >0: wait this many ms for more requests first.",
    )
    gc_freeze: bool = Field(
        default=True,
        description="`serve`: move everything alive after start-up into the GC's permanent "
        "generation, so collections under load scan only what requests allocate.",
    )
    gc_gen0_threshold: int = Field(
        default=50_000,
        ge=0,
        description="`serve`: allocations between young-generation collections (CPython's "
        "default is 700; 0 keeps the interpreter's setting).",
    )

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"
