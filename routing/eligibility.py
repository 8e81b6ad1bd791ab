"""Which rails can carry a payment of a given shape (currency, countries, merged, LEI)
whatever its amount, the time or the live state.

Payments repeat a handful of shapes, so ranking looks the answer up instead of re-checking
every rail per decision: it is a function of the config and the shape alone, memoized per
shape and, within a shape, per rule's list of channels."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from routing.compiled import CompiledChannel, Row
    from routing.request import RouteRequest

# (currency, debtor country, creditor country, merged, LEI present)
ShapeKey = tuple[str, str | None, str | None, bool, bool]
_MAX_SHAPES = 4096


def shape_reason(
    ch: CompiledChannel,
    debtor: str | None,
    creditor: str | None,
    merged: bool,
    lei_present: bool,
) -> str | None:
    """Why `ch` cannot carry the payment whatever its amount; None when it can. (The
    currency and the amount limits are checked before this, in that order.)"""
    if debtor is not None and creditor is not None and debtor != creditor:
        if not ch.cross_border:
            return "domestic rail; the payment is cross-border"
    elif ch.domestic:
        for country in (debtor, creditor):
            if country is not None and country not in ch.domestic:
                return f"no domestic service in {country}"
    elif ch.cross_border:
        return "cross-border rail; the payment is domestic"
    if merged and not ch.accepts_merged:
        return "does not accept merged payments"
    if ch.lei_required and not lei_present:
        return "requires an LEI and the payment has none"
    return None


class Shape:
    """The rails that can carry one shape of payment."""

    __slots__ = ("_rails", "_rows", "by_id", "currency", "passes")

    def __init__(self, key: ShapeKey, channels: tuple[CompiledChannel, ...]) -> None:
        currency, debtor, creditor, merged, lei_present = key
        self.passes = frozenset(
            ch.id
            for ch in channels
            if currency in ch.currencies
            and shape_reason(ch, debtor, creditor, merged, lei_present) is None
        )
        self.currency = currency
        self.by_id = {ch.id: ch for ch in channels}
        self._rails: dict[tuple[str, ...], tuple[CompiledChannel, ...]] = {}
        self._rows: dict[tuple[str, ...], tuple[Row, ...]] = {}

    def rails(self, names: tuple[str, ...]) -> tuple[CompiledChannel, ...]:
        """Those of `names` this shape allows, in the order given."""
        rails = self._rails.get(names)
        if rails is None:
            rails = tuple(self.by_id[name] for name in names if name in self.passes)
            self._rails[names] = rails  # bounded: rule lists and split orders of one config
        return rails

    def rows(self, names: tuple[str, ...]) -> tuple[Row, ...]:
        """`rails(names)` as ranking reads them (see `CompiledChannel.row`)."""
        rows = self._rows.get(names)
        if rows is None:
            rows = tuple(ch.row(self.currency) for ch in self.rails(names))
            self._rows[names] = rows  # bounded as `_rails` is
        return rows


class Shapes:
    """Per-config memo of `Shape`s (bounded)."""

    __slots__ = ("_channels", "_shapes")

    def __init__(self, channels: tuple[CompiledChannel, ...]) -> None:
        self._channels = channels
        self._shapes: dict[ShapeKey, Shape] = {}

    def of(self, req: RouteRequest) -> Shape:
        key = (
            req.currency,
            req.debtor_country,
            req.creditor_country,
            req.merged,
            req.lei_present,
        )
        shape = self._shapes.get(key)
        if shape is None:
            shape = Shape(key, self._channels)
            if len(self._shapes) >= _MAX_SHAPES:
                self._shapes.clear()
            self._shapes[key] = shape
        return shape
