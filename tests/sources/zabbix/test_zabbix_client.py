"""The Zabbix client against a real Zabbix 6.0 server (the session's ``zabbix`` fixture)."""

from __future__ import annotations

import secrets
import time

import numpy as np
import pytest

from elfe_ems.sources.measurements import FLOAT, UNSIGNED, Item
from elfe_ems.sources.zabbix import ZabbixClient, ZabbixError
from postgres import admin
from zabbix_server import ZabbixTestServer

DAY_S = 86_400
TEXT = 4  # value_type of a text item


class Sleeps(list[float]):
    """A ``sleep`` that records the delays instead of waiting."""

    def __call__(self, delay_s: float) -> None:
        self.append(delay_s)


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "[WARN_DATABASE]" in r.getMessage()]


def active_sessions(zabbix: ZabbixTestServer) -> int:
    with admin(zabbix.database) as connection:
        row = connection.execute("SELECT count(*) FROM sessions WHERE status = 0").fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture
def host(zabbix: ZabbixTestServer) -> tuple[str, int]:
    """A new host: its name and id."""
    name = unique("host")
    return name, zabbix.create_host(name)


def test_login_by_password_logs_out_on_close(zabbix: ZabbixTestServer) -> None:
    before = active_sessions(zabbix)
    with ZabbixClient.connect(zabbix.settings()) as client:
        assert active_sessions(zabbix) == before + 1
        assert client.items([]) == {}
    assert active_sessions(zabbix) == before


def test_login_by_token_is_preferred(zabbix: ZabbixTestServer, host: tuple[str, int]) -> None:
    item_id = zabbix.create_item(host[1], "power", "power")
    settings = zabbix.settings(zabbix_token=zabbix.api_token(), zabbix_password="not-used")
    before = active_sessions(zabbix)
    with ZabbixClient.connect(settings) as client:
        assert list(client.items([item_id])) == [item_id]
    assert active_sessions(zabbix) == before  # no login, no session


def test_wrong_token_is_refused_at_connect(
    zabbix: ZabbixTestServer, caplog: pytest.LogCaptureFixture
) -> None:
    token = secrets.token_hex(32)
    sleeps = Sleeps()
    with pytest.raises(ZabbixError) as raised:
        ZabbixClient.connect(zabbix.settings(zabbix_token=token), sleep=sleeps)
    assert token not in str(raised.value)
    assert not sleeps
    assert len(warnings(caplog)) == 1


def test_wrong_password_is_a_clear_error_without_the_password(
    zabbix: ZabbixTestServer, caplog: pytest.LogCaptureFixture
) -> None:
    password = f"Wrong-{secrets.token_hex(8)}"
    sleeps = Sleeps()
    with pytest.raises(ZabbixError, match="login as Admin: refused") as raised:
        ZabbixClient.connect(zabbix.settings(zabbix_password=password), sleep=sleeps)
    assert "Incorrect user name or password" in str(raised.value)
    assert password not in str(raised.value)
    assert not sleeps  # bad credentials are not retried
    logged = warnings(caplog)
    assert len(logged) == 1
    assert password not in caplog.text


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"zabbix_url": None}, "zabbix_url is not set"),
        ({"zabbix_user": None}, "no credentials"),
        ({"zabbix_password": None}, "no credentials"),
    ],
)
def test_missing_url_or_credentials(
    zabbix: ZabbixTestServer, overrides: dict[str, None], expected: str
) -> None:
    with pytest.raises(ZabbixError, match=expected):
        ZabbixClient.connect(zabbix.settings(**overrides))


def test_an_http_error_is_not_retried(zabbix: ZabbixTestServer) -> None:
    sleeps = Sleeps()
    url = zabbix.api_url.replace("api_jsonrpc.php", "missing.php")
    with pytest.raises(ZabbixError, match="404"):
        ZabbixClient.connect(zabbix.settings(zabbix_url=url), sleep=sleeps)
    assert not sleeps


@pytest.mark.parametrize(
    ("value_type", "values"), [(FLOAT, [1.5, -2.25, 0.0]), (UNSIGNED, [7, 0, 42])]
)
def test_history_of_float_and_unsigned_items(
    zabbix: ZabbixTestServer, host: tuple[str, int], value_type: int, values: list[float]
) -> None:
    name, host_id = host
    item_id = zabbix.create_item(host_id, "energy", "energy", value_type=value_type, units="Wh")
    now = int(time.time())
    clocks = [now - 300, now - 200, now - 100]
    zabbix.send(name, "energy", list(zip(clocks, values, strict=True)))
    with ZabbixClient.connect(zabbix.settings()) as client:
        item = client.items([item_id])[item_id]
        got_clocks, got_values = client.history(item, now - 400, now)
        assert client.history(item, now - 99, now)[0].size == 0
    assert item == Item(
        item_id, host_id, "energy", "energy", "Wh", value_type, clocks[-1], values[-1]
    )
    assert got_clocks.dtype == np.int64
    assert got_values.dtype == np.float64
    np.testing.assert_array_equal(got_clocks, clocks)
    np.testing.assert_array_equal(got_values, values)


@pytest.fixture(scope="module")
def three_days(zabbix: ZabbixTestServer) -> tuple[int, list[tuple[int, float]]]:
    """An item with 3 days of 1-minute samples: its id and the samples."""
    name = unique("host")
    item_id = zabbix.create_item(zabbix.create_host(name), "balance", "balance")
    start = (int(time.time()) - 3 * DAY_S) // 60 * 60
    samples = [(start + 60 * k, round(1000 * np.sin(k / 100), 3)) for k in range(3 * 1440)]
    zabbix.send(name, "balance", samples)
    return item_id, samples


@pytest.mark.parametrize(
    ("chunk_s", "limit"), [(6 * 3600, 100), (7 * 3600 + 1, 359), (DAY_S, 5000)]
)
def test_three_days_in_small_chunks(
    zabbix: ZabbixTestServer,
    three_days: tuple[int, list[tuple[int, float]]],
    chunk_s: int,
    limit: int,
) -> None:
    item_id, samples = three_days
    with ZabbixClient.connect(zabbix.settings(), chunk_s=chunk_s, limit=limit) as client:
        clocks, values = client.history(
            client.items([item_id])[item_id], samples[0][0], samples[-1][0]
        )
    np.testing.assert_array_equal(clocks, [c for c, _ in samples])
    np.testing.assert_array_equal(values, [v for _, v in samples])


def test_values_of_one_second_are_never_split_across_pages(
    zabbix: ZabbixTestServer, host: tuple[str, int]
) -> None:
    name, host_id = host
    item_id = zabbix.create_item(host_id, "power", "power")
    now = int(time.time())
    # three values in second now-50: a page of 4 ends inside them, the next starts at it
    sent = [(now - 51, 1.0), (now - 50, 2.0), (now - 50, 3.0), (now - 50, 4.0), (now - 49, 5.0)]
    zabbix.send(name, "power", sent, ns=[0, 1, 2, 3, 0])
    with ZabbixClient.connect(zabbix.settings(), limit=4) as client:
        item = client.items([item_id])[item_id]
        clocks, values = client.history(item, now - 60, now)
        with pytest.raises(ZabbixError, match="more than 2 values in second"):
            ZabbixClient.connect(zabbix.settings(), limit=2).history(item, now - 50, now)
    np.testing.assert_array_equal(clocks, [c for c, _ in sent])
    np.testing.assert_array_equal(values, [v for _, v in sent])


def test_text_items_have_no_numeric_history(
    zabbix: ZabbixTestServer, host: tuple[str, int]
) -> None:
    item_id = zabbix.create_item(host[1], "state", "state", value_type=TEXT, units="")
    with ZabbixClient.connect(zabbix.settings()) as client:
        item = client.items([item_id])[item_id]
        with pytest.raises(ZabbixError, match="not numeric"):
            client.history(item, 0, int(time.time()))
    assert item.last_value is None


def test_unknown_item_ids_are_absent(zabbix: ZabbixTestServer, host: tuple[str, int]) -> None:
    item_id = zabbix.create_item(host[1], "power", "power")
    with ZabbixClient.connect(zabbix.settings()) as client:
        found = client.items([item_id, 999_999_999, item_id])
        assert client.items([999_999_998]) == {}
    assert list(found) == [item_id]


def test_item_named_and_host_items(zabbix: ZabbixTestServer, host: tuple[str, int]) -> None:
    name = unique("balance")
    first = zabbix.create_item(host[1], name, "balance")
    second = zabbix.create_item(host[1], "other", "other", value_type=UNSIGNED)
    with ZabbixClient.connect(zabbix.settings()) as client:
        assert client.item_named(name).item_id == first
        assert [i.item_id for i in client.host_items(host[1])] == [first, second]
        assert client.host_items(999_999_999) == []
        with pytest.raises(ZabbixError, match="no item with this name"):
            client.item_named(unique("missing"))
        zabbix.create_item(zabbix.create_host(unique("host")), name, "balance")
        with pytest.raises(ZabbixError, match=f"2 items \\({first}, "):
            client.item_named(name)


def test_zabbix_away_fails_after_the_retries_with_one_warning(
    zabbix: ZabbixTestServer, host: tuple[str, int], caplog: pytest.LogCaptureFixture
) -> None:
    item_id = zabbix.create_item(host[1], "power", "power")
    sleeps = Sleeps()
    client = ZabbixClient.connect(zabbix.settings(zabbix_retries=3), sleep=sleeps)
    item = client.items([item_id])[item_id]
    with zabbix.frontend_down():
        with pytest.raises(ZabbixError, match="failed after 4 attempt"):
            client.history(item, 0, 100)
        assert sleeps == [1.0, 2.0, 4.0]
        assert len(warnings(caplog)) == 1
        with pytest.raises(ZabbixError, match=r"connect: .* failed after 1 attempt"):
            ZabbixClient.connect(zabbix.settings(zabbix_retries=0), sleep=sleeps)
        assert len(sleeps) == 3
    assert client.items([item_id]) == {item_id: item}  # Zabbix back: the session goes on
    client.close()
