from __future__ import annotations

import json
from pathlib import Path

from routing import bench, config_schema, config_schema_text

SCHEMA = Path(__file__).parents[3] / "routing" / "schema.json"


def test_published_schema_is_current() -> None:
    # Regenerate with: python -c "import routing,pathlib; pathlib.Path('routing/schema.json')
    #   .write_text(routing.config_schema_text())"
    assert SCHEMA.read_text() == config_schema_text()


def test_schema_describes_rule_kinds_and_aliases() -> None:
    schema = config_schema()
    text = json.dumps(schema)
    for kind in (
        "designated",
        "whitelist",
        "product",
        "exclusion",
        "condition",
        "split",
        "default",
    ):
        assert f'"const": "{kind}"' in text
    assert "from" in schema["$defs"]["FeeBand"]["properties"]


def test_bench_runs_and_reports() -> None:
    result = bench.run(decisions=400)
    assert (result["rails"], result["rules"]) == (7, 100)
    for mode in ("explain_off", "explain_on"):
        assert result[mode]["decisions_per_s"] > 0
        assert result[mode]["p99_us"] >= result[mode]["p50_us"] > 0
