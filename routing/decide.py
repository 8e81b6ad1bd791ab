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
from routing.eligibility import shape_reason
from routing.request import RouteRequest
from routing.scaled import EXACT_LIMIT, Inexact
from routing.snapshot import FRESH, BreakerState, ChannelState, Snapshot

STRAIGHT_THROUGH = "straight-through"
_ZERO = Decimal(0)
_RISK_QUANTUM = Decimal("0.0001")
_ONE = Decimal(1)
_OPEN = BreakerState.OPEN
_HALF_OPEN = BreakerState.HALF_OPEN
# A rail that passed every hard constraint: fee, expected seconds to settle, its state.
_Fit = tuple[Decimal, float, ChannelState]
# A scored rail: score, config order (tie-break), id, fee, latency, risk, expected seconds.
# The score is an int when ranking without explanations (see routing.scaled), None when
# a rule that does not sort found it (see `rank_units`).
_Scored = tuple[Decimal | int | None, int, str, Decimal, Decimal, Decimal, float]
# What `_Evaluation.check` gives for a rail that passed: its `_Fit`, or its score when
# ranking with integers (see `_Evaluation.fits`).
_Passed = _Fit | _Scored


class _Evaluation:
    """Per-decision memo: each rail is checked and scored at most once."""

    __slots__ = (
        "cc",
        "checked",
        "exposure",
        "fits",
        "ints",
        "locals",
        "now",
        "now_ts",
        "priority",
        "req",
        "scored",
        "shape",
        "slack",
        "snapshot",
        "unit",
        "units",
        "weights",
        "why",
    )

    def __init__(
        self,
        req: RouteRequest,
        cc: CompiledConfig,
        snapshot: Snapshot,
        now: dt.datetime,
        explain: bool,
        ints: bool,
    ) -> None:
        self.req = req
        # When explaining, every rail's reason is shown: build it on the first check.
        self.why = explain
        self.cc = cc
        self.snapshot = snapshot.channels
        self.now = now
        # Converting `now` costs as much as checking a rail: done only if a rail's hours or
        # settlement cycle need it.
        self.now_ts: float | None = None
        self.shape = cc.shapes.of(req)
        deadline = req.deadline
        self.slack = None if deadline is None else (deadline - now).total_seconds()
        # Made on first use: most decisions convert no time and explain no failure.
        self.locals: dict[str, dt.datetime] | None = None
        self.checked: dict[str, str | _Fit] | None = None
        # None for a rail that cannot take the payment. Ranking with integers keeps a rail's
        # score there instead of its `_Fit` (of which it needs nothing more), so a fit costs
        # one tuple and one store.
        self.fits: dict[str, _Fit | _Scored | None] = {}
        self.scored: dict[str, _Scored] = {}
        self.exposure: Decimal | None = None
        self.priority = req.priority
        # Without explanations only the order of the scores matters: rank by exact integers.
        self.ints = ints
        w = cc.weights
        self.weights, self.units, self.unit = w.choices.get(req.product, w.default_choice)

    def timestamp(self) -> float:
        now_ts = self.now_ts
        if now_ts is None:
            now_ts = self.now_ts = self.now.timestamp()
        return now_ts

    def local(self, ch: CompiledChannel) -> dt.datetime:
        cal = ch.calendar
        if self.locals is None:
            self.locals = {}
        local = self.locals.get(cal.zone)
        if local is None:
            local = self.now.astimezone(cal.tz)
            self.locals[cal.zone] = local
        return local

    def check(self, ch: CompiledChannel) -> str | _Passed:
        """`ch`'s fit, or why it cannot take the payment."""
        fit = self.fits.get(ch.id)
        if fit is not None:
            return fit
        if self.checked is None:
            self.checked = {}
        result = self.checked.get(ch.id)
        if result is None:
            result = self._check(ch, True, False)
            assert result is not None
            self.checked[ch.id] = result
        return result

    def _check(self, ch: CompiledChannel, why: bool, suits: bool) -> str | _Fit | None:
        """The hard constraints, in the order their reasons are reported. With `why` false
        a failure returns None: ranking drops most rails on their limits or hours and needs
        no message for that. With `suits` the rail is known to suit the payment's shape
        (currency, countries, merged, LEI), so those checks are skipped."""
        req = self.req
        cur = req.currency
        if not suits and cur not in ch.currencies:
            return f"does not carry {cur}"
        amount = req.amount
        bounds = ch.limits.get(cur)
        if bounds is not None:
            low, high = bounds
            if amount < low:
                return f"amount {amount} {cur} below its minimum {low}" if why else None
            if high is not None and amount > high:
                return f"amount {amount} {cur} above its maximum {high}" if why else None
        if not suits:
            reason = shape_reason(
                ch, req.debtor_country, req.creditor_country, req.merged, req.lei_present
            )
            if reason is not None:
                return reason
        state = self.snapshot.get(ch.id, FRESH)
        if state.breaker is _OPEN:
            return "circuit breaker open" if why else None
        if ch.cap_amount is not None and state.used_amount_today + amount > ch.cap_amount:
            if not why:
                return None
            return f"daily amount cap {ch.cap_amount} reached (used {state.used_amount_today})"
        if ch.cap_count is not None and state.used_count_today >= ch.cap_count:
            return f"daily count cap {ch.cap_count} reached" if why else None
        if state.position is not None:
            floor = state.protection if state.protection is not None else _ZERO
            if state.position - amount < floor:
                if not why:
                    return None
                return f"liquidity: position {state.position} - {amount} would fall below {floor}"
        cal = ch.calendar
        if not cal.always_open:
            is_open = cal.open_at(self.timestamp())
            if is_open is None:  # a DST-change day: convert
                closed = cal.closed_reason(self.local(ch))
                if closed is not None:
                    return closed if why else None
            elif not is_open:
                return (cal.closed_reason(self.local(ch)) or "closed") if why else None
        latency = ch.latency
        if latency.fixed is not None:
            expected = latency.fixed
        elif latency.period is not None:
            now_ts = self.timestamp()
            expected = latency.period - now_ts % latency.period + latency.settle
        else:
            expected = latency.expected_seconds(self.timestamp(), self.local(ch))
        if self.slack is not None and expected > self.slack:
            if not why:
                return None
            return f"cannot settle by the deadline (needs {expected:.0f}s, {self.slack:.0f}s left)"
        fee = ch.flat_fees.get(cur)
        if fee is None:
            fee = fee_from_bands(ch.fees.get(cur), amount, cur)
            if fee is None:
                return f"no fee band covers {amount} {cur}" if why else None
        return (fee, expected, state)

    def score(self, ch: CompiledChannel, fit: _Passed) -> _Scored:
        result = self.scored.get(ch.id)
        return self._score(ch, fit) if result is None else result

    def _score(self, ch: CompiledChannel, fit: _Passed) -> _Scored:
        if self.ints:  # `fit` passed `_check`, so `rank_units` finds it fits too
            return self.rank_units((ch.id,), False, {})[0]
        assert len(fit) == 3  # a `_Fit`: only integer ranking keeps scores in `fits`
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
            exposure = self.exposure
            if exposure is None:  # the same for every rail of this payment
                exposure = self.exposure = cw.failure_cost + self.req.amount * cw.failure_rate
            risk = (odds * exposure).quantize(_RISK_QUANTUM)
        if self.unit:
            # Adding a zero risk changes neither the value nor the exponent of the sum.
            total = fee + latency if risk is _ZERO else fee + latency + risk
        else:
            w_fee, w_latency, w_risk = self.weights
            total = w_fee * fee + w_latency * latency + w_risk * risk
        result = (total, ch.order, ch.id, fee, latency, risk, expected)
        self.scored[ch.id] = result
        return result

    def rank_units(
        self, names: tuple[str, ...], scored: bool, blocked: dict[str, str]
    ) -> list[_Scored]:
        """`rank` without explanations, the loop every decision runs over its candidate
        rails. `_check` and `_score` are inlined: the shape is known to suit and no reason
        is needed, so each constraint is a plain test (they must stay those of `_check`)
        on a rail's row of terms (see `CompiledChannel.row`),
        and the score is an integer in units of 0.0001 times the weights' scale (see
        routing.scaled): the same order and ties. The penalties are left out; only
        explanations show them.

        A rule that does not sort (`scored` false) keeps its listed order, so its rails get
        no score: their total is None until a sorting rule meets them. (This also means a
        score too large to rank, which made the Decimal fallback raise on absurd amounts or
        weights, is never computed for such a rule: it now returns a decision instead.)"""
        fits = self.fits
        amount = self.req.amount
        states = self.snapshot
        now_ts = self.now_ts
        slack = self.slack
        priority = self.priority
        cw = self.cc.weights
        unit = self.unit
        out: list[_Scored] = []
        for (
            ch,
            name,
            order,
            low,
            high,
            fee,
            cost,
            table,
            cap_amount,
            cap_count,
            cal,
            latency,
            penalty_units,
        ) in self.shape.rows(names):
            if blocked and name in blocked:
                continue
            if name in fits:  # seen under an earlier rule
                result = fits[name]
                if result is None:
                    continue
                assert len(result) == 7  # a `_Scored`, see `fits`
                if not scored or result[0] is not None:
                    out.append(result)
                    continue
                # else it fitted under a rule that does not sort: check it again, and score
            fits[name] = None
            if low is not None and amount < low:
                continue
            if high is not None and amount > high:
                continue
            state = states.get(name, FRESH)
            if state.breaker is _OPEN:
                continue
            if cap_amount is not None and state.used_amount_today + amount > cap_amount:
                continue
            if cap_count is not None and state.used_count_today >= cap_count:
                continue
            if state.position is not None:
                floor = state.protection if state.protection is not None else _ZERO
                if state.position - amount < floor:
                    continue
            if cal is not None:
                if now_ts is None:
                    now_ts = self.now_ts = self.now.timestamp()  # `timestamp` inlined
                # `cal.open_at` inlined for a time within the day it looked up last.
                day = cal.day
                if day is not None and day[0] <= now_ts < day[1] and day[2] is not None:
                    for start, end in day[2]:
                        if start <= now_ts < end:
                            break
                    else:
                        continue
                else:
                    is_open = cal.open_at(now_ts)
                    if is_open is None:  # a DST-change day: convert
                        if cal.closed_reason(self.local(ch)) is not None:
                            continue
                    elif not is_open:
                        continue
            if latency.fixed is not None:
                expected = latency.fixed
            else:
                if now_ts is None:
                    now_ts = self.now_ts = self.now.timestamp()  # `timestamp` inlined
                if latency.period is not None:
                    expected = latency.period - now_ts % latency.period + latency.settle
                else:
                    expected = latency.expected_seconds(now_ts, self.local(ch))
            if slack is not None and expected > slack:
                continue
            if fee is None or cost is None:
                found = None if table is None else table.fee(amount)
                if found is None:
                    continue
                fee, cost = found
            if not scored:
                result = fits[name] = (None, order, name, fee, _ZERO, _ZERO, expected)
                out.append(result)
                continue
            if slack is None and penalty_units:
                delay = penalty_units.get(priority, 0)
            else:  # `compiled.latency_penalty` in units of 0.0001: the same float steps
                cost_of_wait = expected / 3600 * cw.latency_rates.get(priority, 0.0)
                if slack:
                    cost_of_wait *= 1 + expected / slack
                delay = round(cost_of_wait * 10_000)
            success = state.success_rate
            if state.breaker is _HALF_OPEN and success > 0.5:
                success = 0.5
            if success >= 1.0:
                risk = 0
            else:
                odds = cw.odds_units.get(success)
                if odds is None:
                    odds = cw.odds_in_units(success)
                exposure = self.exposure
                if exposure is None:  # the same for every rail of this payment
                    exposure = self.exposure = cw.failure_cost + amount * cw.failure_rate
                # `odds` is in units of 0.0001 (an integral Decimal), so this is the
                # Decimal risk's digits, rounded at the same place.
                risk = int((odds * exposure).quantize(_ONE))
            if unit:
                total = cost + delay + risk
            else:
                w_fee, w_delay, w_risk = self.units
                total = w_fee * cost + w_delay * delay + w_risk * risk
            if total >= EXACT_LIMIT:
                raise Inexact(total)
            result = fits[name] = (total, order, name, fee, _ZERO, _ZERO, expected)
            out.append(result)
        if scored and len(out) > 1:
            out.sort()
        return out

    def rank(self, names: tuple[str, ...], scored: bool, blocked: dict[str, str]) -> list[_Scored]:
        """The rails of `names` that can take the payment, scored; sorted if `scored`."""
        fits = self.fits
        why = self.why
        out: list[_Scored] = []
        for ch in self.shape.rails(names):
            name = ch.id
            if blocked and name in blocked:
                continue
            if name in fits:  # seen under an earlier rule; a fit there was scored there
                if fits[name] is not None:
                    out.append(self.scored[name])
                continue
            fit = self._check(ch, why, True)
            if isinstance(fit, str):
                if self.checked is None:
                    self.checked = {}
                self.checked[name] = fit
                fit = None
            fits[name] = fit
            if fit is not None:
                out.append(self._score(ch, fit))
        if scored and len(out) > 1:
            out.sort()
        return out


def _blocked_by_rules(
    cc: CompiledConfig, req: RouteRequest, matched: tuple[CompiledRule, ...]
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
    if explain:
        return _decide(request, cc, snapshot, now, explain, False)
    try:
        return _decide(request, cc, snapshot, now, explain, True)
    except Inexact:  # a score past 27 digits: rank it as Decimals do, rounding and all
        return _decide(request, cc, snapshot, now, explain, False)


def _decide(
    request: RouteRequest,
    cc: CompiledConfig,
    snapshot: Snapshot,
    now: dt.datetime,
    explain: bool,
    ints: bool,
) -> Decision:
    ev = _Evaluation(request, cc, snapshot, now, explain, ints)
    rules, may_exclude = cc.rule_candidates(request)
    blocked: dict[str, str] = {}
    # Whether a candidate's conditions are still to be tested in the loop below: only
    # exclusions need every matching rule up front; otherwise the rules after the one that
    # applies are never tested.
    untested = not (cc.exclusive_whitelists or may_exclude)
    if not untested:
        rules = tuple(rule for rule in rules if rule.trivial or rule.match.matches(request))
        blocked = _blocked_by_rules(cc, request, rules)
    rank = ev.rank_units if ints else ev.rank

    applied: CompiledRule | None = None
    ranked: list[_Scored] = []
    candidates: tuple[str, ...] = cc.ids
    stop_reason = ""
    for rule in rules:
        if untested and not (rule.trivial or rule.match.matches(request)):
            continue
        if rule.kind == "exclusion" or (
            rule.kind == "whitelist" and not rule.in_whitelist(request)
        ):
            continue
        names = rule.split_order(request.payment_id) if rule.kind == "split" else rule.channels
        ranked = rank(names, rule.scored, blocked)
        if ranked or not rule.fallthrough:
            applied, candidates = rule, names
            if not ranked:
                stop_reason = f"rule '{rule.id}' allows no other rail: "
            break
    else:
        ranked = rank(candidates, True, blocked)

    note = ""
    wanted = request.channel
    if wanted is not None:
        ch = cc.by_id.get(wanted)
        fit: str | _Passed = (
            "unknown channel" if ch is None else blocked.get(wanted) or ev.check(ch)
        )
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
    fallbacks = [s[2] for s in ranked[1:]] if len(ranked) > 1 else []
    return Decision(best[2], fallbacks, best[3], verdicts, rule_id, note, best[6])


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
        assert isinstance(total, Decimal)  # explanations are scored with Decimals
        dropped = None
        if ch.id not in chosen:
            dropped = f"not a channel of rule '{rule_id}'" if ch.id not in allowed else "not chosen"
        verdicts.append(ChannelVerdict(ch.id, True, dropped, fee, latency, risk, total, expected))
    return verdicts
