"""``ems zabbix-template``: print the Zabbix 6.0 template that monitors the EMS through its
web app's ``/api/monitoring`` (the file ``web/zabbix_template.yaml`` of the package)."""

from __future__ import annotations

from importlib.resources import files

from elfe_ems.cli.common import console

TEMPLATE = "zabbix_template.yaml"


def template_text() -> str:
    """The template shipped in the package."""
    return files("elfe_ems.web").joinpath(TEMPLATE).read_text(encoding="utf-8")


def zabbix_template_command() -> None:
    """Print the Zabbix 6.0 template (YAML) that monitors the EMS: import it in Zabbix,
    link it to a host and set the host's {$EMS.URL} to the dashboard's address."""
    console.print(template_text(), markup=False, highlight=False, end="", soft_wrap=True)
