"""Shipping's envelope as the sources describe it (issue 21 item 4; audit S3, S4, S5, S7).

* 3001 (PENDING) is a success: the record comes back, typed, for the caller to
  poll; ``with_raw_response`` shows ``meta_code`` 3001 (the spec's
  ``x-aftership.errors.pending-codes``).
* ``ShipperAccount`` requires only ``id`` (PATCH credentials may answer ``{id}``).
* An HTTP 4xx/5xx is the typed error of its status; a code's class refines it only
  when it is a subclass of the status's class.
* The label request's ``file_type`` enum is ``pdf``/``zpl``; responses keep ``png``.
"""

from __future__ import annotations

from typing import Any

import pytest
from aioresponses import aioresponses

from aftership_async import (
    UNSET,
    AfterShip,
    APIError,
    BadRequestError,
    ConflictError,
    CreateLabelRequest,
    CreateLabelRequestFileType,
    InternalServerError,
    LabelAlreadyExistsError,
    NotFoundError,
    PermissionDeniedError,
    RateRecord,
    RateRecordStatus,
    ShipperAccount,
    ShippingFileType,
    UnprocessableEntityError,
)
from aftership_async._generated.shipping.api import ShippingAPI

S = "https://api.aftership.com/postmen/v3"


def _meta(code: int, message: str = "") -> dict[str, Any]:
    return {"code": code, "message": message or f"code {code}", "details": []}


def test_the_pending_code_is_declared_in_the_spec_not_the_runtime() -> None:
    envelope = ShippingAPI.API.envelope
    assert envelope.pending_codes == frozenset({3001})
    assert 3001 not in envelope.code_errors


async def test_3001_returns_the_record_to_poll(mocked: aioresponses, client: AfterShip) -> None:
    pending = {"id": "rate-1", "status": "calculating", "rates": []}
    mocked.post(f"{S}/rates", payload={"meta": _meta(3001, "PENDING"), "data": pending})
    mocked.post(f"{S}/rates", payload={"meta": _meta(3001, "PENDING"), "data": pending})
    body = {"shipper_accounts": [{"id": "sa"}], "shipment": {}, "async": True}
    record = await client.shipping.calculate_rates(_rates(body))
    assert isinstance(record, RateRecord)
    assert record.id == "rate-1" and record.status == RateRecordStatus.CALCULATING
    raw = await client.shipping.with_raw_response.calculate_rates(_rates(body))
    assert raw.status_code == 200 and raw.meta_code == 3001
    assert raw.parse().id == "rate-1"


def _rates(data: dict[str, Any]) -> Any:
    from aftership_async import CalculateRatesRequest

    return CalculateRatesRequest.from_dict(
        {**data, "shipment": {"ship_from": _ADDRESS, "ship_to": _ADDRESS, "parcels": []}}
    )


_ADDRESS = {"street1": "1 Main St", "country": "USA", "contact_name": "A"}


async def test_other_business_codes_still_raise(mocked: aioresponses, client: AfterShip) -> None:
    mocked.get(f"{S}/rates/r1", payload={"meta": _meta(3002), "data": {}})
    mocked.get(f"{S}/rates/r2", payload={"meta": _meta(4155), "data": {}})
    with pytest.raises(BadRequestError) as info:
        await client.shipping.get_rate_by_id("r1")
    assert info.value.code == 3002
    with pytest.raises(ConflictError):  # a business code's class, under HTTP 200
        await client.shipping.get_rate_by_id("r2")


async def test_a_pending_code_under_an_error_status_is_an_error(
    mocked: aioresponses, client: AfterShip
) -> None:
    mocked.get(f"{S}/rates/r1", status=500, payload={"meta": _meta(3001), "data": {}})
    with pytest.raises(InternalServerError):
        await client.shipping.get_rate_by_id("r1")


async def test_a_shipper_account_may_be_only_its_id(
    mocked: aioresponses, client: AfterShip
) -> None:
    mocked.patch(f"{S}/shipper-accounts/sa1/credentials",
                 payload={"meta": _meta(200, "OK"), "data": {"id": "sa1"}})  # fmt: skip
    account = await client.shipping.update_shipper_account_credentials_by_id(
        "sa1", {"account_number": "x"}
    )
    assert isinstance(account, ShipperAccount)
    assert account.id == "sa1" and account.status is UNSET
    assert ShipperAccount.from_dict({"id": "sa1"}).to_dict() == {"id": "sa1"}


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        (400, 4104, BadRequestError),
        (400, 400, BadRequestError),
        (403, 403, PermissionDeniedError),
        (404, 404, NotFoundError),
        (404, 4153, NotFoundError),
        (409, 4104, ConflictError),
        (422, 4104, UnprocessableEntityError),
        # The code's class refines the status's class only when it is a subclass of it:
        (409, 4801, LabelAlreadyExistsError),  # a ConflictError
        (400, 4801, BadRequestError),  # not a BadRequestError: the status wins (code 4801)
        (400, 4155, BadRequestError),  # 4155 is a ConflictError: the status wins
        (404, 4172, NotFoundError),  # 4172 is a RateLimitError
        (418, 4155, ConflictError),  # no class for 418: the code's
    ],
)
async def test_an_http_error_status_is_the_typed_error_of_its_status(
    mocked: aioresponses, client: AfterShip, status: int, code: int, error: type[APIError]
) -> None:
    mocked.get(f"{S}/labels/l1", status=status, payload={"meta": _meta(code), "data": {}})
    with pytest.raises(APIError) as info:
        await client.shipping.get_label_by_id("l1")
    assert type(info.value) is error
    assert info.value.status_code == status and info.value.code == code


def test_the_label_request_file_type_is_pdf_or_zpl() -> None:
    assert [m.value for m in CreateLabelRequestFileType] == ["pdf", "zpl"]
    assert [m.value for m in ShippingFileType] == ["pdf", "zpl", "png"]  # files keep png
    request = CreateLabelRequest.from_dict(
        {"shipper_account": {"id": "sa"}, "service_type": "ups_ground", "shipment": {
            "ship_from": _ADDRESS, "ship_to": _ADDRESS, "parcels": []}, "file_type": "zpl"}
    )  # fmt: skip
    assert request.file_type == CreateLabelRequestFileType.ZPL
    png = CreateLabelRequestFileType("png")  # open enums keep a value they do not know
    assert not png.is_known
