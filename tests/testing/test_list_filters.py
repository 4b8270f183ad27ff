"""Shipping and Returns list filters, end to end through the client.

Creation times are moved in the fake's store (``fake.state``) to build
records of different ages; everything else goes through the public API.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from aftership_async import AfterShip
from aftership_async.testing import FakeAfterShip

from .helpers import RETURN_REQUEST, SHIPMENT, body

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def _label_request(account: str, references: list[str]) -> Any:
    return body(
        "CreateLabelRequest",
        {
            "shipper_account": {"id": account},
            "service_type": "fedex_ground",
            "shipment": SHIPMENT,
            "references": references,
        },
    )


def _age(record: dict[str, Any], created: dt.datetime) -> None:
    record["created_at"] = created.isoformat()


async def test_labels_created_window_default_bounds_and_offsets(
    aftership_fake: FakeAfterShip, fake_client: AfterShip
) -> None:
    s = fake_client.shipping
    old = await s.create_label(_label_request("acc-1", ["OLD"]))
    recent = await s.create_label(_label_request("acc-1", ["RECENT"]))
    fresh = await s.create_label(_label_request("acc-1", ["FRESH"]))
    labels = aftership_fake.state["label"].items
    _age(labels[old.id], NOW - dt.timedelta(days=3))
    # stored with a +08:00 offset: 10:00 UTC is "18:00+08:00"
    recent_at = (NOW - dt.timedelta(hours=5)).astimezone(dt.timezone(dt.timedelta(hours=8)))
    _age(labels[recent.id], recent_at)

    default = await s.get_labels()
    assert [label.id for label in default.labels] == [fresh.id, recent.id]  # last 24 hours
    assert default.created_at_max is not None and default.created_at_min is not None

    wide = await s.get_labels(created_at_min=NOW - dt.timedelta(days=4))
    assert {label.id for label in wide.labels} == {old.id, recent.id, fresh.id}

    # bounds are inclusive and compared as instants, whatever the offset
    exact = recent_at.astimezone(dt.UTC)
    only_recent = await s.get_labels(created_at_min=exact, created_at_max=exact)
    assert [label.id for label in only_recent.labels] == [recent.id]
    tokyo = exact.astimezone(dt.timezone(dt.timedelta(hours=9))).isoformat()
    before_fresh = await s.get_labels(
        created_at_min=tokyo, created_at_max=NOW - dt.timedelta(hours=1)
    )
    assert [label.id for label in before_fresh.labels] == [recent.id]
    assert before_fresh.created_at_min == tokyo  # echoed back as sent

    inverted = await s.get_labels(created_at_min=NOW, created_at_max=NOW - dt.timedelta(days=1))
    assert inverted.labels == []


async def test_labels_status_account_and_search(fake_client: AfterShip) -> None:
    s = fake_client.shipping
    a = await s.create_label(_label_request("acc-a", ["ORDER-ABC-123"]))
    b = await s.create_label(_label_request("acc-b", ["order-xyz-9"]))
    await s.cancel_label(body("CancelLabelRequest", {"label": {"id": b.id}}))

    by_status = await s.get_labels(status="cancelled")
    assert [label.id for label in by_status.labels] == [b.id]
    by_account = await s.get_labels(shipper_account_id="acc-a")
    assert [label.id for label in by_account.labels] == [a.id]

    assert [label.id for label in (await s.get_labels(s="abc")).labels] == [a.id]
    assert [label.id for label in (await s.get_labels(s="ORDER-")).labels] == [b.id, a.id]
    number = b.tracking_numbers[0]
    assert [label.id for label in (await s.get_labels(s=number[2:8])).labels] == [b.id]
    assert (await s.get_labels(s="nothing-like-it")).labels == []
    combined = await s.get_labels(s="order", status="created", shipper_account_id="acc-a")
    assert [label.id for label in combined.labels] == [a.id]


async def test_cancel_labels_filter_by_the_labels_account(fake_client: AfterShip) -> None:
    s = fake_client.shipping
    a = await s.create_label(_label_request("acc-a", []))
    b = await s.create_label(_label_request("acc-b", []))
    for label in (a, b):
        await s.cancel_label(body("CancelLabelRequest", {"label": {"id": label.id}}))
    page = await s.get_cancel_labels(shipper_account_id="acc-b")
    assert [c.label.id for c in page.cancel_labels] == [b.id]
    assert len((await s.get_cancel_labels(status="cancelled")).cancel_labels) == 2
    assert (await s.get_cancel_labels(status="failed")).cancel_labels == []


async def test_shipper_accounts_by_slug_have_no_time_window(
    aftership_fake: FakeAfterShip, fake_client: AfterShip
) -> None:
    s = fake_client.shipping
    ups = await s.create_shipper_account(
        body("CreateShipperAccountRequest", {"slug": "ups", "credentials": {}})
    )
    await s.create_shipper_account(
        body("CreateShipperAccountRequest", {"slug": "fedex", "credentials": {}})
    )
    accounts = aftership_fake.state["shipper_account"].items
    _age(accounts[ups.id], NOW - dt.timedelta(days=400))  # accounts are listed whatever their age
    page = await s.get_shipper_accounts(slug="ups")
    assert [a.id for a in page.shipper_accounts] == [ups.id]
    assert page.created_at_min is None
    assert len((await s.get_shipper_accounts()).shipper_accounts) == 2


def _return_request(order: str, method: str = "retailer_label") -> Any:
    data = {
        **RETURN_REQUEST,
        "order": {**RETURN_REQUEST["order"], "external_id": order},
        "return_method": {"type": method},
    }
    return body("CreateReturnRequest", data)


async def test_returns_filters(aftership_fake: FakeAfterShip, fake_client: AfterShip) -> None:
    r = fake_client.returns
    first = await r.create_return(_return_request("1001"))
    second = await r.create_return(_return_request("1002", "in_store"))
    third = await r.create_return(_return_request("1003"))
    await r.approve_return_by_id(second.id, body("ApproveReturnRequest", {}))
    aftership_fake.state["return"].items[third.id]["outcomes"] = ["exchange", "refund"]

    async def ids(**filters: Any) -> list[str]:
        page = await r.get_returns(**filters)
        assert page.pagination.total == len(page.returns)
        return [ret.id for ret in page.returns]

    assert await ids() == [third.id, second.id, first.id]
    assert await ids(approval_status="approved") == [second.id]
    assert await ids(return_method="in_store") == [second.id]
    assert await ids(outcome="exchange") == [third.id]
    assert await ids(outcome="refund") == [third.id, second.id, first.id]
    assert await ids(order_name="#1002") == [second.id]
    email = first.order.customer.emails[0]
    assert first.contact_email == email
    assert await ids(customer_email=email.upper()) == [first.id]
    assert await ids(customer_email="someone@else.example") == []
    assert await ids(approval_status="submitted", return_method="retailer_label") == [
        third.id,
        first.id,
    ]


async def test_returns_created_window_is_the_last_365_days(
    aftership_fake: FakeAfterShip, fake_client: AfterShip
) -> None:
    r = fake_client.returns
    ancient = await r.create_return(_return_request("2001"))
    month = await r.create_return(_return_request("2002"))
    today = await r.create_return(_return_request("2003"))
    stored = aftership_fake.state["return"].items
    _age(stored[ancient.id], NOW - dt.timedelta(days=400))
    _age(
        stored[month.id],
        (NOW - dt.timedelta(days=30)).astimezone(dt.timezone(-dt.timedelta(hours=5))),
    )

    async def ids(**filters: Any) -> list[str]:
        return [ret.id for ret in (await r.get_returns(**filters)).returns]

    assert await ids() == [today.id, month.id]  # default: the past 365 days
    # never further back than 365 days, even when asked
    assert await ids(created_at_min=NOW - dt.timedelta(days=500)) == [today.id, month.id]
    assert await ids(created_at_min=NOW - dt.timedelta(days=7)) == [today.id]
    assert await ids(created_at_max=NOW - dt.timedelta(days=7)) == [month.id]
    exact = NOW - dt.timedelta(days=30)
    assert await ids(created_at_min=exact, created_at_max=exact) == [month.id]  # inclusive
    # an old window reaches nothing: empty, not an error
    assert await ids(created_at_max=NOW - dt.timedelta(days=399)) == []


async def test_returns_pagination_counts_filtered_returns(fake_client: AfterShip) -> None:
    r = fake_client.returns
    for n in range(5):
        await r.create_return(_return_request(f"30{n}", "in_store" if n % 2 else "retailer_label"))
    page = await r.get_returns(return_method="retailer_label", limit=2, page=1)
    assert (page.pagination.total, len(page.returns), page.pagination.has_next_page) == (3, 2, True)
    last = await r.get_returns(return_method="retailer_label", limit=2, page=2)
    assert (len(last.returns), last.pagination.has_next_page) == (1, False)
