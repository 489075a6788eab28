"""The rules of ``roundinputs`` on hand-built rows (no database), and local-time properties.

Most cases use the spring-forward night: round start ``S`` = 1_774_728_000 = 2026-03-28 20:00Z
= 21:00 CET (Saturday); at 2026-03-29 01:00Z the clocks jump from 02:00 CET to 03:00 CEST.
Horizon: 96 steps, to S + 24 h = 2026-03-29 20:00Z = 22:00 CEST.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from elfe_ems.planner.devices.base import Tag
from elfe_ems.planner.scenario import ComfortPeriod
from elfe_ems.publish.in_force import PlanHistory, PublishedRow
from elfe_ems.round import inputs as roundinputs
from elfe_ems.round.inputs import (
    DEFAULT_CYCLE_W,
    Issue,
    Measurements,
    build_devices,
)
from elfe_ems.sources.coordination import (
    CoordinationRows,
    MachineRow,
    OffPeakWindowRow,
    PilotWireHeaterRow,
    Programme,
    ProgrammePeriod,
    ThermostaticHeaterRow,
    WaterHeaterRow,
)
from elfe_ems.timegrid import Grid
from elfe_ems.timegrid.local import local_days, local_instant, local_interval, merge_intervals

S = 1_774_728_000  # 2026-03-28 20:00Z = 21:00 CET
H = 3600
PARIS = ZoneInfo("Europe/Paris")
GRID = Grid(round_start=S, step_s=900, steps=96)
OFF = ProgrammePeriod(active=False, start_s=None, end_s=None)

MACHINE = MachineRow(
    device_id=1,
    machine_type=111,
    row_id=1,
    wanted_end=S + 10 * H,
    max_wait_s=H,
    cycle_id=1,
    cycle_name="Coton",
    cycle_found=True,
    power_item_id=5001,
)
TANK = WaterHeaterRow(
    device_id=2,
    machine_type=131,
    row_id=2,
    last_switched_on=None,
    volume_l=200.0,
    power_w=2000.0,
    power_item_id=6002,
    windows=(),
)
PILOT = PilotWireHeaterRow(
    device_id=3,
    machine_type=151,
    row_id=3,
    eco_power_w=100.0,
    comfort_power_w=1500.0,
    forced_eco_pct=30.0,
    programme=Programme(weekday=(OFF, OFF), weekend=(OFF, OFF)),
)
THERMOSTATIC = ThermostaticHeaterRow(
    device_id=4,
    machine_type=155,
    row_id=4,
    eco_dk=2881.0,
    comfort_dk=2931.0,
    half_band_dk=5.0,
    power_w=1500.0,
    thermal_model_id=1,
    temperature_item_id=7004,
    programme=Programme(weekday=(OFF, OFF), weekend=(OFF, OFF)),
)
MEASURED = Measurements(
    cycle_profiles_w={5001: [1000.0, 1000.0]},
    water_heater_energy_wh={6002: 4000.0},
    room_temp_c={7004: 19.0},
    outdoor_temp_c=[5.0] * 96,
)


def _build(
    *, history: PlanHistory | None = None, measured: Measurements = MEASURED, **rows: tuple
) -> tuple[list, list[Issue]]:
    built = build_devices(
        CoordinationRows(**rows),
        GRID,
        PARIS,
        history or PlanHistory(),
        measured,
        {1: (0.00457, 2_835_616.0)},
    )
    return built.specs, built.issues


def _row(first_valid: int, *ones: int) -> PublishedRow:
    return PublishedRow(first_valid, tuple(1 if k in ones else 0 for k in range(96)))


def _weekend(start_s: int, end_s: int) -> Programme:
    return Programme(weekday=(OFF, OFF), weekend=(ProgrammePeriod(True, start_s, end_s), OFF))


# --- "started now" ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "started"),
    [
        ([_row(S - 900, 0)], True),  # R-1's column 0: applied since S - 15 min
        ([_row(S - 900, 1)], False),  # R-1's column 1 is replaced by this round before S
        ([_row(S - 1800, 1)], True),  # no row from R-1: R-2's column 1 is applied now
        ([_row(S - 1800, 1), _row(S - 900)], False),  # R-1's row replaced R-2's
        ([_row(S, 0)], False),  # a row of this very round (a re-run) is not history
        ([_row(S - 900 - 96 * 900, *range(96))], False),  # 24 h old: commande stopped
        ([], False),
    ],
)
def test_started_now_is_the_decision_commande_applies_in_the_step_in_progress(
    rows: list[PublishedRow], started: bool
) -> None:
    history = PlanHistory({1: rows, 2: rows})
    specs, issues = _build(
        history=history, machines=(MACHINE,), water_heaters=(replace(TANK, windows=()),)
    )
    assert ([s.id for s in specs] == []) == started
    assert [(i.device_id, i.tag) for i in issues] == ([] if started else [(2, Tag.IGNORED)])


def test_applied_decision_reads_the_latest_row_at_or_before_the_step() -> None:
    history = PlanHistory({7: [_row(S, 0), _row(S - 2 * 900, 3), _row(S - 900, 1)]})
    assert history.applied_decision(7, S - 900, 900) == 0  # row S - 900, column 0
    assert history.applied_decision(7, S - 1800, 900) == 0  # row S - 1800, column 0
    assert history.applied_decision(7, S + 900, 900) == 0  # row S, column 1
    assert history.applied_decision(7, S - 2700, 900) is None  # before any row
    assert history.applied_decision(8, S, 900) is None  # no row for that device


# --- machines -----------------------------------------------------------------------------


def test_machine_window_ends_in_the_wanted_interval() -> None:
    (spec,), issues = _build(machines=(MACHINE,))
    # finish in [S+9h, S+10h]; 2-step learned cycle (30 min): start from S+8h30
    assert (spec.earliest_start, spec.latest_end) == (S + 8 * H + 1800, S + 10 * H)
    assert spec.profile_w == [1000.0, 1000.0]
    assert issues == []


@pytest.mark.parametrize(
    ("wanted_end", "earliest", "latest"),
    [
        (S + H, S, S + H),  # S+1h - 1h - 30min is past: from the round start
        (S - H, S - H, S - H),  # passed: raised to the wanted end, the planner's to relax
    ],
)
def test_machine_window_is_clamped_to_the_round_start_when_it_can_be(
    wanted_end: int, earliest: int, latest: int
) -> None:
    (spec,), _ = _build(machines=(replace(MACHINE, wanted_end=wanted_end),))
    assert (spec.earliest_start, spec.latest_end) == (earliest, latest)


def test_an_unusable_learned_cycle_gives_the_default_one() -> None:
    measured = replace(MEASURED, cycle_profiles_w={5001: [1000.0, -5.0]})
    (spec,), issues = _build(measured=measured, machines=(MACHINE,))
    assert spec.profile_w == list(DEFAULT_CYCLE_W)
    assert [(i.tag, i.text) for i in issues] == [
        (Tag.DATABASE, "learned cycle of power item 5001 is unusable: default")
    ]


# --- water heaters on the spring-forward night -------------------------------------------


@pytest.mark.parametrize(
    ("hours", "windows"),
    [
        # 22:00-06:00: Sat 22:00 CET = 21:00Z (S+1h) -> Sun 06:00 CEST = 04:00Z (S+8h): 7 h.
        # Sunday's 22:00 CEST = 20:00Z is the horizon's end.
        ([(79_200, 21_600)], [(S + H, S + 8 * H)]),
        # 02:30-03:00 does not exist on Sunday: both ends are the jump, 01:00Z: empty
        ([(9000, 10_800)], []),
        # 01:30-02:30: 01:30 CET = 00:30Z (S+4h30) -> the jump at 01:00Z (S+5h)
        ([(5400, 9000)], [(S + 4 * H + 1800, S + 5 * H)]),
        # 20:00-22:00 on Saturday (CET, in progress: cut at S) and Sunday (CEST: S+22h-S+24h)
        ([(72_000, 79_200)], [(S, S + H), (S + 22 * H, S + 24 * H)]),
        # two windows that overlap are one
        ([(79_200, 3600), (0, 7200)], [(S + H, S + 5 * H)]),
    ],
)
def test_off_peak_windows_in_local_time_across_the_dst_change(
    hours: list[tuple[int, int]], windows: list[tuple[int, int]]
) -> None:
    tank = replace(TANK, windows=tuple(OffPeakWindowRow(n, a, b) for n, (a, b) in enumerate(hours)))
    (spec,), _ = _build(water_heaters=(tank,))
    assert spec.windows == windows


@pytest.mark.parametrize(
    ("last_on", "planned"),
    [(S - 11 * H, False), (S - 12 * H, True), (None, True), (S + H, True)],
)
def test_water_heater_rests_12_hours_after_being_switched_on(
    last_on: int | None, planned: bool
) -> None:
    tank = replace(TANK, last_switched_on=last_on, windows=(OffPeakWindowRow(1, 79_200, 21_600),))
    specs, issues = _build(water_heaters=(tank,))
    assert len(specs) == planned
    assert [i.tag for i in issues] == ([Tag.DATABASE] if last_on == S + H else [])


# --- pilot-wire heaters -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("history", "owed"),
    [
        # Saturday 20:00-22:00 CET = S-1h..S+1h, 8 steps: ceil(70 % x 8 = 5.6) = 6 owed; no
        # decision published before S: none given, all 6 owed in the 4 steps left (the
        # planner relaxes that to comfort all period, and says so)
        (PlanHistory(), 6),
        # the row of S-1h gave comfort at S-1h (its column 0; its column 2 was replaced by
        # the row of S-30min), the row of S-30min at S-15min (its column 1): 2 given
        (PlanHistory({3: [_row(S - H, 0, 2), _row(S - 1800, 1)]}), 4),
        (PlanHistory({3: [_row(S - H, *range(96))]}), 2),  # 4 given
        (PlanHistory({3: [_row(S - 2 * H, *range(96))]}), 2),  # the row of S-2h still applies
    ],
)
def test_comfort_owed_is_less_the_comfort_already_given(history: PlanHistory, owed: int) -> None:
    pilot = replace(PILOT, programme=_weekend(72_000, 79_200))
    (spec,), _ = _build(history=history, pilot_wire_heaters=(pilot,))
    # Sunday's 20:00-22:00 CEST = 18:00Z-20:00Z = S+22h..S+24h: 6 owed, nothing before
    assert spec.comfort_periods == [
        ComfortPeriod(start=S, end=S + H, min_comfort_steps=owed),
        ComfortPeriod(start=S + 22 * H, end=S + 24 * H, min_comfort_steps=6),
    ]
    assert (spec.window_steps, spec.min_comfort_in_window) == (4, 3)


@pytest.mark.parametrize(
    ("programme_start_s", "history", "applied"),
    [
        # Saturday 20:00-22:00 CET = S-1h..S+1h. Applied at S-45min, S-30min, S-15min: the row
        # of S-1h's column 1 (0), then the row of S-30min's columns 0 (0) and 1 (1)
        (72_000, PlanHistory({3: [_row(S - H, 0, 2), _row(S - 1800, 1)]}), [0, 0, 1]),
        # nothing published at S-45min: the decisions from S-30min only
        (72_000, PlanHistory({3: [_row(S - 1800, 0)]}), [1, 0]),
        (72_000, PlanHistory(), []),
        # 4 steps applied since S-1h: the last 3 only (a window is 4 steps)
        (72_000, PlanHistory({3: [_row(S - H, 1, 2, 3)]}), [1, 1, 1]),
        # a period from 20:30 CET (S-30min): its own 2 steps only
        (73_800, PlanHistory({3: [_row(S - H, *range(96))]}), [1, 1]),
        # a period from 21:00 CET (S) is not in progress: nothing
        (75_600, PlanHistory({3: [_row(S - H, *range(96))]}), []),
    ],
)
def test_applied_before_is_the_last_applied_steps_of_the_period_in_progress(
    programme_start_s: int, history: PlanHistory, applied: list[int]
) -> None:
    pilot = replace(PILOT, programme=_weekend(programme_start_s, 79_200))
    (spec,), _ = _build(history=history, pilot_wire_heaters=(pilot,))
    assert spec.applied_before == applied


def test_a_period_past_the_horizon_owes_its_share_in_the_horizon() -> None:
    # 21:00-01:00, 16 steps, owes ceil(70 % x 16 = 11.2) = 12. Saturday's: 21:00 CET = 20:00Z
    # (S) to Sunday 01:00 CET = 00:00Z (S+4h), all in the horizon. Sunday's: 21:00 CEST =
    # 19:00Z (S+23h) to Monday 01:00 CEST = 23:00Z (S+27h), 4 steps in the horizon:
    # ceil(12 x 4 / 16) = 3
    pilot = replace(PILOT, programme=_weekend(75_600, 3600))
    (spec,), issues = _build(pilot_wire_heaters=(pilot,))
    assert spec.comfort_periods == [
        ComfortPeriod(start=S, end=S + 4 * H, min_comfort_steps=12),
        ComfortPeriod(start=S + 23 * H, end=S + 24 * H, min_comfort_steps=3),
    ]
    assert [(i.tag, i.text) for i in issues] == [
        (Tag.DATABASE, "prog_weekend_periode_1 ends before it starts: crosses midnight")
    ]


def test_periods_are_snapped_outward_then_merged() -> None:
    # 20:10-20:20 and 20:25-21:40 CET: snapped to 20:00-20:30 and 20:15-21:45, one period
    # 19:00Z-20:45Z (S-1h..S+45min), 7 steps, ceil(4.9) = 5 owed; its 3 left owe all 5
    programme = Programme(
        weekday=(OFF, OFF),
        weekend=(ProgrammePeriod(True, 72_600, 73_200), ProgrammePeriod(True, 73_500, 78_000)),
    )
    (spec,), _ = _build(pilot_wire_heaters=(replace(PILOT, programme=programme),))
    assert spec.comfort_periods[0] == ComfortPeriod(start=S, end=S + 2700, min_comfort_steps=5)


# --- thermostatic heaters -----------------------------------------------------------------


def test_band_follows_the_programme_at_each_step_end() -> None:
    # Sunday 07:10-08:00 CEST = 05:10Z-06:00Z = S+9h10..S+10h: step ends S+9h15 (k = 36)
    # to S+9h45 (k = 38) are in it; the end S+10h (k = 39) is not
    heater = replace(THERMOSTATIC, programme=_weekend(25_800, 28_800))
    (spec,), issues = _build(thermostatic_heaters=(heater,))
    comfort = [k for k, low in enumerate(spec.comfort_min_c) if low > 15]
    assert comfort == [36, 37, 38]
    assert spec.comfort_min_c[36] == pytest.approx(19.45)
    assert spec.comfort_max_c[0] == pytest.approx(15.45)
    assert (spec.initial_temp_c, issues) == (19.0, [])


def test_without_outdoor_forecast_a_thermostatic_heater_is_skipped() -> None:
    specs, issues = _build(
        measured=replace(MEASURED, outdoor_temp_c=None), thermostatic_heaters=(THERMOSTATIC,)
    )
    assert specs == []
    assert [(i.tag, i.text) for i in issues] == [
        (Tag.DATABASE, "no outdoor temperature forecast for the horizon: not planned")
    ]


# --- robustness ---------------------------------------------------------------------------


def test_an_unexpected_error_skips_one_device_only(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object) -> None:
        raise ValueError("year 10000 is out of range")

    monkeypatch.setattr(roundinputs._Builder, "machine", broken)
    specs, issues = _build(machines=(MACHINE,), pilot_wire_heaters=(PILOT,))
    assert [s.id for s in specs] == [3]
    assert [(i.device_id, i.tag, i.text) for i in issues] == [
        (1, Tag.IMPOSSIBLE, "unusable data (year 10000 is out of range): not planned")
    ]


# --- local time ---------------------------------------------------------------------------


def test_local_days_run_from_the_day_before_to_the_horizons_last() -> None:
    assert local_days(GRID, PARIS) == [date(2026, 3, 27), date(2026, 3, 28), date(2026, 3, 29)]


def test_merge_intervals() -> None:
    assert merge_intervals([(5, 9), (0, 2), (2, 3), (8, 12), (20, 21)]) == [
        (0, 3),
        (5, 12),
        (20, 21),
    ]


ZONES = [ZoneInfo(z) for z in ("Europe/Paris", "America/New_York", "Australia/Lord_Howe")]
"""Paris, a zone that changes at 02:00 local, and one whose DST shift is 30 minutes."""


def _dst_days(zone: ZoneInfo) -> list[date]:
    """Every day from 2020 to 2035 on which ``zone``'s UTC offset changes (after midnight)."""
    midnights = [
        datetime.combine(date(2020, 1, 1) + timedelta(days=n), time(), zone)
        for n in range(16 * 366)
    ]
    return [
        today.date()
        for today, tomorrow in itertools.pairwise(midnights)
        if today.utcoffset() != tomorrow.utcoffset()
    ]


DST_DAYS = {zone: _dst_days(zone) for zone in ZONES}


def _wall(instant: int, zone: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(instant, zone).replace(tzinfo=None)


DAYS_AND_ZONES = st.sampled_from(ZONES).flatmap(
    lambda zone: st.tuples(
        st.just(zone),
        st.one_of(
            st.sampled_from(DST_DAYS[zone]),
            st.dates(date(2020, 1, 1), date(2035, 12, 31)),
        ),
    )
)
SECONDS = st.one_of(st.integers(0, 86_400), st.integers(0, 4 * 3600))  # often near 02:00
FAST = settings(max_examples=400, deadline=None)


def _instants_showing(wall: datetime, zone: ZoneInfo) -> list[int]:
    """Every instant whose local wall-clock time is ``wall`` (0, 1 or 2 of them), by brute
    force over the offsets the zone has within two days."""
    naive_utc = int(wall.replace(tzinfo=UTC).timestamp())
    offsets = {
        int(datetime.fromtimestamp(naive_utc + d, zone).utcoffset().total_seconds())
        for d in range(-2 * 86_400, 2 * 86_400, 900)
    }
    return sorted(t for t in (naive_utc - o for o in offsets) if _wall(t, zone) == wall)


@FAST
@given(DAYS_AND_ZONES, SECONDS)
def test_local_instant_is_the_first_instant_showing_that_wall_time(
    day_zone: tuple[ZoneInfo, date], seconds: int
) -> None:
    zone, day = day_zone
    wall = datetime.combine(day, time()) + timedelta(seconds=seconds)
    instant = local_instant(day, seconds, zone)
    showing = _instants_showing(wall, zone)
    if showing:  # an ordinary wall time, or the first of a repeated one
        assert instant == showing[0]
    else:  # skipped by a spring-forward change: the change itself
        assert _wall(instant, zone) > wall > _wall(instant - 1, zone)


@FAST
@given(DAYS_AND_ZONES, SECONDS, SECONDS)
@example((PARIS, date(2026, 3, 29)), 10_799, 10_800)  # 02:59:59 (skipped) and 03:00 CEST
def test_local_instant_never_goes_back(
    day_zone: tuple[ZoneInfo, date], first: int, second: int
) -> None:
    zone, day = day_zone
    early, late = sorted((first, second))
    assert local_instant(day, early, zone) <= local_instant(day, late, zone)


def _offset_s(instant: int, zone: ZoneInfo) -> int:
    return int(datetime.fromtimestamp(instant, zone).utcoffset().total_seconds())


@FAST
@given(st.sampled_from(DST_DAYS[ZONES[0]]), SECONDS, SECONDS)
def test_windows_on_dst_days_last_their_wall_time_less_the_clock_change(
    day: date, start_s: int, end_s: int
) -> None:
    """A window from start_s to end_s (crossing midnight when end_s < start_s) lasts its wall
    duration minus the change of UTC offset in between, when both ends exist."""
    start, end = local_interval(day, start_s, end_s, PARIS)
    walls = [
        datetime.combine(day, time()) + timedelta(seconds=start_s),
        datetime.combine(day + timedelta(days=int(end_s < start_s)), time())
        + timedelta(seconds=end_s),
    ]
    if all(_instants_showing(wall, PARIS) for wall in walls):
        wall_s = int((walls[1] - walls[0]).total_seconds())
        assert end - start == wall_s - (_offset_s(end, PARIS) - _offset_s(start, PARIS))
    assert start <= end
