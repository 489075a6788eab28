"""Reading measurements from Zabbix: items and their numeric history, through its JSON-RPC API.

Built on ``zabbix_utils.ZabbixAPI`` (synchronous), configured by the ``zabbix_…`` keys of
:class:`~elfe_ems.config.Settings`. An API token is preferred; otherwise the client logs in with
user and password and logs out in :meth:`ZabbixClient.close`.

Every call is retried with exponential backoff (first delay 1 s, doubling, ``zabbix_retries``
times) when the transport fails (connection refused or reset, timeout, HTTP 5xx, a reply that
is not JSON): those may pass. An error that the API answers (bad credentials, bad parameters)
or an HTTP 4xx would come back the same, so it is not retried. Every final failure is logged
once with ``[WARN_DATABASE]`` and raised as :class:`ZabbixError`, whose message never holds
a token or a password.

History is read in time windows of ``chunk_s`` seconds, each fetched in pages of at most
``limit`` values, so neither one response nor one page held in memory grows with the range.
Windows do not overlap and pages restart at a whole second, so no value is lost or repeated.
"""

from __future__ import annotations

import http.client
import logging
import time
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.error import HTTPError
from urllib.parse import urlsplit, urlunsplit

import numpy as np
from zabbix_utils import ZabbixAPI
from zabbix_utils.exceptions import APINotSupported, APIRequestError, ProcessingError

from elfe_ems.config import Settings
from elfe_ems.logtags import Tag
from elfe_ems.sources.measurements import NUMERIC_TYPES, Item, MeasurementError

log = logging.getLogger(__name__)

T = TypeVar("T")
Sleep = Callable[[float], None]

FIRST_RETRY_DELAY_S = 1.0
DEFAULT_CHUNK_S = 86_400
"""Default width of one history window [s]: a day of 1-minute samples is 1440 values."""
DEFAULT_LIMIT = 5_000
"""Default maximum of values per history request."""

ITEM_FIELDS = ["itemid", "hostid", "name", "key_", "units", "value_type", "lastclock", "lastvalue"]
# The transport failures zabbix_utils lets through: its own wrapper of URLError and bad JSON,
# and read timeouts or broken connections, which urllib raises as they are.
TRANSPORT_ERRORS = (ProcessingError, OSError, http.client.HTTPException)


class ZabbixError(MeasurementError):
    """Zabbix could not be used: unreachable, refused the request, or answered bad data.
    The message says what and why, never a secret."""


def _fail(message: str) -> ZabbixError:
    """Log a final failure once and give the error to raise."""
    log.warning("%s zabbix: %s", Tag.DATABASE, message)
    return ZabbixError(message)


def _shown(url: str) -> str:
    """``url`` without any user or password in it."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit(parts._replace(netloc=netloc))


def _permanent(error: Exception) -> bool:
    """Whether a transport error is an HTTP 4xx answer, which a retry would not change
    (zabbix_utils hides the HTTPError but keeps it as the context)."""
    cause = error.__context__ if isinstance(error, ProcessingError) else error
    return isinstance(cause, HTTPError) and 400 <= cause.code < 500 and cause.code not in (408, 429)


def _refusal(error: APIRequestError) -> str:
    """The API's own words for a refusal (its message and data, not the request body)."""
    words = [str(getattr(error, key, "")).strip() for key in ("message", "data")]
    return " ".join(w for w in words if w) or "no reason given"


class _Retrying:
    """Runs API calls with retries and backoff, turning every final failure into a logged
    :class:`ZabbixError`."""

    def __init__(self, url: str, retries: int, sleep: Sleep) -> None:
        self.url = url
        self.retries = retries
        self.sleep = sleep

    def __call__(self, what: str, request: Callable[[], T]) -> T:
        attempts = 0
        while True:
            try:
                return request()
            except APIRequestError as error:
                raise _fail(f"{what}: refused by {_shown(self.url)}: {_refusal(error)}") from None
            except APINotSupported as error:
                raise _fail(f"{what}: {_shown(self.url)}: {error}") from None
            except TRANSPORT_ERRORS as error:
                attempts += 1
                reason = str(error).replace(self.url, _shown(self.url)) or type(error).__name__
                if _permanent(error) or attempts > self.retries:
                    raise _fail(
                        f"{what}: {_shown(self.url)} failed after {attempts} attempt(s): {reason}"
                    ) from None
                delay_s = FIRST_RETRY_DELAY_S * 2 ** (attempts - 1)
                log.info("zabbix: %s failed (%s), retry in %.0f s", what, reason, delay_s)
                self.sleep(delay_s)


class ZabbixClient:
    """A session with the Zabbix API; a context manager that closes it.

    Build it with :meth:`connect`. ``chunk_s`` and ``limit`` bound the history requests (see
    the module docstring); ``sleep`` waits between retries (tests pass a fast one).
    """

    def __init__(
        self,
        api: ZabbixAPI,
        call: _Retrying,
        *,
        logged_in: bool,
        chunk_s: int = DEFAULT_CHUNK_S,
        limit: int = DEFAULT_LIMIT,
    ) -> None:
        if chunk_s < 1 or limit < 1:
            raise ValueError("chunk_s and limit must be at least 1")
        self._api = api
        self._call = call
        self._logged_in = logged_in
        self.chunk_s = chunk_s
        self.limit = limit

    @classmethod
    def connect(
        cls,
        settings: Settings,
        *,
        sleep: Sleep = time.sleep,
        chunk_s: int = DEFAULT_CHUNK_S,
        limit: int = DEFAULT_LIMIT,
    ) -> ZabbixClient:
        """A session on ``settings.zabbix_url``, by API token if set, else user and password.

        Raises :class:`ZabbixError` when the URL or the credentials are missing, Zabbix cannot
        be reached, or the login is refused.
        """
        url = settings.zabbix_url
        if not url:
            raise _fail("zabbix_url is not set")
        token = settings.zabbix_token.get_secret_value() if settings.zabbix_token else None
        user = settings.zabbix_user
        password = settings.zabbix_password.get_secret_value() if settings.zabbix_password else None
        if not token and not (user and password):
            raise _fail("no credentials: set zabbix_token, or zabbix_user and zabbix_password")
        call = _Retrying(url, settings.zabbix_retries, sleep)
        api = call(
            "connect",
            lambda: ZabbixAPI(
                url=url,
                validate_certs=settings.zabbix_verify_tls,
                timeout=settings.zabbix_timeout_s,  # a float: zabbix_utils hands it to urllib
            ),
        )
        call.url = api.url  # completed with api_jsonrpc.php
        if token:
            api.login(token=token)  # only stored: checked by the call below
            if not call("login with the API token", api.check_auth):
                raise _fail(f"login to {_shown(api.url)} refused: the API token is not valid")
            return cls(api, call, logged_in=False, chunk_s=chunk_s, limit=limit)
        call(f"login as {user}", lambda: api.login(user=user, password=password))
        return cls(api, call, logged_in=True, chunk_s=chunk_s, limit=limit)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Log out when logged in with user and password. A failed logout is only logged
        (the session then expires on the Zabbix side)."""
        if not self._logged_in:
            return
        self._logged_in = False
        try:
            self._api.logout()
        except (APIRequestError, *TRANSPORT_ERRORS):
            log.warning("%s zabbix: logout from %s failed", Tag.DATABASE, _shown(self._api.url))

    # --- items ---------------------------------------------------------------------------

    def items(self, item_ids: Iterable[int]) -> dict[int, Item]:
        """The items with these ids, by id; unknown ids are absent."""
        ids = sorted({int(i) for i in item_ids})
        if not ids:
            return {}
        rows = self._get_items(f"read {len(ids)} item(s)", itemids=[str(i) for i in ids])
        return {item.item_id: item for item in rows}

    def item_named(self, name: str) -> Item:
        """The one item named exactly ``name``; :class:`ZabbixError` if none or several."""
        found = self._get_items(f"find item {name!r}", filter={"name": name})
        if len(found) != 1:
            ids = ", ".join(str(item.item_id) for item in found)
            raise _fail(
                f"item {name!r}: {'no item' if not found else f'{len(found)} items ({ids})'} "
                "with this name; set its id in the configuration"
            )
        return found[0]

    def host_items(self, host_id: int) -> list[Item]:
        """The items of a host, by id (an unknown host has none)."""
        return self._get_items(f"read items of host {host_id}", hostids=[str(host_id)])

    def _get_items(self, what: str, **query: Any) -> list[Item]:
        rows = self._call(what, lambda: self._api.item.get(output=ITEM_FIELDS, **query))
        try:
            items = [_item(row) for row in rows]
        except (KeyError, TypeError, ValueError) as error:
            raise _fail(f"{what}: unexpected answer ({type(error).__name__}: {error})") from None
        return sorted(items, key=lambda item: item.item_id)

    # --- history -------------------------------------------------------------------------

    def history(
        self, item: Item, time_from_s: int, time_till_s: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The item's values with ``time_from_s <= clock <= time_till_s``: clocks (int64 Unix
        seconds, ascending) and values (float64). Only float and unsigned items have a numeric
        history; any other type raises :class:`ZabbixError`. An empty range gives no values.
        """
        if item.value_type not in NUMERIC_TYPES:
            raise _fail(
                f"item {item.item_id} ({item.name!r}) has value type {item.value_type}, "
                "not numeric (float 0 or unsigned 3)"
            )
        clocks: list[np.ndarray] = []
        values: list[np.ndarray] = []
        for start_s in range(time_from_s, time_till_s + 1, self.chunk_s):
            for page_clocks, page_values in self._window(
                item, start_s, min(start_s + self.chunk_s - 1, time_till_s)
            ):
                clocks.append(page_clocks)
                values.append(page_values)
        if not clocks:
            return np.empty(0, np.int64), np.empty(0, np.float64)
        return np.concatenate(clocks), np.concatenate(values)

    def _window(
        self, item: Item, from_s: int, till_s: int
    ) -> Iterable[tuple[np.ndarray, np.ndarray]]:
        """The pages of one window, in order. A full page may end inside a second: its last
        second is dropped and read again as the start of the next page."""
        while True:
            what = f"read history of item {item.item_id} from {from_s} to {till_s}"

            # a def, not a lambda: mypy cannot type a lambda with a default argument
            def page(start_s: int = from_s) -> list[dict[str, str]]:
                history: list[dict[str, str]] = self._api.history.get(  # untyped zabbix_utils
                    itemids=[str(item.item_id)],
                    history=item.value_type,
                    time_from=start_s,
                    time_till=till_s,
                    output=["clock", "ns", "value"],
                    sortfield="clock",
                    sortorder="ASC",
                    limit=self.limit,
                )
                return history

            rows = self._call(what, page)
            clocks, ns, values = _columns(what, rows)
            order = np.lexsort((ns, clocks))
            clocks, values = clocks[order], values[order]
            if len(rows) < self.limit:
                yield clocks, values
                return
            whole = clocks < clocks[-1]
            if not whole.any():
                raise _fail(f"{what}: more than {self.limit} values in second {clocks[-1]}")
            yield clocks[whole], values[whole]
            from_s = int(clocks[-1])


def _item(row: dict[str, Any]) -> Item:
    last_clock = int(row.get("lastclock") or 0) or None
    last_value: float | None = None
    if last_clock is not None and int(row["value_type"]) in NUMERIC_TYPES:
        last_value = float(row["lastvalue"])
    return Item(
        item_id=int(row["itemid"]),
        host_id=int(row["hostid"]),
        name=str(row["name"]),
        key=str(row["key_"]),
        units=str(row["units"]),
        value_type=int(row["value_type"]),
        last_clock=last_clock,
        last_value=last_value,
    )


def _columns(what: str, rows: list[dict[str, str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clocks, nanoseconds and values of history rows."""
    try:
        clocks = np.array([int(r["clock"]) for r in rows], dtype=np.int64)
        ns = np.array([int(r["ns"]) for r in rows], dtype=np.int64)
        values = np.array([float(r["value"]) for r in rows], dtype=np.float64)
    except (KeyError, TypeError, ValueError) as error:
        raise _fail(f"{what}: unexpected answer ({type(error).__name__}: {error})") from None
    return clocks, ns, values
