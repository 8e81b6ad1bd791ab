from __future__ import annotations

import pytest

from paygate.domain import PaymentOrder


@pytest.fixture
def order() -> PaymentOrder:
    # Imported here: the test module's directory is on sys.path only once it is collected.
    from tests.unit.messages.msg_factories import make_order

    return make_order()
