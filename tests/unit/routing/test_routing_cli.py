from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

from paygate.cli.routing_cmd import register
from tests.unit.routing.routing_demo import DEMO


def run(*argv: str) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["routing", *argv])
    out = io.StringIO()
    return args.handler(args, out), out.getvalue()


def test_check_clean_and_broken(tmp_path: Path) -> None:
    assert run("check", str(DEMO)) == (0, "")
    bad = tmp_path / "bad.yaml"
    bad.write_text(DEMO.read_text().replace("fallbacks: [instant]", "fallbacks: [instnat]"))
    code, out = run("check", str(bad))
    assert code == 1
    [line] = out.splitlines()
    assert line.startswith(f"{bad}:")
    assert line.split(":")[1].isdigit()
    assert "rule 'payroll-on-batch' names unknown channel 'instnat'" in line


def test_explain_prints_the_table(tmp_path: Path) -> None:
    order = tmp_path / "order.json"
    order.write_text(json.dumps({"payment_id": "o1", "amount": "1000", "currency": "EUR"}))
    code, out = run(
        "explain", "--config", str(DEMO), "--order", str(order), "--now", "2024-06-04T10:00+02:00"
    )
    assert code == 0
    assert "CHOSEN" in out and "does not carry EUR" in out
    assert "chosen batch (rule default), fee 0.20" in out


def test_whatif_prints_the_report(tmp_path: Path) -> None:
    reqs = tmp_path / "reqs.jsonl"
    lines = [
        json.dumps(
            {
                "payment_id": f"r{i}",
                "amount": "100",
                "currency": "EUR",
                "product": "payroll",
                "routed_at": "2024-06-04T10:00:00+02:00",
            }
        )
        for i in range(3)
    ]
    reqs.write_text("\n".join(lines) + "\n")
    new = tmp_path / "new.yaml"
    new.write_text(
        DEMO.read_text().replace(
            "    channel: batch\n    fallbacks: [instant]", "    channel: instant"
        )
    )
    code, out = run("whatif", "--config", str(new), "--active", str(DEMO), "--requests", str(reqs))
    assert code == 0
    assert "replayed 3 requests: 3 decisions change" in out
    assert "fees EUR: 0.60 → 2.40 (delta 1.80)" in out
