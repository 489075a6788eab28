"""The EMS's own Zabbix template, as ``ems zabbix-template`` prints it: it reads every input and
job of ``/api/monitoring``; the real Zabbix 6.0 imports it, links it to a host and polls a real
``ems web`` process on a demo's store, each dependent item taking its key of the document."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml
from typer.testing import CliRunner

from elfe_ems.cli import app
from elfe_ems.cli.zabbix import template_text
from elfe_ems.config import Settings
from elfe_ems.jobs.registry import JOBS
from elfe_ems.store.freshness import limits_s
from elfe_ems.web.monitoring import key_of
from zabbix_server import ZabbixTestServer, free_port, wait_until

IMPORT_RULES = {
    "groups": {"createMissing": True},
    "templates": {"createMissing": True, "updateExisting": True},
    "items": {"createMissing": True, "updateExisting": True},
    "triggers": {"createMissing": True, "updateExisting": True},
    "templateLinkage": {"createMissing": True},
}
MASTER = "ems.monitoring"
HTTP_AGENT = "19"
FLOAT, UNSIGNED = "0", "3"  # item.get's value types; the others are text
WEB_START_S = 30.0
POLL_INTERVAL = "5s"  # the host's {$EMS.INTERVAL}: the template's 1m would make the test wait
CLOCK_S = 1.5  # the Zabbix clock of a poll vs the document's checked_at_s (and its rounding)


@pytest.fixture(scope="module")
def template() -> str:
    """The output of the real ``ems zabbix-template``."""
    printed = subprocess.run(
        [sys.executable, "-m", "elfe_ems", "zabbix-template"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return printed.stdout


def _template_keys(template: str) -> dict[str, str]:
    """The template's dependent items: key → the JSONPath it reads."""
    (exported,) = yaml.safe_load(template)["zabbix_export"]["templates"]
    return {
        item["key"]: item["preprocessing"][0]["parameters"][0]
        for item in exported["items"]
        if item["type"] == "DEPENDENT"
    }


@pytest.fixture(scope="module")
def template_id(zabbix: ZabbixTestServer, template: str) -> str:
    """The template imported into the real Zabbix; its id."""
    zabbix.api.configuration.import_(format="yaml", source=template, rules=IMPORT_RULES)
    (found,) = zabbix.api.template.get(filter={"host": "ELFE EMS"}, output=["templateid"])
    return str(found["templateid"])


def _linked_host(zabbix: ZabbixTestServer, template_id: str, macros: dict[str, str]) -> str:
    """A new host with the template linked and these macros; its id."""
    host_id = str(zabbix.create_host(f"ems-monitored-{time.monotonic_ns()}"))
    zabbix.api.host.update(
        hostid=host_id,
        templates=[{"templateid": template_id}],
        macros=[{"macro": name, "value": value} for name, value in macros.items()],
    )
    return host_id


@pytest.fixture(scope="module")
def ems_web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``ems web`` process on the store of a small demo run now; its base URL."""
    folder = tmp_path_factory.mktemp("monitored") / "ems-demo"
    demo = CliRunner().invoke(
        app,
        ["demo", "--folder", str(folder), "--homes", "5", "--days", "1", "--seed", "3"],
        env={"EMS_TIME_LIMIT_S": "2"},
    )
    assert demo.exit_code == 0, demo.output
    port = free_port()
    log_path = folder / "web.log"
    config = folder / "config.toml"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "elfe_ems", "web", "--config", str(config), "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=log_file,
        )
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"ems web stopped: {log_path.read_text(errors='replace')}")
        try:
            return httpx.get(f"{url}/api/monitoring", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_until(answers, "ems web", WEB_START_S)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_ems_zabbix_template_prints_the_packaged_template(template: str) -> None:
    assert template == template_text()


def test_the_template_reads_every_input_and_job(template: str) -> None:
    paths = set(_template_keys(template).values())
    for name in limits_s(Settings()):
        assert {f"$.input_{key_of(name)}_age_s", f"$.input_{key_of(name)}_state"} <= paths
    for job in JOBS:
        assert {
            f"$.job_{key_of(job.name)}_last_success_age_s",
            f"$.job_{key_of(job.name)}_verdict",
        } <= paths


def test_the_template_imports_into_zabbix_and_links_to_a_host(
    zabbix: ZabbixTestServer, template: str, template_id: str
) -> None:
    host_id = _linked_host(zabbix, template_id, {"{$EMS.URL}": "http://127.0.0.1:8080"})
    items = zabbix.api.item.get(
        hostids=host_id, output=["key_", "type", "master_itemid"], selectPreprocessing="extend"
    )
    by_key = {item["key_"]: item for item in items}
    master = by_key.pop(MASTER)
    assert master["type"] == HTTP_AGENT
    assert {key: item["preprocessing"][0]["params"] for key, item in by_key.items()} == (
        _template_keys(template)
    )
    assert {item["master_itemid"] for item in by_key.values()} == {master["itemid"]}
    triggers = zabbix.api.trigger.get(hostids=host_id, output=["description"])
    assert len(triggers) >= 1 + 4 + len(limits_s(Settings())) + len(JOBS)


def _check_names(text: str) -> set[str]:
    """The names of the checks of ``failed`` or ``warnings`` (their details say "N min ago",
    which two reads may round differently)."""
    return {check.split(": ")[0] for check in text.split("; ") if check}


def _same_facts(polled: dict[str, Any], read: dict[str, Any]) -> None:
    """Two documents of one unchanged store, read at different times, say the same."""
    assert polled.keys() == read.keys()
    for key, value in read.items():
        if key.endswith("_age_s") and value is not None:
            # the same time: the read's time less its age
            assert polled["checked_at_s"] - polled[key] == pytest.approx(
                read["checked_at_s"] - value, abs=0.2
            ), key
        elif key in ("failed", "warnings"):
            assert _check_names(polled[key]) == _check_names(value), key
        elif key != "checked_at_s":
            assert polled[key] == value, key


def _as_read(item: dict[str, str]) -> Any:
    """An item's last value as the document gave it."""
    if item["value_type"] == FLOAT:
        return pytest.approx(float(item["lastvalue"]))
    if item["value_type"] == UNSIGNED:
        return int(item["lastvalue"])
    return item["lastvalue"]


def test_zabbix_polls_ems_web_and_fills_every_item_and_trigger(
    zabbix: ZabbixTestServer, template: str, template_id: str, ems_web: str
) -> None:
    """The demo store is healthy (no check failed); {$EMS.ROUND.AGE.MAX} = 0 makes its last
    round "too old", so one trigger is a problem and the other stays OK."""
    host_id = _linked_host(
        zabbix,
        template_id,
        {"{$EMS.URL}": ems_web, "{$EMS.INTERVAL}": POLL_INTERVAL, "{$EMS.ROUND.AGE.MAX}": "0"},
    )
    read = httpx.get(f"{ems_web}/api/monitoring", timeout=10).json()
    paths = _template_keys(template)
    known = [key for key, path in paths.items() if read[path.removeprefix("$.")] is not None]
    items = zabbix.values_of_one_poll(int(host_id), [MASTER, *known])

    polled = json.loads(items[MASTER]["lastvalue"])
    _same_facts(polled, read)
    assert polled["healthy"] == 1
    assert polled["round_status"] == "succeeded"
    assert polled["round_devices_planned"] > 0
    assert polled["job_housekeeping_last_success_age_s"] is None  # the demo never runs it
    for key, path in paths.items():
        item, value = items[key], polled[path.removeprefix("$.")]
        assert item["state"] == "0", (key, item["error"])  # supported, a null too
        if value is None:  # a fact not known: no value
            assert item["lastclock"] == "0", key
        else:
            assert value == _as_read(item), key
    clock_s = int(items["ems.round.age"]["lastclock"]) + int(items["ems.round.age"]["lastns"]) / 1e9
    assert clock_s - float(items["ems.round.age"]["lastvalue"]) == pytest.approx(
        read["checked_at_s"] - read["round_age_s"], abs=CLOCK_S
    )

    def triggers() -> dict[str, dict[str, str]]:
        found = zabbix.api.trigger.get(hostids=host_id, output=["description", "value", "state"])
        return {trigger["description"]: trigger for trigger in found}

    too_old = "EMS: last round older than {$EMS.ROUND.AGE.MAX}s"
    wait_until(lambda: triggers()[too_old]["value"] == "1", "round age trigger", 10)
    unhealthy = triggers()["EMS: unhealthy (a check failed)"]
    assert (unhealthy["value"], unhealthy["state"]) == ("0", "0")  # OK, evaluated
