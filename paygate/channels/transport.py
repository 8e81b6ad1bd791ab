"""The one HTTP transport every adapter shares: timeouts, connection reuse, error mapping.

The mapping is what keeps payments from being paid twice:
- the connection could not be opened → ``ChannelUnavailable`` (the rail never saw it);
- anything after the request may have left (timeout, reset, 5xx) → ``OutcomeUnknown``:
  resolve by status inquiry before any resend or failover.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
from yarl import URL

from paygate.channels.base import HttpCall
from paygate.errors import ChannelUnavailable, OutcomeUnknown


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes


class Transport:
    def __init__(self, timeout_s: float, connections: int = 200) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout_s, connect=min(timeout_s, 2.0))
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None
        self._urls: dict[tuple[str, str], URL] = {}

    async def start(self) -> None:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self._connections, limit_per_host=0)
            # Rails set no cookies, and a request to one must not carry another's.
            self._session = aiohttp.ClientSession(
                timeout=self._timeout, connector=connector, cookie_jar=aiohttp.DummyCookieJar()
            )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, base_url: str, call: HttpCall, *, inquiry: bool = False) -> Reply:
        if self._session is None:
            await self.start()
        assert self._session is not None
        url = self._url(base_url, call.path)
        try:
            async with self._session.request(
                call.method, url, data=call.body or None, headers=call.headers
            ) as response:
                body = await response.read()
        except (aiohttp.ClientConnectorError, ConnectionRefusedError) as exc:
            raise ChannelUnavailable(f"cannot connect to {base_url}: {exc}") from exc
        except TimeoutError as exc:
            raise OutcomeUnknown(f"no answer from {base_url} within the timeout") from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise OutcomeUnknown(f"connection to {base_url} lost: {exc}") from exc
        if response.status >= 500:
            if response.status == 503 and not inquiry and _refused_before_processing(response):
                raise ChannelUnavailable(f"{base_url} is unavailable (503)")
            raise OutcomeUnknown(f"{base_url} answered {response.status}")
        return Reply(response.status, body)

    def _url(self, base_url: str, path: str) -> URL:
        # A handful of rails and paths: parse each once, not on every request.
        url = self._urls.get((base_url, path))
        if url is None:
            url = self._urls[base_url, path] = URL(base_url.rstrip("/") + path)
        return url


def _refused_before_processing(response: aiohttp.ClientResponse) -> bool:
    # A rail in an outage window says so explicitly; any other 5xx may have settled.
    return response.headers.get("X-Outage", "").lower() == "true"
