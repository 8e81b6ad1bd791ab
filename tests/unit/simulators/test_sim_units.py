"""Pure parts of the simulators: tariffs, calendars, clock, behaviour profile, codecs."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from simulators.behaviour import Behaviour, Dice, ProfileError
from simulators.clock import SimClock
from simulators.config import ConfigError, load_rails_config, parse_rails_config
from simulators.mt_codec import MtFormatError, mt_amount, parse_mt103
from simulators.statements.planting import PlantSpecError, parse_plant_spec

CFG = load_rails_config()


@pytest.mark.parametrize(
    ("rail", "amount", "ccy", "fee"),
    [
        ("rtgs", "1000", "EUR", "2.50"),
        ("rtgs", "1000", "USD", "2.50"),
        ("rtgs", "1000", "CNY", "15.00"),
        ("batch", "49999", "EUR", "0.20"),
        ("instant", "5", "EUR", "0.80"),
        ("card", "10", "CNY", "1.00"),
        ("card", "1000", "CNY", "6.00"),
        ("card", "50000", "CNY", "50.00"),
        ("citybank", "1000000", "CNY", "1.00"),
        ("cips", "100000", "CNY", "30.00"),
        ("cips", "10000000", "CNY", "200.00"),
        ("swift", "1000", "USD", "25.50"),
        ("swift", "1000000", "USD", "150.00"),
        ("swift", "1000000", "JPY", "150"),
    ],
)
def test_tariffs_match_the_published_schedule(rail: str, amount: str, ccy: str, fee: str) -> None:
    assert CFG.rails[rail].tariff.fee(Decimal(amount), ccy) == Decimal(fee)
    assert str(CFG.rails[rail].tariff.fee(Decimal(amount), ccy)) == fee


def test_rtgs_hours_cutoff_and_german_holidays() -> None:
    hours = CFG.rails["rtgs"].hours
    assert hours.accepting(datetime(2024, 1, 17, 15, 59, tzinfo=UTC))  # 16:59 Berlin
    assert not hours.accepting(datetime(2024, 1, 17, 16, 0, tzinfo=UTC))  # 17:00 cut-off
    assert not hours.accepting(datetime(2024, 1, 17, 6, 59, tzinfo=UTC))  # 07:59
    assert not hours.accepting(datetime(2024, 10, 3, 10, 0, tzinfo=UTC))  # German Unity Day
    friday_late = datetime(2024, 1, 19, 17, 0, tzinfo=UTC)
    assert hours.next_open(friday_late) == datetime(2024, 1, 22, 7, 0, tzinfo=UTC)


def test_always_open_rails() -> None:
    assert CFG.rails["instant"].hours.always_open
    assert CFG.rails["instant"].hours.accepting(datetime(2024, 12, 25, 3, 0, tzinfo=UTC))


def test_clock_speed_and_set() -> None:
    t = [100.0]
    clock = SimClock(datetime(2024, 1, 1, tzinfo=UTC), speed=3600, monotonic=lambda: t[0])
    t[0] += 2
    assert clock.now() == datetime(2024, 1, 1, 2, tzinfo=UTC)
    clock.set(datetime(2024, 6, 1), speed=0)  # naive = UTC
    t[0] += 100
    assert clock.now() == datetime(2024, 6, 1, tzinfo=UTC)
    with pytest.raises(ValueError):
        clock.set(speed=-1)


def test_behaviour_patch_validates() -> None:
    b = Behaviour().patched({"latency": {"dist": "uniform", "ms": 5, "max_ms": 10}, "seed": 9})
    assert (b.latency_dist, b.latency_ms, b.latency_max_ms, b.seed) == ("uniform", 5, 10, 9)
    for bad in (
        {"timeout_rate": 0.6, "lost_response_rate": 0.6},
        {"outages": [{"start": "2024-01-01T01:00", "end": "2024-01-01T00:00"}]},
        {"reject_reasons": {}},
        {"hold_ms": -1},
    ):
        with pytest.raises(ProfileError):
            Behaviour().patched(bad)


def test_dice_are_reproducible() -> None:
    b = Behaviour(reject_rate=0.3, reject_reasons={"AM04": 1, "AC01": 2}, lost_response_rate=0.2)
    runs = []
    for _ in range(2):
        d = Dice(5)
        runs.append([(d.fault(b), d.reject_reason(b), d.latency_s(b)) for _ in range(50)])
    assert runs[0] == runs[1]


def test_config_refuses_float_money_and_unknown_protocols() -> None:
    base = {"protocols": ["json"], "currencies": ["EUR"]}
    with pytest.raises(ConfigError, match="quoted string"):
        parse_rails_config({"rails": {"x": {**base, "fees": {"fixed": 0.2}}}})
    with pytest.raises(ConfigError, match="protocols"):
        parse_rails_config({"rails": {"x": {**base, "protocols": ["fax"]}}})


def test_plant_spec() -> None:
    assert parse_plant_spec("drop:1,amount:2,unknown") == {"drop": 1, "amount": 2, "unknown": 1}
    with pytest.raises(PlantSpecError):
        parse_plant_spec("teleport:1")
    with pytest.raises(PlantSpecError):
        parse_plant_spec("drop:x")


MT = (
    "{1:F01PAYGDEFFAXXX0000000000}{2:I103BENEGB2LXXXXN}"
    "{3:{121:0f6c0c5e-5d6f-4d0a-9b3e-1f2a3b4c5d6e}}{4:\r\n"
    ":20:REF-77\r\n:23B:CRED\r\n:32A:240117EUR1234,5\r\n:50K:/DE001\r\nDEBTOR\r\n"
    ":59:/GB002\r\nJANE ROE\r\n:71A:OUR\r\n-}"
)


def test_mt103_parse() -> None:
    msg = parse_mt103(MT)
    ins = msg.instruction
    assert (ins.reference, ins.amount, ins.currency, ins.creditor_name) == (
        "REF-77",
        Decimal("1234.5"),
        "EUR",
        "JANE ROE",
    )
    assert (ins.debtor_account, ins.creditor_account, msg.charges) == ("DE001", "GB002", "OUR")


@pytest.mark.parametrize(
    ("old", "new", "error"),
    [
        (":23B:CRED", ":23B:XXXX", "23B"),
        (":20:REF-77", ":20:/REF", "field 20"),
        ("{121:0f6c0c5e-5d6f-4d0a-9b3e-1f2a3b4c5d6e}", "{121:not-a-uuid}", "UUID"),
        ("240117EUR1234,5", "241317EUR1234,5", "date"),
        (":59:/GB002", ":58A:X\r\n:59:/GB002", "58A"),
    ],
)
def test_mt103_syntax_errors(old: str, new: str, error: str) -> None:
    text = MT.replace(old, new)
    if error == "58A":
        parse_mt103(text)  # unknown optional fields are tolerated
        return
    with pytest.raises(MtFormatError, match=error):
        parse_mt103(text)


def test_mt_amount_uses_decimal_comma() -> None:
    assert mt_amount(Decimal("1000.5"), "EUR") == "1000,50"
    assert mt_amount(Decimal("1000"), "JPY") == "1000,"
