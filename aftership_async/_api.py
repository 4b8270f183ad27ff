"""The base class of the generated API groups (``client.tracking`` and friends).

A generated method is declarative: it names its operation (a generated
:class:`~aftership_async._operation.Operation`: method, path template, retry
safety), its parameters, the body and the return type, and calls
:meth:`APIGroup._call`. Everything two methods would share lives here or in
the transport, never in a template.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar, cast

import cattrs

from ._errors import InvalidRequestError, InvalidResponseError
from ._operation import Operation
from ._response import RAW_RESPONSE, APIResponse
from ._transport import ApiDescription, RequestOptions, Transport

__all__ = ["APIGroup", "structure_response"]

T = TypeVar("T")


class APIGroup:
    """One API's operations, bound to a transport."""

    API: ClassVar[ApiDescription]
    CONVERTER: ClassVar[cattrs.Converter]

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.API.name} {self.API.version}>"

    async def _call(
        self,
        operation: Operation,
        *,
        response_type: type[T],
        path_params: Mapping[str, object] | None = None,
        query: Mapping[str, object] | None = None,
        body: object = None,
        body_type: type | None = None,
        options: RequestOptions | None = None,
    ) -> T:
        json_body: Any = None
        if body_type is not None:
            if not isinstance(body, body_type):
                raise InvalidRequestError(
                    f"{operation.name} ({operation.endpoint}) expects a "
                    f"{body_type.__name__} body, got {type(body).__name__}"
                )
            json_body = self.CONVERTER.unstructure(body)
        if options is not None and not isinstance(options, RequestOptions):
            raise InvalidRequestError("options must be a RequestOptions")
        data, response = await self._transport.request(
            self.API,
            operation,
            path_params=path_params,
            query=query,
            json_body=json_body,
            options=options,
        )
        if RAW_RESPONSE.get():  # called through ``with_raw_response``
            converter = self.CONVERTER
            context = f"{operation.endpoint} ({self.API.name})"
            raw: Any = APIResponse(
                status_code=response.status,
                headers=response.headers,
                content=response.body,
                parse=lambda: structure_response(converter, data, response_type, context=context),
            )
            return cast(T, raw)
        # structure_response inline: the context string is only built for an error.
        try:
            return self.CONVERTER.structure(data, response_type)
        except Exception as exc:  # cattrs, enum and date parsing raise many kinds
            raise _mismatch(f"{operation.endpoint} ({self.API.name})", response_type, exc) from exc


def structure_response(
    converter: cattrs.Converter, data: Any, response_type: type[T], *, context: str
) -> T:
    """Decode JSON ``data`` into ``response_type``, or raise :class:`InvalidResponseError`.

    The one boundary between untrusted JSON and the models: whatever the
    converter raises on a wrong shape (missing or mistyped fields, bad dates)
    becomes an ``InvalidResponseError`` saying what did not match.
    """
    try:
        return converter.structure(data, response_type)
    except Exception as exc:  # cattrs, enum and date parsing raise many kinds
        raise _mismatch(context, response_type, exc) from exc


def _mismatch(context: str, response_type: Any, exc: BaseException) -> InvalidResponseError:
    return InvalidResponseError(
        f"{context}: the response data does not match "
        f"{getattr(response_type, '__name__', response_type)}: {_reason(exc)}"
    )


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 300 else text[:300] + "..."
