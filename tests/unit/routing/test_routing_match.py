"""A rule's conditions read the request's fields directly (no property calls)."""

from __future__ import annotations

import itertools

import pytest

from routing.compiled import Match
from routing.rules import When
from tests.unit.routing.routing_demo import MakeRequest


@pytest.mark.parametrize("wanted", [True, False])
def test_cross_border_condition_agrees_with_the_requests_property(
    make_request: MakeRequest, wanted: bool
) -> None:
    match = Match(When(cross_border=wanted))
    for debtor, creditor in itertools.product([None, "DE", "CN"], repeat=2):
        req = make_request("100", debtor_country=debtor, creditor_country=creditor)
        assert match.matches(req) is (req.cross_border == wanted)
