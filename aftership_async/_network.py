"""``Network``: how the client reaches AfterShip (proxy, environment, TLS), as one value.

Passed as ``AfterShip(network=Network(...))``. Nothing here sends a request:
the transport reads :meth:`Network.request_kwargs` for each aiohttp request
and :attr:`Network.trust_env` / :attr:`Network.ssl` when it builds its session.
"""

from __future__ import annotations

import base64
import ssl as _ssl
from typing import Any, TypeAlias
from urllib.parse import urlsplit

import aiohttp
import attrs

from ._errors import ConfigurationError

__all__ = ["Network"]


def _check_proxy(_: object, __: object, value: str | None) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        raise ConfigurationError("proxy must be a URL string, e.g. 'http://127.0.0.1:3128'")
    parts = urlsplit(value)
    # aiohttp speaks to the proxy in plain HTTP (CONNECT for https:// targets).
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError("proxy must be an http:// or https:// URL with a host")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigurationError("proxy must be scheme://host:port, without a path or query")


#: ``(login, password)``, or an ``aiohttp.BasicAuth`` (deprecated by aiohttp 3.14).
ProxyAuth: TypeAlias = "tuple[str, str] | aiohttp.BasicAuth"


def _login_password(value: Any) -> tuple[str, str]:
    if isinstance(value, aiohttp.BasicAuth):
        return value.login, value.password
    return value[0], value[1]


def _check_auth(instance: Network, _: object, value: Any) -> None:
    if value is None:
        return
    ok = isinstance(value, aiohttp.BasicAuth) or (
        isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, str) for v in value)
    )
    if not ok:
        raise ConfigurationError("proxy_auth must be a (login, password) pair of strings")
    login, _password = _login_password(value)
    if ":" in login or any(ord(ch) < 0x20 for ch in "".join(_login_password(value))):
        raise ConfigurationError("proxy_auth's login must not contain ':' or control characters")
    if instance.proxy is None:
        raise ConfigurationError("proxy_auth needs proxy=...")


def _check_ssl(_: object, __: object, value: object) -> None:
    if value is True or value is False or isinstance(value, _ssl.SSLContext):
        return
    raise ConfigurationError("ssl must be True (verify), False (no verification) or an SSLContext")


def _masked_proxy(value: str | None) -> str:
    if value is None:
        return "None"
    parts = urlsplit(value)
    if parts.username or parts.password:  # user:password@ in the URL stays out of reprs
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        return repr(f"{parts.scheme}://********@{host}{port}")
    return repr(value)


def _masked_auth(value: Any) -> str:
    return "None" if value is None else f"({_login_password(value)[0]!r}, '********')"


def _masked_ssl(value: object) -> str:
    return "SSLContext(...)" if isinstance(value, _ssl.SSLContext) else repr(value)


@attrs.frozen
class Network:
    """How requests reach AfterShip: a proxy, the proxy environment, TLS verification.

    Args:
        proxy: an HTTP proxy URL (``"http://proxy.internal:3128"``). Requests to
            ``https://`` APIs go through it with ``CONNECT``: the proxy sees the
            host name, never a header or a body. Credentials in the URL
            (``http://user:pass@host:3128``) work; ``proxy_auth`` is clearer.
        proxy_auth: ``(login, password)`` for the proxy's Basic auth
            (``Proxy-Authorization``, sent to the proxy only; an
            ``aiohttp.BasicAuth`` works too).
        trust_env: read the proxy settings of the environment, as aiohttp does:
            ``HTTPS_PROXY`` / ``HTTP_PROXY`` (and ``ALL_PROXY``), ``NO_PROXY``,
            and ``~/.netrc`` (or ``$NETRC``) for the proxy's credentials. Off by
            default: a process's environment does not redirect its AfterShip
            traffic unless asked. An explicit ``proxy`` wins over the environment.
            With ``session=`` (yours), your session's own ``trust_env`` applies.
        ssl: ``True`` (verify against the system's CAs; the default), an
            ``ssl.SSLContext`` (a private CA, a client certificate: e.g.
            ``ssl.create_default_context(cafile="corp-ca.pem")``), or ``False``
            (no verification: for tests only).
    """

    proxy: str | None = attrs.field(default=None, validator=_check_proxy, repr=_masked_proxy)
    proxy_auth: ProxyAuth | None = attrs.field(
        default=None, validator=_check_auth, repr=_masked_auth
    )
    trust_env: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))
    ssl: _ssl.SSLContext | bool = attrs.field(default=True, validator=_check_ssl, repr=_masked_ssl)

    def secrets(self) -> tuple[str, ...]:
        """The proxy passwords (of ``proxy_auth`` and the URL), for masking."""
        found = []
        if self.proxy_auth is not None:
            found.append(_login_password(self.proxy_auth)[1])
        if self.proxy is not None and urlsplit(self.proxy).password:
            found.append(urlsplit(self.proxy).password or "")
        return tuple(found)

    def request_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of ``session.request`` that carry these settings."""
        kwargs: dict[str, Any] = {}
        if self.proxy is not None:
            kwargs["proxy"] = self.proxy
            if self.proxy_auth is not None:
                # The header itself: aiohttp 3.14 deprecates its proxy_auth= and BasicAuth.
                kwargs["proxy_headers"] = {"Proxy-Authorization": _basic(self.proxy_auth)}
        if self.ssl is not True:
            kwargs["ssl"] = self.ssl
        return kwargs


def _basic(auth: ProxyAuth) -> str:
    login, password = _login_password(auth)
    text = f"{login}:{password}"
    try:
        raw = text.encode("latin-1")
    except UnicodeEncodeError:
        raw = text.encode("utf-8")  # RFC 7617's charset
    return "Basic " + base64.b64encode(raw).decode("ascii")


DEFAULT_NETWORK = Network()
