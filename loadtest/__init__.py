"""Open-loop HTTP load generator for paygate (talks HTTP only; imports nothing of paygate).

    from loadtest import run_open_loop, find_max_rate, LoadResult
    result = await run_open_loop(url, rate=800, duration_s=10)
    result.write(Path("out"))          # out/loadtest.json + out/loadtest.png

Open loop means a fixed arrival rate: each request is launched at its scheduled time whether
or not earlier ones have answered, and its latency is measured from that scheduled time, so a
stalled server shows up as latency instead of quietly lowering the request rate (coordinated
omission). ``run_closed_loop`` is the opposite (N workers, send-wait-send) and measures the
most this client and the server manage together.

Honest limits: the generator is one Python process on one event loop. On a 2-core machine
it shares the CPU with the server under test and tops out at a few thousand requests/s, so
an open-loop maximum near the closed-loop maximum may be the generator's limit rather than
the server's. Every result therefore reports the generator's own CPU use
(``client_cpu_util``, 1.0 = one full core) and how many sends were *late* (launched more than
10 ms after schedule): late sends or a generator at ~100 % CPU mean the client, not the
server, was the bottleneck. ``python -m loadtest --spawn-echo`` also prints the echo server's
CPU so both sides can be compared. The echo server is ``loadtest.echo.start_echo``.

Measured on the 2-core development VM while other jobs shared it (load average 1.3-3.8):
echo baseline, open loop, highest sustainable rate (p99 <= 100 ms, no errors) 1.4k-1.9k req/s;
closed loop (32-64 workers) 1.8k-4.6k req/s. The generator used only 30-70 % of a core and
the echo server less, while the machine as a whole was saturated: the limit there was CPU
contention, seen as late sends, not the generator code. Measure on a quiet machine.
"""

from loadtest.result import LoadResult, Second
from loadtest.runner import find_max_rate, run_closed_loop, run_open_loop, sustainable

__all__ = [
    "LoadResult",
    "Second",
    "find_max_rate",
    "run_closed_loop",
    "run_open_loop",
    "sustainable",
]
