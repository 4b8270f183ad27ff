"""The dedupe stores' contract, the event keys and is_newer, and the options' checks."""

from __future__ import annotations

import datetime as dt
import pickle
from typing import Any

import pytest

from aftership_async import (
    DEFAULT_WEBHOOK_TOLERANCE,
    ConfigurationError,
    InvalidRequestError,
    parse_returns_webhook,
    parse_shipping_webhook,
    parse_webhook,
)
from aftership_async._webhooks import AFTERSHIP_WEBHOOK_RETRY_WINDOW
from aftership_async.webhooks import (
    DEFAULT_DEDUPE_TTL,
    Claim,
    DedupeStore,
    MemoryDedupeStore,
    ReceiverOptions,
    RedisDedupeStore,
    WebhookReceiver,
    event_key,
    is_newer,
)

from ._support import SECRET, Sender, body_of, returns_event, shipping_event, tracking_event

PARSERS = {
    "tracking": parse_webhook,
    "returns": parse_returns_webhook,
    "shipping": parse_shipping_webhook,
}


def parsed(api: str, payload: dict[str, Any]) -> Any:
    body = body_of(payload)
    headers = Sender(None, "", api=api).headers(body)  # type: ignore[arg-type]
    return PARSERS[api](body, headers, SECRET, tolerance=None)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- the memory store -------------------------------------------------------------


def test_the_default_ttl_covers_aftership_s_whole_retry_schedule() -> None:
    # 14 attempts, the n-th retry 2**n x 30 s after the one before: 245,730 s (~68.3 h).
    assert AFTERSHIP_WEBHOOK_RETRY_WINDOW == 245_730
    assert DEFAULT_DEDUPE_TTL >= AFTERSHIP_WEBHOOK_RETRY_WINDOW
    assert DEFAULT_DEDUPE_TTL == DEFAULT_WEBHOOK_TOLERANCE == ReceiverOptions().dedupe_ttl


async def test_a_claim_is_new_then_pending_then_done_until_the_ttl() -> None:
    clock = Clock()
    store = MemoryDedupeStore(clock=clock)
    assert isinstance(store, DedupeStore)
    assert await store.claim("k", "t1", 300) is Claim.NEW
    assert await store.claim("k", "t2", 300) is Claim.PENDING
    await store.complete("k", "t1", DEFAULT_DEDUPE_TTL)
    clock.now += AFTERSHIP_WEBHOOK_RETRY_WINDOW  # the last retry AfterShip makes
    assert await store.claim("k", "t3", 300) is Claim.DONE
    clock.now += DEFAULT_DEDUPE_TTL - AFTERSHIP_WEBHOOK_RETRY_WINDOW
    assert await store.claim("k", "t4", 300) is Claim.NEW


async def test_a_released_or_expired_claim_can_be_taken_again() -> None:
    clock = Clock()
    store = MemoryDedupeStore(clock=clock)
    assert await store.claim("k", "t1", 300) is Claim.NEW
    await store.release("k", "t1")
    assert await store.claim("k", "t2", 300) is Claim.NEW
    clock.now += 301  # t2's worker died: its lease ran out
    assert await store.claim("k", "t3", 300) is Claim.NEW
    await store.release("k", "t2")  # t2 comes back late: t3's claim stays
    assert await store.claim("k", "t4", 300) is Claim.PENDING


async def test_the_memory_store_is_bounded_and_forgets_the_oldest_first() -> None:
    store = MemoryDedupeStore(max_entries=3, clock=Clock())
    for key in "abcd":
        assert await store.claim(key, "t", 300) is Claim.NEW
        await store.complete(key, "t", 3600)
    assert len(store) == 3
    assert await store.claim("a", "t", 300) is Claim.NEW  # forgotten
    assert await store.claim("d", "t", 300) is Claim.DONE
    with pytest.raises(ConfigurationError):
        MemoryDedupeStore(max_entries=0)


# -- event keys and order ---------------------------------------------------------


def test_event_keys_come_from_each_api_s_id_fields() -> None:
    t = tracking_event(event_id="3f645f5e-530b-4062-8695-db6a64420af8")
    assert event_key(parsed("tracking", t)) == event_key(
        parsed("tracking", dict(t, ts=t["ts"] + 1))
    )
    assert event_key(parsed("tracking", t)) != event_key(
        parsed("tracking", dict(t, event_id="00000000-0000-4000-8000-000000000000"))
    )
    r = returns_event(event_id="6f2b6a0c9e5a4a3cb8f4a1d2e3f40516")
    assert event_key(parsed("returns", r)) == event_key(
        parsed("returns", dict(r, event="return.resolved"))
    )
    # Shipping has no id: the request, the resource and its status.
    s = shipping_event(label_id="lbl-9", status="created")
    assert event_key(parsed("shipping", s)) == event_key(
        parsed("shipping", shipping_event(label_id="lbl-9"))
    )
    assert event_key(parsed("shipping", s)) != event_key(
        parsed("shipping", shipping_event(label_id="lbl-9", status="cancelled"))
    )
    keys = {
        event_key(parsed(api, p)) for api, p in (("tracking", t), ("returns", r), ("shipping", s))
    }
    assert len(keys) == 3 and all(k and k.split(":")[0] in PARSERS for k in keys)
    unidentified = {"meta": {"code": 200}}
    assert event_key(parsed("shipping", unidentified)) is None
    with pytest.raises(InvalidRequestError, match="not a webhook event"):
        event_key(object())


def test_is_newer_orders_tracking_events_by_updated_at_then_ts() -> None:
    old = parsed("tracking", tracking_event(updated=1_700_000_000))
    new = parsed("tracking", tracking_event(updated=1_700_000_060))
    assert is_newer(new, old) and not is_newer(old, new)
    assert is_newer(old, None)
    assert not is_newer(old, old)  # the same moment: keep what is stored
    # The same updated_at: the event's ts decides.
    same = tracking_event(updated=1_700_000_000)
    later_ts = parsed("tracking", dict(same, ts=same["ts"] + 5))
    assert is_newer(later_ts, parsed("tracking", same))
    # Without updated_at in one of them: ts alone.
    bare = tracking_event(updated=1_700_000_120)
    del bare["msg"]["updated_at"]
    assert is_newer(parsed("tracking", bare), new)


def test_is_newer_for_returns_and_shipping() -> None:
    r_old = parsed("returns", returns_event(created=1_700_000_000))
    r_new = parsed("returns", returns_event(created=1_700_000_001))
    assert is_newer(r_new, r_old) and not is_newer(r_old, r_new)
    s_old = parsed("shipping", shipping_event(updated=1_700_000_000))
    s_new = parsed("shipping", shipping_event(status="cancelled", updated=1_700_000_300))
    assert is_newer(s_new, s_old) and not is_newer(s_old, s_new)
    undated = parsed("shipping", {"meta": {"code": 200}, "data": {"id": "lbl-1"}})
    assert is_newer(undated, s_old)  # nothing to compare: nothing says it is older
    with pytest.raises(InvalidRequestError, match="cannot order"):
        is_newer(r_new, s_new)


def test_is_newer_reads_naive_and_offset_times_alike() -> None:
    naive = shipping_event()
    naive["data"]["updated_at"] = "2026-01-01T10:00:00"
    offset = shipping_event()
    offset["data"]["updated_at"] = "2026-01-01T12:00:01+02:00"  # 10:00:01 UTC
    assert is_newer(parsed("shipping", offset), parsed("shipping", naive))
    assert dt.datetime.fromisoformat("2026-01-01T12:00:01+02:00").tzinfo is not None


# -- options and construction -----------------------------------------------------


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"dedupe_ttl": 3600}, "dedupe_ttl .* must be at least the tolerance"),
        ({"dedupe_ttl": 0}, "dedupe_ttl must be a positive"),
        ({"lease": -1}, "lease must be a positive"),
        ({"max_body": 0}, "max_body must be a positive"),
        ({"tolerance": -5}, "tolerance must be"),
        ({"store": object()}, "store must be a DedupeStore"),
    ],
)
def test_bad_options_are_refused_when_built(options: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        ReceiverOptions(**options)


def test_a_short_ttl_is_allowed_with_a_matching_tolerance() -> None:
    assert ReceiverOptions(dedupe_ttl=3600, tolerance=3600).dedupe_ttl == 3600
    assert ReceiverOptions(dedupe_ttl=60, tolerance=None).tolerance is None


@pytest.mark.parametrize("secret", ["", None, b"bytes"])
def test_a_receiver_without_a_secret_fails_at_start_up(secret: Any) -> None:
    with pytest.raises(ConfigurationError, match="webhook secret"):
        WebhookReceiver(secret=secret, on_event=print)


def test_a_receiver_checks_api_and_on_event() -> None:
    with pytest.raises(InvalidRequestError, match="api must be one of"):
        WebhookReceiver(secret=SECRET, on_event=print, api="postmen")
    with pytest.raises(ConfigurationError, match="on_event must be a callable"):
        WebhookReceiver(secret=SECRET, on_event="print")
    with pytest.raises(ConfigurationError, match="options must be a ReceiverOptions"):
        WebhookReceiver(secret=SECRET, on_event=print, options={"lease": 1})  # type: ignore[arg-type]


def test_a_receiver_keeps_its_secret_to_itself() -> None:
    rx = WebhookReceiver(secret=SECRET, on_event=print, api="returns")
    assert SECRET not in repr(rx) and "returns" in repr(rx)
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(rx)


def test_the_redis_store_never_shows_its_url_password() -> None:
    store = RedisDedupeStore.from_url("redis://:hunter2-pw@127.0.0.1:1/0", namespace="acme")
    assert "hunter2" not in repr(store) and "acme" in repr(store)
    with pytest.raises(ConfigurationError, match="redis://"):
        RedisDedupeStore.from_url("http://127.0.0.1:6379", namespace="acme")
    with pytest.raises(ConfigurationError, match="namespace"):
        RedisDedupeStore.from_url("redis://127.0.0.1:1/0", namespace="a b")
