"""The EMS's own Zabbix template (``ems zabbix-template``): it reads every input and job of
``/api/monitoring``, and the real Zabbix 6.0 imports it and links it to a host, each dependent
item with its JSONPath."""

from __future__ import annotations

import time

import yaml

from elfe_ems.cli.zabbix import template_text
from elfe_ems.config import Settings
from elfe_ems.jobs.registry import JOBS
from elfe_ems.store.freshness import limits_s
from elfe_ems.web.monitoring import key_of
from zabbix_server import ZabbixTestServer

IMPORT_RULES = {
    "groups": {"createMissing": True},
    "templates": {"createMissing": True, "updateExisting": True},
    "items": {"createMissing": True, "updateExisting": True},
    "triggers": {"createMissing": True, "updateExisting": True},
    "templateLinkage": {"createMissing": True},
}


def _template_keys() -> dict[str, str]:
    """The template's dependent items: key → the JSONPath it reads."""
    (template,) = yaml.safe_load(template_text())["zabbix_export"]["templates"]
    return {
        item["key"]: item["preprocessing"][0]["parameters"][0]
        for item in template["items"]
        if item["type"] == "DEPENDENT"
    }


def test_the_template_reads_every_input_and_job() -> None:
    paths = set(_template_keys().values())
    for name in limits_s(Settings()):
        assert {f"$.input_{key_of(name)}_age_s", f"$.input_{key_of(name)}_state"} <= paths
    for job in JOBS:
        assert {
            f"$.job_{key_of(job.name)}_last_success_age_s",
            f"$.job_{key_of(job.name)}_verdict",
        } <= paths


def test_the_template_imports_into_zabbix_and_links_to_a_host(zabbix: ZabbixTestServer) -> None:
    zabbix.api.configuration.import_(format="yaml", source=template_text(), rules=IMPORT_RULES)
    (template,) = zabbix.api.template.get(filter={"host": "ELFE EMS"}, output=["templateid"])
    host_id = str(zabbix.create_host(f"ems-monitored-{time.monotonic_ns()}"))
    zabbix.api.host.update(
        hostid=host_id,
        templates=[{"templateid": template["templateid"]}],
        macros=[{"macro": "{$EMS.URL}", "value": "http://127.0.0.1:8080"}],
    )
    items = zabbix.api.item.get(
        hostids=host_id, output=["key_", "type", "master_itemid"], selectPreprocessing="extend"
    )
    by_key = {item["key_"]: item for item in items}
    master = by_key.pop("ems.monitoring")
    assert master["type"] == "19"  # HTTP agent
    assert {key: item["preprocessing"][0]["params"] for key, item in by_key.items()} == (
        _template_keys()
    )
    assert {item["master_itemid"] for item in by_key.values()} == {master["itemid"]}
    triggers = zabbix.api.trigger.get(hostids=host_id, output=["description"])
    assert len(triggers) >= 1 + 4 + len(limits_s(Settings())) + len(JOBS)
