"""Returns details of the fidelity audit (issue 21 item 7): Create Return's own return-method enum
(R2), which has no ``carrier_dropoff``, unlike the method a return reports."""

from __future__ import annotations

import pytest

from aftership_async import (
    AfterShip,
    CreateReturnRequestReturnMethod,
    CreateReturnRequestReturnMethodType,
    ReturnMethodType,
    UnprocessableEntityError,
)
from aftership_async.testing import FakeAfterShip

from .helpers import RETURN_REQUEST, body


def test_the_request_enum_lacks_carrier_dropoff_and_the_response_enum_has_it() -> None:
    request_values = {m.value for m in CreateReturnRequestReturnMethodType}
    response_values = {m.value for m in ReturnMethodType}
    assert response_values - request_values == {"carrier_dropoff"}
    assert len(request_values) == 7
    # Open enums: the value is kept (not refused by the client), and known to be unknown.
    method = CreateReturnRequestReturnMethod(type="carrier_dropoff")
    assert method.type.is_known is False and method.type == "carrier_dropoff"


async def test_the_fake_refuses_carrier_dropoff_on_create(
    aftership_fake: FakeAfterShip, fake_client: AfterShip
) -> None:
    r = fake_client.returns
    refused = body(
        "CreateReturnRequest", {**RETURN_REQUEST, "return_method": {"type": "carrier_dropoff"}}
    )
    with pytest.raises(UnprocessableEntityError, match="return_method"):
        await r.create_return(refused)
    created = await r.create_return(body("CreateReturnRequest", RETURN_REQUEST))
    assert created.return_method is not None and created.return_method.type == "retailer_label"
    assert aftership_fake.stats.created["return"] == 1
