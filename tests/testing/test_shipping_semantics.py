"""Shipping semantics against the fake, which reads them from the spec (audit S3, S7).

An asynchronous rate calculation is answered at once with meta code 3001 (the
spec's ``pending-codes``) and the record in status ``calculating``; polling it
by id finds it calculated. A label request with ``file_type: png`` is refused:
the request enum is ``pdf``/``zpl``.
"""

from __future__ import annotations

import pytest

from aftership_async import AfterShip, BadRequestError, RateRecordStatus
from aftership_async.testing import FakeAfterShip

from .helpers import ADDRESS, SHIPMENT, body, client_for


async def _account(client: AfterShip) -> str:
    account = await client.shipping.create_shipper_account(
        body(
            "CreateShipperAccountRequest",
            {"slug": "ups", "description": "UPS", "credentials": {"k": "v"}, "address": ADDRESS},
        )
    )
    return account.id


async def test_an_async_rate_calculation_is_pending_then_polled(
    aftership_fake: FakeAfterShip,
) -> None:
    async with client_for(aftership_fake) as client:
        account = await _account(client)
        request = body(
            "CalculateRatesRequest",
            {"shipper_accounts": [{"id": account}], "shipment": SHIPMENT, "async": True},
        )
        raw = await client.shipping.with_raw_response.calculate_rates(request)
        assert raw.status_code == 200 and raw.meta_code == 3001
        pending = raw.parse()
        assert pending.status == RateRecordStatus.CALCULATING and pending.rates == []
        polled = await client.shipping.get_rate_by_id(pending.id)
        assert polled.id == pending.id and polled.status == RateRecordStatus.CALCULATED
        assert polled.rates  # the calculation finished
        again = await client.shipping.with_raw_response.get_rate_by_id(pending.id)
        assert again.meta_code == 200

        synchronous = await client.shipping.with_raw_response.calculate_rates(
            body(
                "CalculateRatesRequest",
                {"shipper_accounts": [{"id": account}], "shipment": SHIPMENT},
            )
        )
        assert synchronous.meta_code == 200
        assert synchronous.parse().status == RateRecordStatus.CALCULATED


@pytest.mark.parametrize(("file_type", "ok"), [("pdf", True), ("zpl", True), ("png", False)])
async def test_the_label_request_takes_pdf_or_zpl(
    aftership_fake: FakeAfterShip, file_type: str, ok: bool
) -> None:
    async with client_for(aftership_fake) as client:
        account = await _account(client)
        request = body(
            "CreateLabelRequest",
            {"shipper_account": {"id": account}, "service_type": "ups_ground",
             "shipment": SHIPMENT, "file_type": file_type},
        )  # fmt: skip
        if ok:
            label = await client.shipping.create_label(request)
            assert label.id
        else:
            with pytest.raises(BadRequestError) as info:
                await client.shipping.create_label(request)
            assert info.value.code == 4104 and "file_type" in str(info.value)
