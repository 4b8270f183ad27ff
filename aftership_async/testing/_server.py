"""``FakeAfterShip``: the aiohttp application serving all three APIs on one port.

One catch-all route does what AfterShip's gateway does, in this order:

1. find the API by path prefix (``/tracking/2026-07``, ``/postmen/v3``,
   ``/returns/2026-07``) and the operation in its spec; a known, released
   other version (``/tracking/2025-01``) is served by the pinned one, as
   AfterShip serves a retired version, and an unknown one is a 404
   (:mod:`._versions`); every answer of an API carries ``as-api-version``,
   the version that served it;
2. check ``as-api-key``, and with ``api_secret`` the request signature
   (401 envelope);
3. unknown path → that API's 404 envelope (405 and ``Allow`` for a known path
   with a method none of its operations takes);
4. draw the fault for this request (always, so faults depend only on the
   order of requests), then count it against the rate limit (429);
5. wait the configured latency;
6. inject the fault, if any;
7. validate parameters and body against the spec, run the handler, wrap
   ``data`` in the API's envelope.

It imports the generated specs but never the client's transport: the fake
must not share the client's bugs.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import random
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from . import _returns, _shipping, _tracking
from ._envelopes import (
    Failure,
    Pending,
    invalid_json,
    method_not_allowed,
    rate_limited,
    render_failure,
    render_success,
    route_not_found,
    server_error,
    unauthorized,
    validation_failed,
)
from ._faults import BAD_GATEWAY_HTML, FAULT_KINDS, FaultPlan
from ._ratelimit import HeaderStyle, RateDecision, RateLimiter, RateLimitSetting
from ._records import sample
from ._resources import build_handlers, move
from ._signature import SignatureCheck, aes_check, rsa_check, signature_problem
from ._spec import ApiSpec, Operation, load_specs
from ._state import Call, FakeStats, Handler, State
from ._validate import check_body, parse_params
from ._versions import VersionRoute, route_version, split_version

__all__ = ["FakeAfterShip"]

logger = logging.getLogger("aftership_async.testing")

_BEHAVIOURS = {
    "tracking": _tracking.BEHAVIOUR,
    "shipping": _shipping.BEHAVIOUR,
    "returns": _returns.BEHAVIOUR,
}


_SAMPLED: dict[tuple[str, str], bytes] = {}


def _sampled_answer(spec: ApiSpec, op: Operation) -> bytes:
    """A success body for ``op`` (what a truncated or malformed fault cuts up), made once."""
    key = (spec.name, op.operation_id)
    if key not in _SAMPLED:
        data = sample(spec, op.data_schema, op.operation_id)
        _SAMPLED[key] = json.dumps(render_success(spec.name, op.status, data)).encode()
    return _SAMPLED[key]


class FakeAfterShip:
    """An in-memory, stateful fake of the AfterShip Tracking, Shipping and Returns APIs.

    Point the real client at it: ``AfterShip(api_key="k", base_url=fake.url)``.
    Use it as ``async with FakeAfterShip() as fake:`` or ``await fake.start()``
    / ``await fake.close()``; ``fake.app`` can also be mounted with aiohttp's
    test utilities.

    Args:
        host, port: where to listen; port 0 picks a free port.
        api_key: None accepts any non-empty ``as-api-key``; a string accepts only it.
        api_secret: when set, every request must be signed with it ("AES" keys:
            ``date`` within 3 minutes and ``as-signature-hmac-sha256``), as
            ``AfterShip(api_key, api_secret=...)`` does; otherwise 401.
        api_public_key: the PEM public key of an "RSA" key: every request must
            carry ``as-signature-rsa-sha256``, as ``AfterShip(api_key,
            api_secret=private_pem, auth="rsa")`` sends (needs ``cryptography``).
        latency: seconds before each answer; a ``(low, high)`` tuple is uniform random.
        rate_limits: None (off, and no rate-limit headers), ``"documented"``
            (Tracking's per-endpoint table, 10/s for Shipping and Returns),
            one rate for every endpoint, or a mapping ``"GET /trackings/{id}"``
            (or ``"tracking GET /couriers"``, or an operationId) -> rate, the
            other endpoints documented.
        fault_rate: probability that a request is answered by a fault.
        faults: the fault kinds to draw from (see :data:`FAULT_KINDS`).
        after_action: the fault kinds that strike after the server acted: the
            operation runs (a label is bought, a tracking updated), then its
            answer is replaced by the fault, so the client cannot tell what
            happened. Default ``("drop",)``; ``FAULT_KINDS`` minus ``"429"``
            makes every fault ambiguous (a 429 always means nothing was done).
        slow_seconds: how long a ``"slow"`` fault stalls.
        seed: makes content, ids and the fault sequence deterministic.
        serve_versions: per API, the version every answer names in ``as-api-version``
            (``{"tracking": "2027-01"}``: as if AfterShip had moved on), to test a
            client's handling of ``AfterShipVersionWarning``; by default the pinned one.
        rate_limit_headers: how an API spells its rate-limit headers, by API name,
            instead of what its spec declares (``x-aftership.rate-limit-headers``):
            ``{"shipping": {"prefix": "RateLimit-", "reset": "unix-milliseconds"}}``
            (prefix ``X-RateLimit-`` or ``RateLimit-``; reset ``unix-seconds``,
            ``unix-milliseconds`` or ``delta-seconds``).

    Every answer carries an ``X-Request-Id`` and an ``as-trace-id``.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        api_key: str | None = None,
        api_secret: str | None = None,
        api_public_key: str | bytes | None = None,
        latency: float | tuple[float, float] = 0.0,
        rate_limits: RateLimitSetting = None,
        fault_rate: float = 0.0,
        faults: Iterable[str] = FAULT_KINDS,
        after_action: Iterable[str] = ("drop",),
        slow_seconds: float = 30.0,
        seed: int = 0,
        serve_versions: Mapping[str, str] | None = None,
        rate_limit_headers: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.api_key = api_key
        self.api_secret = api_secret
        if api_secret is not None and api_public_key is not None:
            raise ValueError("pass api_secret (AES keys) or api_public_key (RSA keys), not both")
        self._signature_check: SignatureCheck | None = (
            aes_check(api_secret)
            if api_secret is not None
            else rsa_check(api_public_key)
            if api_public_key is not None
            else None
        )
        self.latency = latency
        self.slow_seconds = slow_seconds
        self.seed = seed
        self.stats = FakeStats()
        self._state = State(seed, self.stats)
        self._faults = FaultPlan(fault_rate, faults, seed)
        #: Faults scripted by :meth:`inject`: [kind, operationId or None, times left].
        self._scripted: list[list[Any]] = []
        self.after_action = frozenset(after_action)
        if "429" in self.after_action or not self.after_action <= set(FAULT_KINDS):
            raise ValueError(f"after_action takes fault kinds other than '429': {FAULT_KINDS}")
        self._limiter = RateLimiter(rate_limits) if rate_limits is not None else None
        self._latency_random = random.Random(f"{seed}:latency")
        self._specs = load_specs()
        self.serve_versions = dict(serve_versions or {})
        unknown = set(self.serve_versions) - set(self._specs)
        if unknown or not all(isinstance(v, str) and v for v in self.serve_versions.values()):
            raise ValueError(f"serve_versions maps {sorted(self._specs)} to version strings")
        overrides = dict(rate_limit_headers or {})
        unknown = set(overrides) - set(self._specs)
        if unknown:
            raise ValueError(f"rate_limit_headers: unknown APIs {sorted(unknown)}")
        self._header_styles = {
            spec.name: HeaderStyle.from_block(overrides.get(spec.name, spec.rate_limit_headers))
            for spec in self._specs.values()
        }
        self._handlers: dict[str, dict[str, Handler]] = {
            name: build_handlers(spec, _BEHAVIOURS[name]) for name, spec in self._specs.items()
        }
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()
        self._request_counter = 0
        self.app = web.Application(client_max_size=16 * 1024 * 1024)
        # [\s\S], not ".": a path with an encoded newline is still the API's to answer
        self.app.router.add_route("*", "/{tail:[\\s\\S]*}", self._dispatch)
        self.url = ""

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> str:
        """Start listening; returns :attr:`url`."""
        if self._runner is not None:
            return self.url
        self._closing = asyncio.Event()
        runner = web.AppRunner(
            self.app, access_log=None, handle_signals=False, shutdown_timeout=1.0
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runner = runner
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        port = sockets[0].getsockname()[1] if sockets else self.port
        self.port = port
        self.url = f"http://{self.host}:{port}"
        return self.url

    async def close(self) -> None:
        """Stop listening; stalled ("slow") answers are released first."""
        self._closing.set()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> FakeAfterShip:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<FakeAfterShip {self.url or 'not started'}>"

    @property
    def fault_rate(self) -> float:
        """The probability of a fault; settable, e.g. to stop faults half-way through a test."""
        return self._faults.rate

    @fault_rate.setter
    def fault_rate(self, rate: float) -> None:
        self._faults.set_rate(rate)

    def inject(self, kind: str, *, operation: str | None = None, times: int = 1) -> None:
        """Answer the next ``times`` requests (of ``operation``, an operationId) with ``kind``.

        ``fake.inject("500", operation="create_label")``: the next ``create_label``
        gets a 500, whatever ``fault_rate`` says. A kind in ``after_action`` strikes
        after the operation ran, as a drawn one does.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {FAULT_KINDS}")
        if times < 1:
            raise ValueError("times must be at least 1")
        self._scripted.append([kind, operation, times])

    def _scripted_fault(self, op: Operation) -> str | None:
        for entry in self._scripted:
            kind, operation, _ = entry
            if operation is None or operation == op.operation_id:
                entry[2] -= 1
                if entry[2] == 0:
                    self._scripted.remove(entry)
                return str(kind)
        return None

    # ------------------------------------------------------------------ store access

    @property
    def trackings(self) -> dict[str, dict[str, Any]]:
        """The stored trackings by id (live; JSON as the API returns it)."""
        return self._state.trackings.items

    @property
    def state(self) -> State:
        """Every store (labels, returns, ...), for assertions beyond trackings."""
        return self._state

    def _call(self, api: str, operation_id: str, body: Any = None, **params: Any) -> Any:
        """Run one operation's handler directly (no HTTP), as the fake's own tools do."""
        spec = self._specs[api]
        call = Call(spec=spec, op=spec.operation(operation_id), params=params, body=body,
                    state=self._state, now=dt.datetime.now(dt.UTC))  # fmt: skip
        return self._handlers[api][operation_id](call)

    def add_trackings(self, numbers: Sequence[str], slug: str | None = None) -> list[str]:
        """Preload trackings (courier detected unless ``slug``); returns their ids.

        Numbers that already exist are not duplicated: their existing id is returned.
        """
        ids = []
        for number in numbers:
            request = {"tracking_number": number, **({"slug": slug} if slug else {})}
            try:
                ids.append(self._call("tracking", "create_tracking", request)["id"])
            except Failure as failure:
                existing = self._existing_tracking(number, slug)
                if failure.code != 4003 or existing is None:
                    raise ValueError(f"cannot add tracking {number!r}: {failure.message}") from None
                ids.append(existing)
        return ids

    def expire_tracking(self, tracking_id: str) -> dict[str, Any]:
        """Expire an active tracking, as AfterShip does after 30 days without news.

        It then answers as an ``Expired`` tracking (and can be retracked).
        Raises ``KeyError`` for an unknown id, ``ValueError`` if it is not active.
        """
        tracking = self._state.trackings.get(tracking_id)
        if tracking is None:
            raise KeyError(tracking_id)
        spec = self._specs["tracking"]
        call = Call(spec=spec, op=spec.operation("get_tracking_by_id"), params={}, body=None,
                    state=self._state, now=dt.datetime.now(dt.UTC))  # fmt: skip
        try:
            return move(call, "tracking", "expire", tracking)
        except Failure:
            raise ValueError(f"tracking {tracking_id} is not active") from None

    def _existing_tracking(self, number: str, slug: str | None) -> str | None:
        for tracking in self._state.trackings.items.values():
            if tracking["tracking_number"] == number and slug in (None, tracking["slug"]):
                return str(tracking["id"])
        return None

    # ------------------------------------------------------------------ request path

    def _find_api(self, path: str) -> tuple[ApiSpec | None, str, VersionRoute | None]:
        """The API, the path under its prefix, and how the requested version is served."""
        for spec in self._specs.values():
            if path == spec.prefix or path.startswith(spec.prefix + "/"):
                route = VersionRoute(spec.version, spec.version, "pinned")
                return spec, path[len(spec.prefix) :] or "/", route
        today = dt.datetime.now(dt.UTC).date()
        for spec in self._specs.values():
            found = split_version(spec.prefix, path)
            if found is not None:
                requested, rest = found
                return spec, rest, route_version(spec.name, spec.version, requested, today)
        return None, path, None

    def _respond(
        self,
        status: int,
        body: bytes,
        headers: Mapping[str, str],
        content_type: str = "application/json",
    ) -> web.Response:
        self.stats.statuses[status] += 1
        self._request_counter += 1
        all_headers = {
            "X-Request-Id": f"fake-{self.seed}-{self._request_counter}",
            "as-trace-id": f"{self.seed:08x}{self._request_counter:024x}",
            **headers,
        }
        return web.Response(
            status=status,
            body=body,
            headers=all_headers,
            content_type=content_type,
            charset="utf-8" if content_type == "application/json" else None,
        )

    def _json(self, status: int, payload: Any, headers: Mapping[str, str]) -> web.Response:
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        return self._respond(status, body, headers)

    def _fail(self, api: str | None, failure: Failure, headers: Mapping[str, str]) -> web.Response:
        return self._json(failure.status, render_failure(api, failure), headers)

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        raw_path = request.rel_url.raw_path
        spec, rest, route = self._find_api(raw_path)
        if spec is None or route is None:
            return self._fail(None, route_not_found(None), {})
        # The version that serves the request, on every answer of the API (errors too).
        headers = {"as-api-version": self.serve_versions.get(spec.name, spec.version)}
        if route.served is None:  # a version AfterShip never released: no such path
            return self._fail(spec.name, route_not_found(spec.name), headers)
        served = "" if route.served == route.requested else f" -> {route.served}"
        self.stats.versions[f"{spec.name} {route.requested}{served}"] += 1
        key = request.headers.get("as-api-key", "").strip()
        if not key or (self.api_key is not None and key != self.api_key):
            return self._fail(spec.name, unauthorized(spec.name), headers)
        if self._signature_check is not None:
            now = dt.datetime.now(dt.UTC)
            problem = await signature_problem(request, self._signature_check, now)
            if problem is not None:
                return self._fail(spec.name, unauthorized(spec.name, problem), headers)
        segments = [unquote(s) for s in rest.split("/")]
        if any("/" in s for s in segments):
            return self._fail(spec.name, route_not_found(spec.name), headers)
        found = spec.match(request.method, rest)
        if found is None:
            allowed = spec.methods_at(rest)
            if allowed:
                allow = {**headers, "Allow": ", ".join(allowed)}
                return self._fail(spec.name, method_not_allowed(spec.name), allow)
            return self._fail(spec.name, route_not_found(spec.name), headers)
        op, path_params = found
        path_params = {k: unquote(v) for k, v in path_params.items()}
        self.stats.requests[op.operation_id] += 1

        fault = self._faults.draw()  # drawn always: the random stream follows the requests
        fault = self._scripted_fault(op) or fault
        decision: RateDecision | None = None
        if self._limiter is not None:
            decision = self._limiter.hit(key, op)
            headers.update(decision.headers(time.time(), self._header_styles[spec.name]))
            if not decision.allowed:
                self.stats.rate_limited += 1
                return self._fail(spec.name, rate_limited(spec.name), headers)

        await self._sleep(self._latency_seconds())
        if fault is not None:
            self.stats.faults[fault] += 1
            if fault not in self.after_action:
                return await self._fault(fault, request, spec, op, key, headers)

        response = await self._handle(request, spec, op, path_params, headers)
        if fault is not None:  # the server acted, and its answer never arrives
            self.stats.statuses[response.status] -= 1
            self.stats.statuses += Counter()  # drop the zero count
            self.stats.acted_then_faulted[op.operation_id] += 1
            return await self._fault(fault, request, spec, op, key, headers)
        return response

    async def _handle(
        self,
        request: web.Request,
        spec: ApiSpec,
        op: Operation,
        path_params: Mapping[str, str],
        headers: Mapping[str, str],
    ) -> web.Response:
        params, problems = parse_params(spec, op, path_params, request.query)
        body: Any = None
        if op.body_schema is not None:
            raw = await request.read()
            try:
                body = json.loads(raw) if raw.strip() else None
            except (ValueError, UnicodeDecodeError):
                return self._fail(spec.name, invalid_json(spec.name), headers)
            problems += check_body(spec, op, body)
        if problems:
            return self._fail(spec.name, validation_failed(spec.name, problems), headers)
        handler = self._handlers[spec.name][op.operation_id]
        call = Call(
            spec=spec,
            op=op,
            params=params,
            body=body,
            state=self._state,
            now=dt.datetime.now(dt.UTC),
        )
        try:
            data = handler(call)
        except Failure as failure:
            return self._fail(spec.name, failure, headers)
        except Exception:  # a bug in the fake: answer like a server would, and say why
            logger.exception("fake AfterShip handler %s failed", op.operation_id)
            return self._fail(spec.name, server_error(spec.name, 500), headers)
        if isinstance(data, Pending):  # an unfinished record: the spec's pending code
            body = render_success(spec.name, op.status, data.data, code=spec.pending_codes[0])
            return self._json(op.status, body, headers)
        return self._json(op.status, render_success(spec.name, op.status, data), headers)

    # ------------------------------------------------------------------ latency and faults

    def _latency_seconds(self) -> float:
        if isinstance(self.latency, tuple):
            low, high = self.latency
            return self._latency_random.uniform(low, high)
        return float(self.latency)

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but wake up at once when the server is closing."""
        if seconds <= 0:
            return
        if seconds < 1.0:  # latency: short enough that closing can wait for it
            await asyncio.sleep(seconds)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), timeout=seconds)

    def _drop(self, request: web.Request) -> None:
        transport = request.transport
        if transport is not None:
            transport.close()

    async def _fault(
        self,
        fault: str,
        request: web.Request,
        spec: ApiSpec,
        op: Operation,
        key: str,
        headers: dict[str, str],
    ) -> web.Response:
        api = spec.name
        if fault == "429":
            if self._limiter is not None:
                exhausted = self._limiter.exhausted(key, op)
            else:
                exhausted = RateDecision(
                    allowed=False, limit=int(op.rate_limit), remaining=0, reset=int(time.time()) + 1
                )
            headers.update(exhausted.headers(time.time(), self._header_styles[api]))
            return self._fail(api, rate_limited(api), headers)
        if fault in ("500", "503"):
            return self._fail(api, server_error(api, int(fault)), headers)
        if fault == "502_html":  # a proxy's page: no API answered, so no as-api-version
            proxy = {k: v for k, v in headers.items() if k != "as-api-version"}
            return self._respond(502, BAD_GATEWAY_HTML, proxy, content_type="text/html")
        if fault == "drop":
            self._drop(request)
            return web.Response(status=500)  # never reaches the client
        if fault == "slow":
            await self._sleep(self.slow_seconds)
            return self._fail(api, server_error(api, 504), headers)
        success = _sampled_answer(spec, op)
        if fault == "truncated":
            return self._respond(op.status, success[: max(1, len(success) // 2)], headers)
        # malformed: JSON-looking, but not JSON
        return self._respond(op.status, b"{'meta': {'code': 200}, 'data': " + success[:40], headers)
