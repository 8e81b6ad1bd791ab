"""Choosing a rail for one payment: rules narrow the candidates, hard constraints drop the
rails that cannot take it, scoring orders the rest. Pure: `now` and the live state are
passed in, and the same inputs always give the same decision."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from routing.compiled import (
    CompiledChannel,
    CompiledConfig,
    CompiledRule,
    fee_from_bands,
    latency_penalty,
)
from routing.config import RoutingConfig
from routing.decision import ChannelVerdict, Decision
from routing.request import RouteRequest
from routing.snapshot import FRESH, BreakerState, ChannelState, Snapshot

STRAIGHT_THROUGH = "straight-through"
_ZERO = Decimal(0)
_RISK_QUANTUM = Decimal("0.0001")
_OPEN = BreakerState.OPEN
_HALF_OPEN = BreakerState.HALF_OPEN
# `_check` returns this object (compared by identity) for a rail outside its hours, so that
# ranking builds no message; `check` replaces it with the full reason when explaining.
_CLOSED: str = type("_Closed", (str,), {"__slots__": ()})("closed")

# A rail that passed every hard constraint: fee, expected seconds to settle, its state.
_Fit = tuple[Decimal, float, ChannelState]
# A scored rail: score, config order (tie-break), id, fee, latency, risk, expected seconds.
_Scored = tuple[Decimal, int, str, Decimal, Decimal, Decimal, float]


class _Evaluation:
    """Per-decision memo: each rail is checked and scored at most once."""

    __slots__ = (
        "cc",
        "checked",
        "cross",
        "locals",
        "now",
        "now_ts",
        "priority",
        "req",
        "scored",
        "slack",
        "snapshot",
        "unit",
        "weights",
    )

    def __init__(
        self, req: RouteRequest, cc: CompiledConfig, snapshot: Snapshot, now: dt.datetime
    ) -> None:
        self.req = req
        self.cc = cc
        self.snapshot = snapshot.channels
        self.now = now
        self.now_ts = now.timestamp()
        debtor, creditor = req.debtor_country, req.creditor_country
        self.cross = debtor is not None and creditor is not None and debtor != creditor
        deadline = req.deadline
        self.slack = None if deadline is None else (deadline - now).total_seconds()
        self.locals: dict[str, dt.datetime] = {}
        self.checked: dict[str, str | _Fit] = {}
        self.scored: dict[str, _Scored] = {}
        self.priority = req.priority
        w = cc.weights
        product = req.product
        if product is not None and product in w.products:
            self.weights = w.products[product]
            self.unit = False
        else:
            self.weights = w.default
            self.unit = w.unit

    def local(self, ch: CompiledChannel) -> dt.datetime:
        cal = ch.calendar
        local = self.locals.get(cal.zone)
        if local is None:
            local = self.now.astimezone(cal.tz)
            self.locals[cal.zone] = local
        return local

    def check(self, ch: CompiledChannel) -> str | _Fit:
        result = self.checked.get(ch.id)
        if result is None or result is _CLOSED:
            result = self._check(ch)
            if result is _CLOSED:
                result = ch.calendar.closed_reason(self.local(ch)) or _CLOSED
            self.checked[ch.id] = result
        return result

    def _check(self, ch: CompiledChannel) -> str | _Fit:
        req = self.req
        cur = req.currency
        if cur not in ch.currencies:
            return f"does not carry {cur}"
        amount = req.amount
        bounds = ch.limits.get(cur)
        if bounds is not None:
            low, high = bounds
            if amount < low:
                return f"amount {amount} {cur} below its minimum {low}"
            if high is not None and amount > high:
                return f"amount {amount} {cur} above its maximum {high}"
        if self.cross:
            if not ch.cross_border:
                return "domestic rail; the payment is cross-border"
        elif ch.domestic:
            for country in (req.debtor_country, req.creditor_country):
                if country is not None and country not in ch.domestic:
                    return f"no domestic service in {country}"
        elif ch.cross_border:
            return "cross-border rail; the payment is domestic"
        if req.merged and not ch.accepts_merged:
            return "does not accept merged payments"
        if ch.lei_required and not req.lei_present:
            return "requires an LEI and the payment has none"
        state = self.snapshot.get(ch.id, FRESH)
        if state.breaker is _OPEN:
            return "circuit breaker open"
        if ch.cap_amount is not None and state.used_amount_today + amount > ch.cap_amount:
            return f"daily amount cap {ch.cap_amount} reached (used {state.used_amount_today})"
        if ch.cap_count is not None and state.used_count_today >= ch.cap_count:
            return f"daily count cap {ch.cap_count} reached"
        if state.position is not None:
            floor = state.protection if state.protection is not None else _ZERO
            if state.position - amount < floor:
                return f"liquidity: position {state.position} - {amount} would fall below {floor}"
        cal = ch.calendar
        if not cal.always_open:
            is_open = cal.open_at(self.now_ts)
            if is_open is None:  # a DST-change day: convert
                closed = cal.closed_reason(self.local(ch))
                if closed is not None:
                    return closed
            elif not is_open:
                return _CLOSED
        latency = ch.latency
        if latency.fixed is not None:
            expected = latency.fixed
        elif latency.period is not None:
            expected = latency.period - self.now_ts % latency.period + latency.settle
        else:
            expected = latency.expected_seconds(self.now_ts, self.local(ch))
        if self.slack is not None and expected > self.slack:
            return f"cannot settle by the deadline (needs {expected:.0f}s, {self.slack:.0f}s left)"
        fee = ch.flat_fees.get(cur)
        if fee is None:
            fee = fee_from_bands(ch.fees.get(cur), amount, cur)
            if fee is None:
                return f"no fee band covers {amount} {cur}"
        return (fee, expected, state)

    def score(self, ch: CompiledChannel, fit: _Fit) -> _Scored:
        result = self.scored.get(ch.id)
        if result is not None:
            return result
        fee, expected, state = fit
        cw = self.cc.weights
        if self.slack is None and ch.penalties:
            latency = ch.penalties.get(self.priority, _ZERO)
        else:
            latency = latency_penalty(
                expected, cw.latency_rates.get(self.priority, 0.0), self.slack
            )
        success = state.success_rate
        if state.breaker is _HALF_OPEN and success > 0.5:
            success = 0.5
        if success >= 1.0:
            risk = _ZERO
        else:
            odds = cw.failure_odds.get(success)
            if odds is None:
                odds = cw.odds(success)
            exposure = cw.failure_cost + self.req.amount * cw.failure_rate
            risk = (odds * exposure).quantize(_RISK_QUANTUM)
        if self.unit:
            total = fee + latency + risk
        else:
            w_fee, w_latency, w_risk = self.weights
            total = w_fee * fee + w_latency * latency + w_risk * risk
        result = (total, ch.order, ch.id, fee, latency, risk, expected)
        self.scored[ch.id] = result
        return result

    def rank(self, names: tuple[str, ...], scored: bool, blocked: dict[str, str]) -> list[_Scored]:
        by_id = self.cc.by_id
        carriers = self.cc.carriers.get(self.req.currency, ())
        checked = self.checked
        out: list[_Scored] = []
        for name in names:
            # Cheap filters first; the reasons are rebuilt by `check` when explaining.
            if name not in carriers or name in blocked:
                continue
            fit = checked.get(name)
            ch = by_id[name]
            if fit is None:
                fit = checked[name] = self._check(ch)
            if isinstance(fit, str):
                continue
            out.append(self.score(ch, fit))
        if scored and len(out) > 1:
            out.sort()
        return out


def _blocked_by_rules(
    cc: CompiledConfig, req: RouteRequest, matched: list[CompiledRule]
) -> dict[str, str]:
    blocked: dict[str, str] = {}
    for rule in matched:
        if rule.kind == "exclusion":
            for name in rule.channels:
                blocked.setdefault(name, f"excluded by rule '{rule.id}'")
    for rule in cc.exclusive_whitelists:
        if rule.channels and not (rule.match.matches(req) and rule.in_whitelist(req)):
            blocked.setdefault(rule.channels[0], f"reserved for the whitelist of rule '{rule.id}'")
    return blocked


def _why_none(ev: _Evaluation, names: tuple[str, ...], blocked: dict[str, str]) -> str:
    parts = []
    for name in names:
        reason = blocked.get(name)
        if reason is None:
            fit = ev.check(ev.cc.by_id[name])
            reason = fit if isinstance(fit, str) else "eligible"
        parts.append(f"{name}: {reason}")
    return "; ".join(parts) if parts else "no channels configured"


def decide(
    request: RouteRequest,
    config: RoutingConfig,
    snapshot: Snapshot,
    now: dt.datetime,
    *,
    explain: bool = True,
) -> Decision:
    """Choose the rail for `request` at `now` (timezone-aware) given the live `snapshot`."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    cc = config.compiled
    ev = _Evaluation(request, cc, snapshot, now)
    matched = cc.matching_rules(request)
    blocked = (
        _blocked_by_rules(cc, request, matched)
        if cc.exclusive_whitelists or any(r.kind == "exclusion" for r in matched)
        else {}
    )

    applied: CompiledRule | None = None
    ranked: list[_Scored] = []
    candidates: tuple[str, ...] = tuple(cc.by_id)
    stop_reason = ""
    for rule in matched:
        if rule.kind == "exclusion" or (
            rule.kind == "whitelist" and not rule.in_whitelist(request)
        ):
            continue
        names = rule.split_order(request.payment_id) if rule.kind == "split" else rule.channels
        ranked = ev.rank(names, rule.scored, blocked)
        if ranked or not rule.fallthrough:
            applied, candidates = rule, names
            if not ranked:
                stop_reason = f"rule '{rule.id}' allows no other rail: "
            break
    else:
        ranked = ev.rank(candidates, True, blocked)

    note = ""
    wanted = request.channel
    if wanted is not None:
        ch = cc.by_id.get(wanted)
        fit: str | _Fit = "unknown channel" if ch is None else blocked.get(wanted) or ev.check(ch)
        if ch is not None and not isinstance(fit, str):
            ranked = [ev.score(ch, fit), *(s for s in ranked if s[2] != wanted)]
            applied, candidates = None, (wanted, *candidates)
        else:
            note = f"straight-through channel {wanted} not eligible: {fit}"

    rule_id = (
        STRAIGHT_THROUGH
        if wanted is not None and not note
        else (applied.id if applied is not None else None)
    )
    verdicts = _explain(ev, ranked, candidates, blocked, rule_id) if explain else []
    if not ranked:
        reason = "no eligible channel: " + stop_reason + _why_none(ev, candidates, blocked)
        if note:
            reason = f"{note}; {reason}"
        return Decision(None, [], None, verdicts, rule_id, reason, None)
    best = ranked[0]
    return Decision(best[2], [s[2] for s in ranked[1:]], best[3], verdicts, rule_id, note, best[6])


def _explain(
    ev: _Evaluation,
    ranked: list[_Scored],
    candidates: tuple[str, ...],
    blocked: dict[str, str],
    rule_id: str | None,
) -> list[ChannelVerdict]:
    chosen = {s[2] for s in ranked}
    allowed = set(candidates)
    verdicts = []
    for ch in ev.cc.channels:
        reason = blocked.get(ch.id)
        if reason is not None:
            verdicts.append(ChannelVerdict(ch.id, False, reason))
            continue
        fit = ev.check(ch)
        if isinstance(fit, str):
            verdicts.append(ChannelVerdict(ch.id, False, fit))
            continue
        total, _, _, fee, latency, risk, expected = ev.score(ch, fit)
        dropped = None
        if ch.id not in chosen:
            dropped = f"not a channel of rule '{rule_id}'" if ch.id not in allowed else "not chosen"
        verdicts.append(ChannelVerdict(ch.id, True, dropped, fee, latency, risk, total, expected))
    return verdicts
