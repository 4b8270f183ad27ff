"""``client.request(method, path, api=...)``: an endpoint the spec does not know yet.

The call goes through the transport's one request path, like a generated
method: auth, signing, the rate limiter, retries, the envelope (errors raise
the same typed exceptions) and the version watch. What it cannot have is a
model: it returns the envelope's ``data`` as plain JSON.

Retries follow the HTTP method, the spec having nothing to say: GET, PUT and
DELETE are idempotent; POST and PATCH are ``unsafe`` (resent only when the
request provably never arrived) unless ``RequestOptions(retry_unsafe=True)``.
A path that matches one of the API's rate-limited endpoint templates
(``/trackings/abc`` is ``GET /trackings/{id}``) draws from that endpoint's
budget; any other path has its own, at the API's default rate.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote

from ._errors import InvalidRequestError
from ._operation import Operation, RetrySafety
from ._response import RAW_RESPONSE, APIResponse, raw_response
from ._transport import ApiDescription, RequestOptions, Transport

__all__ = ["RawResponseClient", "request"]

#: The retry rule of each method the escape hatch sends.
METHOD_SAFETY: Mapping[str, RetrySafety] = {
    "GET": "idempotent",
    "PUT": "idempotent",
    "DELETE": "idempotent",
    "POST": "unsafe",
    "PATCH": "unsafe",
}

_CHECK = (
    "it was sent with client.request(): look the resource up before sending it again, "
    "or pass RequestOptions(retry_unsafe=True) if a repeat is harmless"
)

# What may stand in a path as given: RFC 3986 pchar, "/" and percent escapes.
_PATH_CHARS = "/%:@-._~!$&'()*+,;="


def _check_path(path: object) -> str:
    if not isinstance(path, str):
        raise InvalidRequestError(f"path must be a string, got {type(path).__name__}")
    if not path.startswith("/") or path.startswith("//"):
        raise InvalidRequestError(
            f"path must start with one '/' and be relative to the API's base URL "
            f"(e.g. '/trackings'), got {path!r}"
        )
    if "?" in path or "#" in path:
        raise InvalidRequestError("path must not carry a query or fragment: pass query=...")
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in path):
        raise InvalidRequestError("path must not contain spaces or control characters")
    if any(segment in (".", "..") for segment in path.split("/")):
        raise InvalidRequestError("path must not contain '.' or '..' segments")
    if "{" in path or "}" in path:
        raise InvalidRequestError("path must be a concrete path, not a template: fill in {...}")
    return quote(path, safe=_PATH_CHARS)


def _operation(api: ApiDescription, method: str, path: str) -> tuple[Operation, dict[str, str]]:
    """The ad hoc operation of ``method path``, and its path parameters.

    A path matching one of the API's endpoint templates takes that template
    (so the call shares its budget); otherwise the path is its own endpoint.
    """
    safety = METHOD_SAFETY[method]
    segments = path.split("/")
    for endpoint in api.rate_limits:
        known_method, _, template = endpoint.partition(" ")
        parts = template.split("/")
        if known_method != method or len(parts) != len(segments):
            continue
        params: dict[str, str] = {}
        for part, segment in zip(parts, segments, strict=True):
            if part.startswith("{") and part.endswith("}") and segment:
                params[part[1:-1]] = unquote(segment)
            elif part != segment:
                break
        else:
            return Operation("request", method, template, safety, check=_CHECK), params
    return Operation("request", method, path, safety, check=_CHECK), {}


async def request(
    transport: Transport,
    apis: Mapping[str, ApiDescription],
    method: str,
    path: str,
    *,
    api: str,
    query: Mapping[str, object] | None = None,
    json: Any = None,
    options: RequestOptions | None = None,
) -> Any:
    """Send ``method path`` to ``api``; the envelope's ``data`` (an APIResponse when raw)."""
    transport.check_open()
    if not isinstance(method, str) or method.upper() not in METHOD_SAFETY:
        raise InvalidRequestError(f"method must be one of {', '.join(METHOD_SAFETY)}")
    description = apis.get(api) if isinstance(api, str) else None
    if description is None:
        raise InvalidRequestError(f"api must be one of {', '.join(sorted(apis))}, got {api!r}")
    if query is not None and not isinstance(query, Mapping):
        raise InvalidRequestError("query must be a mapping of parameter names to values")
    if options is not None and not isinstance(options, RequestOptions):
        raise InvalidRequestError("options must be a RequestOptions")
    operation, path_params = _operation(description, method.upper(), _check_path(path))
    data, response = await transport.request(
        description,
        operation,
        path_params=path_params,
        query=query,
        json_body=json,
        options=options,
    )
    if RAW_RESPONSE.get():
        return APIResponse(
            status_code=response.status,
            headers=response.headers,
            content=response.body,
            parse=lambda: data,
        )
    return data


class RawResponseClient:
    """``client.with_raw_response``: :meth:`request` answering an :class:`APIResponse`."""

    def __init__(self, send: Any) -> None:
        self.request = raw_response(send)
