"""The grouping of warnings: one WARNING line per kind, device type and what, when the
outermost block ends; a group of one is the device's own line; outside a block, at once."""

from __future__ import annotations

import logging
import threading

import pytest

from elfe_ems.notices.catalogue import Notice
from elfe_ems.notices.collector import group_line, grouped, note, without_values

log = logging.getLogger("tests.notices")
BAND = Notice.COMFORT_BAND_OUT_OF_REACH
HEATER = "thermostatic_heater"


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_one_line_per_kind_type_and_what(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger=log.name), grouped():
        for device_id, miss in ((7, 2.5), (3, 0.4), (9, 9.81), (4, 1.0)):
            note(log, BAND, HEATER, device_id, f"missed by {miss} K·h", value=miss)
        note(log, Notice.MISSING_DATA, "ev", 5, "power is NULL", what="power is NULL")
        note(log, Notice.MISSING_DATA, "ev", 6, "soc is NULL", what="soc is NULL")
        assert _warnings(caplog) == []  # the block has not ended
    assert _warnings(caplog) == [
        "[WARN_CONSTRAINT] 4 thermostatic heaters: comfort band out of reach, missed by 0.4 to "
        f"9.81 K·h each (devices 7, 3, 9, … 4 in all); {BAND.advice}",
        f"[WARN_DATABASE] device 5 (ev): power is NULL; {Notice.MISSING_DATA.advice}",
        f"[WARN_DATABASE] device 6 (ev): soc is NULL; {Notice.MISSING_DATA.advice}",
    ]
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert infos[0] == "[WARN_CONSTRAINT] device 7 (thermostatic_heater): missed by 2.5 K·h"
    assert len(infos) == 6


def test_nested_blocks_log_once_at_the_outermost_end(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger=log.name), grouped():
        with grouped():
            note(log, Notice.DEADLINE_PASSED, "machine", 1, "deadline passed")
        with grouped():
            note(log, Notice.DEADLINE_PASSED, "machine", 2, "deadline passed")
        assert _warnings(caplog) == []
    assert _warnings(caplog) == [
        "[WARN_CONSTRAINT] 2 machines: deadline passed (devices 1, 2); "
        f"{Notice.DEADLINE_PASSED.advice}"
    ]


def test_outside_a_block_each_warning_is_logged_at_once(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger=log.name):
        note(log, Notice.ITEM_NOT_IN_ZABBIX, "machine power item", 12, "not in Zabbix")
        assert _warnings(caplog) == [
            f"[WARN_IGNORED] machine power item 12: not in Zabbix; "
            f"{Notice.ITEM_NOT_IN_ZABBIX.advice}"
        ]
        with grouped():  # another thread is outside the block
            thread = threading.Thread(
                target=note, args=(log, Notice.NO_VALUE_IN_ZABBIX, "item", 13, "no value")
            )
            thread.start()
            thread.join()
            assert len(_warnings(caplog)) == 2


def test_an_exception_goes_with_its_group_line(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger=log.name), grouped():
        try:
            raise RuntimeError("search broke")
        except RuntimeError:
            note(log, Notice.COMFORT_BAND_SEARCH_FAILED, HEATER, 1, "failed", exc_info=True)
    (record,) = caplog.records
    assert record.exc_info is not None
    assert str(record.exc_info[1]) == "search broke"


def test_group_lines_of_items_and_of_one() -> None:
    line = group_line(Notice.LEFT_OUT, "device", "no weather", [30])
    expected = "[WARN_IGNORED] 1 device: left out of the round: no weather (device 30); "
    assert line == expected + Notice.LEFT_OUT.advice
    items = group_line(Notice.IMPLAUSIBLE_VALUE, "room temperature item", "", [4, 5], [99.0, 99.0])
    assert items.startswith(
        "[WARN_IGNORED] 2 room temperature items: value not plausible, 99 °C each (4, 5); "
    )


def test_without_values() -> None:
    assert without_values("soc_pct is 150 %: 100 % assumed") == "soc_pct is … %"
    assert without_values("deadline 2026-01-02T03:04Z has passed") == "deadline … has passed"
