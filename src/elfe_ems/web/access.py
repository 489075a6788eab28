"""Who may read the dashboard: anyone on the loopback, a token holder elsewhere.

Bound to the loopback (127.0.0.0/8, ::1, ``localhost``) the app needs no token. Bound to any
other address it refuses to start without ``web_token``, and every request must carry it: an
``Authorization: Bearer TOKEN`` header, or the cookie set by opening any page once with
``?token=TOKEN`` (the answer is a redirect to the same address without the token, so it
stays out of the browser's history). A configured token is checked on the loopback too (a
reverse proxy on the same machine makes the loopback public). Tokens are compared in
constant time and never logged: the access log shows ``token=***``.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import re
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

from elfe_ems.config import MASK, ConfigError, Settings

COOKIE = "ems_token"
QUERY = "token"
_IN_QUERY = re.compile(rf"(?<=[?&]){QUERY}=[^&\s]*")

Handler = Callable[[Request], Awaitable[Response]]
Middleware = Callable[[Request, Handler], Awaitable[Response]]


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) is reachable from this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to any address
        return False


def required_token(settings: Settings) -> str | None:
    """The token every request must carry, or None when none is needed.

    Raises :class:`ConfigError` when ``web_host`` is not the loopback and no ``web_token``
    is set.
    """
    token = settings.web_token.get_secret_value() if settings.web_token else ""
    if not token and not is_loopback(settings.web_host):
        raise ConfigError(
            f"web_token: required when web_host ({settings.web_host}) is not the loopback "
            "(127.0.0.1, ::1, localhost)"
        )
    return token or None


def _matches(given: str | None, token: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


def _bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def token_guard(token: str) -> Middleware:
    """The HTTP middleware that lets through only requests with ``token`` (module docstring)."""

    async def guard(request: Request, call_next: Handler) -> Response:
        if _matches(_bearer(request), token) or _matches(request.cookies.get(COOKIE), token):
            return await call_next(request)
        if _matches(request.query_params.get(QUERY), token):
            response = RedirectResponse(str(request.url.remove_query_params(QUERY)), 303)
            response.set_cookie(
                COOKIE,
                token,
                httponly=True,
                samesite="strict",
                secure=request.url.scheme == "https",
            )
            return response
        message = "an access token is required: Authorization: Bearer TOKEN, or ?token=TOKEN"
        headers = {"WWW-Authenticate": "Bearer"}
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": message}, 401, headers)
        return PlainTextResponse(f"401 Unauthorized: {message} in the address.", 401, headers)

    return guard


class HideTokens(logging.Filter):
    """Masks ``token=...`` in the arguments of log records (uvicorn's access log)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _IN_QUERY.sub(f"{QUERY}={MASK}", a) if isinstance(a, str) else a
                for a in record.args
            )
        return True
