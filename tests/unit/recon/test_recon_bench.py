"""The benchmark's generator plants every break kind and the matcher finds exactly them."""

from __future__ import annotations

from paygate.bench.recon_bench import run


def test_small_bench_finds_every_plant_and_nothing_else() -> None:
    figures = run(5_000, seed=3)
    assert figures["all_planted_found"] is True, (figures["planted"], figures["found"])
    assert figures["lines"] == 5_000
    assert len(figures["planted"]) == 7  # type: ignore[arg-type]
