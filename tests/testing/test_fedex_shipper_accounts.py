"""FedEx-specific shipper accounts (Shipping, beyond the operation list: audit S2), through the
client against the fake: the account is a shipper account like any other, and its credentials
are never echoed back or shown."""

from __future__ import annotations

import datetime as dt

import aiohttp
import pytest

from aftership_async import (
    AfterShip,
    CreateFedexShipperAccountRequest,
    FedexShipperAccountCredentials,
    FedexShipperAccountInvoice,
    FedexShipperAccountSlug,
    NotFoundError,
    UpdateFedexShipperAccountRequest,
)
from aftership_async.testing import FakeAfterShip

from .helpers import ADDRESS, FEDEX, body


async def test_create_then_update_a_fedex_account(
    aftership_fake: FakeAfterShip, fake_client: AfterShip
) -> None:
    s = fake_client.shipping
    request = body("CreateFedexShipperAccountRequest", FEDEX)
    assert isinstance(request, CreateFedexShipperAccountRequest)
    assert request.invoice.date == dt.date(2026, 2, 24)  # a date, sent as YYYY-MM-DD
    assert request.slug is FedexShipperAccountSlug.FEDEX

    created = await s.create_fedex_shipper_account(request)
    assert created.slug == "fedex" and created.description == "My Shipper Account"
    assert created.settings == FEDEX["settings"]
    assert aftership_fake.stats.created["shipper_account"] == 1

    # It is an ordinary shipper account: listed and read back with the generic operations.
    page = await s.get_shipper_accounts(slug="fedex")
    assert [a.id for a in page.shipper_accounts] == [created.id]
    assert (await s.get_shipper_account_by_id(created.id)).timezone == "Asia/Hong_Kong"

    moved = {**ADDRESS, "city": "Ogden", "postal_code": "84401"}
    updated = await s.update_fedex_shipper_account_by_id(
        created.id,
        UpdateFedexShipperAccountRequest(
            invoice=FedexShipperAccountInvoice(
                number="9", currency="USD", date=dt.date(2026, 3, 1), amount=10.5
            ),
            credentials=FedexShipperAccountCredentials(account_number="510087021"),
            address=body("ShippingAddress", moved),
        ),
    )
    assert updated.id == created.id
    assert updated.address is not None and updated.address.city == "Ogden"
    assert updated.settings == FEDEX["settings"]  # not in the update: kept
    again = await s.get_shipper_account_by_id(created.id)
    assert again.address == updated.address
    for account in (created, updated, again):  # credentials are write-only
        assert "510087020" not in account.to_json() and "510087021" not in account.to_json()


async def test_the_account_number_stays_out_of_the_repr() -> None:
    credentials = FedexShipperAccountCredentials(account_number="510087020", hub_id="5531")
    assert "510087020" not in repr(credentials)
    assert "5531" in repr(credentials)
    request = body("CreateFedexShipperAccountRequest", FEDEX)
    assert "510087020" not in repr(request)


async def test_updating_an_unknown_account_is_not_found(fake_client: AfterShip) -> None:
    update = body("UpdateFedexShipperAccountRequest", {"invoice": FEDEX["invoice"]})
    with pytest.raises(NotFoundError):
        await fake_client.shipping.update_fedex_shipper_account_by_id("nope", update)


async def test_the_invoice_is_required() -> None:
    with pytest.raises(TypeError, match="invoice"):
        UpdateFedexShipperAccountRequest()  # type: ignore[call-arg]


async def test_the_fake_refuses_a_body_without_an_invoice(aftership_fake: FakeAfterShip) -> None:
    """The fake validates bodies against the spec, where ``invoice`` is required too."""
    no_invoice = {k: v for k, v in FEDEX.items() if k != "invoice"}
    async with (
        aiohttp.ClientSession(headers={"as-api-key": "k"}) as session,
        session.post(
            aftership_fake.url + "/postmen/v3/couriers/fedex/shipper-accounts", json=no_invoice
        ) as resp,
    ):
        payload = await resp.json()
    assert payload["meta"]["code"] >= 3000, payload  # a Shipping business error
    assert "invoice" in str(payload["meta"])
    assert aftership_fake.stats.created["shipper_account"] == 0
