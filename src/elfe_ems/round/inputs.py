"""The devices of one round: coordination rows turned into the scenario's device specs.

:func:`build_devices` is pure (no database, no clock): from the piloted devices read by
:mod:`elfe_ems.sources.coordination`, the round's grid, the users' time zone, the plans already
published (:class:`PlanHistory`), the measurements (:class:`Measurements`) and the thermal models,
it gives the device specs of the scenario (spec ``docs/spec/elfe.md`` §2) and the issues met on the
way. Absurd or missing values never stop the round: the device is repaired or left out, with a
tagged :class:`Issue` (logged at WARNING, tag first), and every other device is still built. Normal
exclusions (a device already started, the water heater's 12 h rest) are logged at INFO and are not
issues.

Units: times are Unix seconds UTC, hours of day seconds after local midnight, powers W,
energies Wh, temperatures °C in the specs and deci-kelvin (dK) in the database.

Local time
----------
Hours of day are wall-clock times in the users' zone on a given local date, converted by
:mod:`elfe_ems.timegrid.local` (DST-aware). An interval whose end is before its start crosses
midnight: it ends on the next day. The local days considered run from the day before the
round start's (for an interval still in progress) to the day of the horizon's last instant.

"Started now": which plan row commande is applying
--------------------------------------------------
A round runs in the quarter hour before its start and publishes from that start
(``docs/spec/elfe.md`` §3); commande runs every quarter hour + 5 s. For round R with ``round_start``
14:15::

    13:59:30  round R-1 runs and publishes rows with first_valid_timestamp 14:00:00
    14:00:05  commande applies R-1's column (14:00:05 - 14:00:00) // 900 = 0: a one-shot
              device with 1 there is switched on (and set to mode 20); a water heater heats
    14:14:30  round R runs (round_start 14:15:00) and publishes before 14:15:05
    14:15:05  commande applies R's column 0; R-1's column 1 is never applied

So a device is "started now" when the decision commande applies during the step in progress
(the one beginning at ``round_start - step_s``) is not 0: column 0 of R-1's row, or, when R-1
published no row for the device, the matching column of its latest earlier row (commande keeps
applying a device's latest row). This is what the original EMS checked (``first_valid_timestamp
= round_start - 900 AND decisions_0 = 1``). A start that R-1 planned at its column 1 (this
round's step 0) never happened: R plans the device again, and may start it at its step 0.

Pilot-wire heaters: comfort owed
--------------------------------
Programme periods are snapped outward to the step grid, then overlapping or touching ones are
merged (one stretch of comfort is one period, even across midnight). A period of ``N`` steps
owes ``ceil((100 - pourcentage_eco_force) % x N)`` comfort steps (rounded up: the eco forced
never exceeds the user's percentage). The comfort already given is the number of steps of the
period before ``round_start`` whose applied decision (as commande applied it, see above) was
1; steps without any published decision count as not given. What is still owed,
``max(0, owed - given)``, is for the steps from ``round_start`` to the period's end; when the
period runs past the horizon the horizon's part owes its pro-rata share, rounded up (nothing is
pushed past the horizon to look free, and nothing past it is forced into it). Each period is
then cut to the horizon; 4-step windows with at least 3 comfort steps (at most 25 % eco in any
hour). The windows that straddle the round start count the decisions applied on the period's
last 3 steps before it (``applied_before``, from the same applied decisions; it stops at a step
without any published decision, whose decision is unknown). Periods are built from the day
before the round start's, so a programme that never breaks (comfort all day, every day) counts
its period from that day's midnight.

Rules and repairs per kind
--------------------------
- machine: must finish in ``[wanted end - max wait, wanted end]``: ``earliest_start`` is that
  lower bound minus the cycle's length, raised to the round start (never above
  ``latest_end``), ``latest_end`` the wanted end; a window too short or passed is the
  planner's to relax. Profile: the learned cycle of the power item, else
  :data:`DEFAULT_CYCLE_W`. NULL wanted end: as soon as possible; NULL or negative max wait: 0.
  No cycle row: planned all the same (learned cycles are keyed by the power item, not by the
  cycle), ``[WARN_DATABASE]``.
- water heater: not when started now; not within 12 h of ``timestamp_derniere_mise_en_marche``
  (NULL: never switched on, planned; in the future: treated as long ago,
  ``[WARN_DATABASE]``); not without an active off-peak window (``[WARN_IGNORED]``). Windows:
  every active window of every local day considered, overlapping ones merged, cut to the
  horizon. Energy: the one measured over the last 24 h; missing: the full tank's reheat from
  10 to 60 °C (:data:`FULL_REHEAT_WH_PER_L` x volume, ``[WARN_DATABASE]``); without a usable
  volume either: skipped (``[WARN_DATABASE]``).
- EV: not when started now; from the round start to ``timestamp_dispo_souhaitee`` (NULL: as
  soon as possible; a passed deadline, e.g. in 1970, is left to the planner, which charges as
  soon as possible and says so). Charge NULL: 0 %; target NULL: 100 %; either outside
  0-100 %: clamped; target below the charge: the charge (all ``[WARN_DATABASE]``).
- thermostatic heater: band ``[setpoint - delta, setpoint + delta]`` for the temperature at the
  end of each step, the comfort setpoint when that instant is in a comfort period of the
  programme, the eco one otherwise. Delta NULL or negative: :data:`DEFAULT_HALF_BAND_DK`.
  Room temperature missing: the middle of the first step's band. Unknown thermal model, or a
  setpoint outside :data:`ROOM_SETPOINT_RANGE_C` (e.g. °C typed for dK): skipped
  (``[WARN_IMPOSSIBLE]``); no outdoor forecast for the horizon: skipped (``[WARN_DATABASE]``).
- every kind: a NULL power, capacity or setpoint skips the device (``[WARN_DATABASE]``), a
  negative or non-finite one too (``[WARN_IMPOSSIBLE]``); a device id described by several rows
  keeps the first (``[WARN_DATABASE]``). A programme period or off-peak window with a NULL or
  out-of-day hour, or empty, is ignored (``[WARN_DATABASE]``); a programme period that ends
  before it starts is read as crossing midnight (``[WARN_DATABASE]``). NULL ``confort_actif``
  is inactive.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any
from zoneinfo import ZoneInfo

from elfe_ems.notices.catalogue import Notice, skipped
from elfe_ems.notices.collector import note, without_values
from elfe_ems.planner.devices.base import SkipDevice, Tag
from elfe_ems.planner.scenario import (
    AnyDeviceSpec,
    ComfortPeriod,
    EvSpec,
    MachineSpec,
    PilotWireHeaterSpec,
    ThermostaticHeaterSpec,
    WaterHeaterSpec,
)
from elfe_ems.publish.in_force import PlanHistory
from elfe_ems.sources import coordination
from elfe_ems.sources.coordination import (
    TYPES_OF_TABLE,
    CoordinationRows,
    EvRow,
    MachineRow,
    PilotWireHeaterRow,
    Programme,
    ThermostaticHeaterRow,
    UnreadableRow,
    WaterHeaterRow,
)
from elfe_ems.timegrid import DAY_S, Grid
from elfe_ems.timegrid.local import Interval, local_days, local_interval, merge_intervals

log = logging.getLogger(__name__)

DeviceRow = MachineRow | WaterHeaterRow | EvRow | ThermostaticHeaterRow | PilotWireHeaterRow

DEFAULT_CYCLE_W = (1750.78, 516.62, 1365.61, 56.96, 50.72, 180.34, 1618.80, 4.05)
"""The cycle of a machine that has none learned yet [W per 15-min step]: 2 h."""

WATER_HEATER_REST_S = 12 * 3600
"""A water heater is planned again only this long after commande last switched it on [s]."""

FULL_REHEAT_WH_PER_L = 4180 * 50 / 3600
"""Energy to heat one litre of water from 10 to 60 °C [Wh/L] (4180 J/(kg K), 1 kg/L)."""

DEFAULT_HALF_BAND_DK = 10.0
"""Half-width of a thermostatic heater's band when its delta is unusable [dK] (1 K)."""

ROOM_SETPOINT_RANGE_C = (0.0, 40.0)
"""Setpoints outside this range [°C] are not room temperatures (e.g. °C typed for dK)."""

PILOT_WINDOW_STEPS = 4
PILOT_MIN_COMFORT_IN_WINDOW = 3
"""A pilot-wire heater has at least 3 comfort steps in any 4 of a comfort period."""

KELVIN_DK = 2731.5  # 0 °C in deci-kelvin
ROUNDING_DIGITS = 9  # a product of a percentage is rounded to this before its ceiling


@dataclass(frozen=True)
class Measurements:
    """What the store measured or learned, keyed by Zabbix item id.

    ``cycle_profiles_w``: learned cycle per machine power item [W per step of the round];
    ``water_heater_energy_wh``: energy per tank power item over the last 24 h [Wh];
    ``room_temp_c``: latest room temperature per temperature item [°C];
    ``outdoor_temp_c``: the outdoor temperature forecast, one value per step [°C].
    """

    cycle_profiles_w: Mapping[int, Sequence[float] | None] = field(default_factory=dict)
    water_heater_energy_wh: Mapping[int, float] = field(default_factory=dict)
    room_temp_c: Mapping[int, float] = field(default_factory=dict)
    outdoor_temp_c: Sequence[float] | None = None


MAX_POWER_W = 36_000.0
"""A device's power above this [W] is out of range: the largest home connection (36 kVA)."""

MAX_BATTERY_WH = 250_000.0
"""An EV battery above this [Wh] is out of range (cars sold hold at most about 200 kWh)."""

QUIET_TAGS = frozenset({Tag.IGNORED})
"""Tags of a device left out with nothing wrong: e.g. a battery already full."""

TABLE_OF_KIND = {
    "machine": coordination.machine.name,
    "water_heater": coordination.ballon.name,
    "ev": coordination.vehicule.name,
    "thermostatic_heater": coordination.chauffage_asservi.name,
    "pilot_wire_heater": coordination.chauffage_non_asservi.name,
}
"""The coordination table of the rows of each scenario device type."""

KIND_OF_TABLE = {table: kind for kind, table in TABLE_OF_KIND.items()}
"""The scenario device type of the rows of each coordination table (the others: "device")."""


@dataclass(frozen=True)
class Issue:
    """A device repaired or left out of the round, with its log tag."""

    device_id: int
    kind: str  # the scenario device type, e.g. "machine"
    tag: Tag
    text: str

    def __str__(self) -> str:
        return f"{self.tag} device {self.device_id} ({self.kind}): {self.text}"


@dataclass(frozen=True)
class LeftOut:
    """Why a device of the coordination rows is not in the round's scenario. ``tag`` is None
    for a device with nothing to plan now (already started, resting), else the tag of the
    problem met (its issue says more)."""

    kind: str  # the scenario device type
    tag: Tag | None
    reason: str
    problem: bool  # left out for bad or missing data (not because nothing is to plan)


@dataclass(frozen=True)
class BuiltDevices:
    """What :func:`build_devices` gives: the specs by device id, the issues met, and why each
    device of the rows without a spec was left out, by device id."""

    specs: list[AnyDeviceSpec]
    issues: list[Issue]
    left_out: dict[int, LeftOut]


class _Notes:
    """The issues of one device, each logged as it is added, and why it is left out (if)."""

    def __init__(self, device_id: int, kind: str) -> None:
        self.device_id = device_id
        self.kind = kind
        self.issues: list[Issue] = []
        self.left_out: LeftOut | None = None

    def add(self, notice: Notice, text: str, what: str | None = None) -> None:
        """An issue of kind ``notice``, noted for the log's line of its kind; ``what`` is the
        text without its values (default: :func:`without_values` of it)."""
        self.issues.append(Issue(self.device_id, self.kind, notice.tag, text))
        what = without_values(text) if what is None else what
        note(log, notice, self.kind, self.device_id, text, what=what)

    def leave_out(self, tag: Tag | None, reason: str, *, problem: bool | None = None) -> LeftOut:
        """The device is not planned this round (``tag`` None: nothing to plan now); a problem
        unless said otherwise when ``tag`` is not a quiet one."""
        if problem is None:
            problem = tag is not None and tag not in QUIET_TAGS
        self.left_out = LeftOut(self.kind, tag, reason, problem)
        return self.left_out


def build_devices(
    rows: CoordinationRows,
    grid: Grid,
    tz: ZoneInfo,
    history: PlanHistory,
    measurements: Measurements,
    thermal_models: Mapping[int, tuple[float, float]],
) -> BuiltDevices:
    """The device specs of the round, by device id, the issues met and why each device left
    out is (see the module doc).

    ``thermal_models`` maps a ``modele_thermique_id`` to ``(R [K/W], C [J/K])``.
    """
    builder = _Builder(grid, tz, history, measurements, thermal_models)
    kinds: list[tuple[str, Sequence[DeviceRow], Callable[[Any, _Notes], AnyDeviceSpec | None]]] = [
        ("machine", rows.machines, builder.machine),
        ("water_heater", rows.water_heaters, builder.water_heater),
        ("ev", rows.evs, builder.ev),
        ("thermostatic_heater", rows.thermostatic_heaters, builder.thermostatic_heater),
        ("pilot_wire_heater", rows.pilot_wire_heaters, builder.pilot_wire_heater),
    ]
    specs: list[AnyDeviceSpec] = []
    issues: list[Issue] = []
    left_out: dict[int, LeftOut] = {}
    described: dict[int, str] = {}
    for kind, kind_rows, make in kinds:
        for row in kind_rows:
            notes = _Notes(row.device_id, kind)
            if row.device_id in described:
                notes.add(
                    Notice.ROW_REPAIRED,
                    f"also described by {described[row.device_id]}: "
                    f"{kind} row {row.row_id} ignored",
                )
            else:
                described[row.device_id] = f"{kind} row {row.row_id}"
                of_its_type = _of_its_type(row, TABLE_OF_KIND[kind], notes)
                spec = _build_one(make, row, notes) if of_its_type else None
                if spec is not None:
                    specs.append(spec)
                else:
                    left_out[row.device_id] = notes.left_out or LeftOut(
                        kind, None, "nothing to plan now", problem=False
                    )
            issues += notes.issues
    for unreadable in rows.unreadable:
        issues += _unreadable(unreadable, described, left_out)
    specs.sort(key=attrgetter("id"))
    return BuiltDevices(specs, issues, left_out)


def _of_its_type(row: DeviceRow, table: str, notes: _Notes) -> bool:
    """Whether the device's type is one of its row's table; else it is left out: the control
    daemon applies a decision by the type published with it."""
    types = TYPES_OF_TABLE[table]
    if row.machine_type in types:
        return True
    shown = "NULL" if row.machine_type is None else str(row.machine_type)
    expected = ", ".join(map(str, types))
    notes.add(
        Notice.TYPE_NOT_OF_TABLE, f"type {shown} is not a type of {table} ({expected}): ignored"
    )
    notes.leave_out(Tag.IGNORED, "type not of its table", problem=True)
    return False


def _unreadable(
    row: UnreadableRow, described: Mapping[int, str], left_out: dict[int, LeftOut]
) -> list[Issue]:
    """The issue of a row that could not be read (one ``[WARN_IGNORED]``); its device, unless
    another row of it was read, is left out, as a problem (its row must be fixed). A row whose
    device id cannot be read has no device to account: it is logged under its table."""
    if row.device_id is None:
        text = f"{row.reason}: ignored"
        note(log, Notice.ROW_UNREADABLE, row.table, row.row_id, text, what=row.column)
        return []
    kind = KIND_OF_TABLE.get(row.table, "device")
    notes = _Notes(row.device_id, kind)
    notes.add(Notice.ROW_UNREADABLE, f"{row}: ignored", row.column)
    if row.device_id not in described:
        left_out[row.device_id] = notes.leave_out(Tag.IGNORED, "row not readable", problem=True)
    return notes.issues


def _build_one(
    make: Callable[[Any, _Notes], AnyDeviceSpec | None], row: DeviceRow, notes: _Notes
) -> AnyDeviceSpec | None:
    """``make(row)``, or ``None`` with an issue when the device cannot be planned."""
    try:
        return make(row, notes)
    except SkipDevice as skip:
        notes.add(skipped(skip.tag), f"{skip.reason}: not planned", skip.summary)
        notes.leave_out(skip.tag, skip.summary)
    except (ValueError, ArithmeticError) as error:  # e.g. pydantic's ValidationError
        reason = "; ".join(str(error).splitlines())
        notes.add(Notice.UNUSABLE_DATA, f"unusable data ({reason}): not planned", "unusable data")
        notes.leave_out(Tag.IMPOSSIBLE, "unusable data")
    return None


# --- building ------------------------------------------------------------------------------


def _shown(value: float | None) -> str:
    """A stored value for a message: ``NULL`` or the number."""
    return "NULL" if value is None else f"{value:g}"


def _quantity(value: float | None, column: str, maximum: float = MAX_POWER_W) -> float:
    """A value that must be a finite number in ``[0, maximum]`` (a power [W] by default, a
    capacity) or the device is skipped."""
    if value is None:
        raise SkipDevice(Tag.DATABASE, f"{column} is NULL")
    if not (math.isfinite(value) and 0 <= value <= maximum):
        raise SkipDevice(Tag.IMPOSSIBLE, f"{column} is {value:g}", f"{column} out of range")
    return value


def _percent(value: float | None, column: str, default: float, notes: _Notes) -> float:
    """A percentage in [0, 100]: NULL or not finite is ``default``, outside is clamped."""
    if value is None or not math.isfinite(value):
        notes.add(Notice.ROW_REPAIRED, f"{column} is {_shown(value)}: {default:g} % assumed")
        return default
    clamped = min(100.0, max(0.0, value))
    if clamped != value:
        notes.add(Notice.ROW_REPAIRED, f"{column} is {value:g} %: {clamped:g} % assumed")
    return clamped


def _daily_hours(
    start_s: int | None, end_s: int | None, name: str, notes: _Notes
) -> Interval | None:
    """A daily interval's hours [s after local midnight], or ``None`` (with an issue) when
    they cannot be used."""
    if start_s is None or end_s is None:
        notes.add(Notice.ROW_REPAIRED, f"{name} has a NULL hour: ignored")
        return None
    if not (0 <= start_s <= DAY_S and 0 <= end_s <= DAY_S) or start_s == end_s:
        notes.add(
            Notice.ROW_REPAIRED,
            f"{name} from {start_s} s to {end_s} s is not an hour span: ignored",
        )
        return None
    return start_s, end_s


class _Builder:
    """Turns each row into its spec (one method per kind, see the module docstring)."""

    def __init__(
        self,
        grid: Grid,
        tz: ZoneInfo,
        history: PlanHistory,
        measurements: Measurements,
        thermal_models: Mapping[int, tuple[float, float]],
    ) -> None:
        self.grid = grid
        self.tz = tz
        self.history = history
        self.measurements = measurements
        self.thermal_models = thermal_models
        self.days = local_days(grid, tz)

    def _started_now(self, device_id: int, notes: _Notes) -> bool:
        """Whether commande is applying a non-zero decision in the step in progress."""
        now = self.grid.round_start - self.grid.step_s
        if self.history.applied_decision(device_id, now, self.grid.step_s):
            log.info("device %s: started by the previous plan, not planned again", device_id)
            notes.leave_out(None, "started by the plan in force")
            return True
        return False

    def _cut_to_horizon(self, intervals: Iterable[Interval]) -> list[Interval]:
        start, end = self.grid.round_start, self.grid.end
        cut = [(max(a, start), min(b, end)) for a, b in intervals]
        return [(a, b) for a, b in cut if a < b]

    # machine ---------------------------------------------------------------------------

    def machine(self, row: MachineRow, notes: _Notes) -> MachineSpec | None:
        if self._started_now(row.device_id, notes):
            return None
        profile, origin = self._profile(row, notes)
        if not row.cycle_found:
            notes.add(
                Notice.ROW_REPAIRED,
                f"no cycle row (cycle id {row.cycle_id}): planned with the {origin} cycle",
            )
        start, length_s = self.grid.round_start, len(profile) * self.grid.step_s
        if row.wanted_end is None:
            notes.add(Notice.ROW_REPAIRED, "timestamp_de_fin_souhaite is NULL: as soon as possible")
            earliest, latest_end = start, start + length_s
        else:
            latest_end = row.wanted_end
            earliest_end = latest_end - self._max_wait_s(row, notes)
            earliest = min(max(earliest_end - length_s, start), latest_end)
        return MachineSpec(
            type="machine",
            id=row.device_id,
            machine_type=row.machine_type,
            profile_w=profile,
            earliest_start=earliest,
            latest_end=latest_end,
        )

    def _profile(self, row: MachineRow, notes: _Notes) -> tuple[list[float], str]:
        """The learned cycle of the machine's power item, else the default one [W per step]."""
        item = row.power_item_id
        learned = None if item is None else self.measurements.cycle_profiles_w.get(item)
        if learned is None:
            return list(DEFAULT_CYCLE_W), "default"
        if not learned or not all(math.isfinite(p) and p >= 0 for p in learned):
            notes.add(
                Notice.ROW_REPAIRED, f"learned cycle of power item {item} is unusable: default"
            )
            return list(DEFAULT_CYCLE_W), "default"
        return list(learned), "learned"

    @staticmethod
    def _max_wait_s(row: MachineRow, notes: _Notes) -> int:
        if row.max_wait_s is None or row.max_wait_s < 0:
            notes.add(
                Notice.ROW_REPAIRED,
                f"delai_attente_maximale_apres_fin is {_shown(row.max_wait_s)}: 0 s, "
                "the cycle ends at the wanted end",
            )
            return 0
        return row.max_wait_s

    # water heater ----------------------------------------------------------------------

    def water_heater(self, row: WaterHeaterRow, notes: _Notes) -> WaterHeaterSpec | None:
        if self._started_now(row.device_id, notes) or self._resting(row, notes):
            return None
        power = _quantity(row.power_w, "puissance_chauffe")
        windows = self._off_peak_windows(row, notes)
        return WaterHeaterSpec(
            type="water_heater",
            id=row.device_id,
            machine_type=row.machine_type,
            power_w=power,
            energy_wh=self._energy_wh(row, notes),
            windows=windows,
        )

    def _resting(self, row: WaterHeaterRow, notes: _Notes) -> bool:
        """Whether commande switched the tank on less than 12 h before the round start."""
        last_on, start = row.last_switched_on, self.grid.round_start
        if last_on is None:
            log.info("device %s: never switched on (NULL), planned", row.device_id)
            return False
        if last_on > start:
            notes.add(
                Notice.ROW_REPAIRED,
                f"timestamp_derniere_mise_en_marche {last_on} is after the round start: "
                "treated as long ago",
            )
            return False
        if start - last_on < WATER_HEATER_REST_S:
            log.info(
                "device %s: switched on %.1f h before the round start, not planned before 12 h",
                row.device_id,
                (start - last_on) / 3600,
            )
            notes.leave_out(None, "switched on less than 12 h ago")
            return True
        return False

    def _off_peak_windows(self, row: WaterHeaterRow, notes: _Notes) -> list[Interval]:
        """Every active window of the days considered [Unix s], merged, cut to the horizon."""
        if not row.windows:
            raise SkipDevice(Tag.IGNORED, "no active off-peak window")
        hours = [
            _daily_hours(w.start_s, w.end_s, f"off-peak window {w.row_id}", notes)
            for w in row.windows
        ]
        usable = [h for h in hours if h is not None]
        if not usable:
            raise SkipDevice(Tag.IGNORED, "no usable active off-peak window")
        daily = [local_interval(day, a, b, self.tz) for day in self.days for a, b in usable]
        return self._cut_to_horizon(merge_intervals(daily))

    def _energy_wh(self, row: WaterHeaterRow, notes: _Notes) -> float:
        """The energy measured over the last 24 h, else the full tank's reheat [Wh]."""
        item = row.power_item_id
        measured = None if item is None else self.measurements.water_heater_energy_wh.get(item)
        if measured is not None and math.isfinite(measured) and measured >= 0:
            return measured
        volume = row.volume_l
        if volume is None or not (math.isfinite(volume) and volume > 0):
            raise SkipDevice(
                Tag.DATABASE,
                f"no usable energy measured (power item {item}: {_shown(measured)}) and no usable "
                f"tank volume ({_shown(volume)} L)",
                "no usable energy measured and no usable tank volume",
            )
        energy = volume * FULL_REHEAT_WH_PER_L
        notes.add(
            Notice.ROW_REPAIRED,
            f"no usable energy measured over the last 24 h (power item {item}: "
            f"{_shown(measured)}): the full {volume:g} L tank's reheat from 10 to 60 °C, "
            f"{energy:.0f} Wh",
        )
        return energy

    # EV --------------------------------------------------------------------------------

    def ev(self, row: EvRow, notes: _Notes) -> EvSpec | None:
        if self._started_now(row.device_id, notes):
            return None
        power = _quantity(row.power_w, "puissance_de_charge")
        capacity = _quantity(row.capacity_wh, "capacite_de_batterie", MAX_BATTERY_WH)
        soc = _percent(row.soc_pct, "pourcentage_charge_restant", 0.0, notes)
        target_column = "pourcentage_charge_finale_minimale_souhaitee"
        target = _percent(row.target_soc_pct, target_column, 100.0, notes)
        if target < soc:
            notes.add(
                Notice.ROW_REPAIRED,
                f"target {target:g} % is below the current charge {soc:g} %: the current "
                "charge is the target (nothing owed)",
            )
            target = soc
        deadline = row.deadline
        if deadline is None:
            notes.add(Notice.ROW_REPAIRED, "timestamp_dispo_souhaitee is NULL: as soon as possible")
            deadline = self.grid.round_start
        return EvSpec(
            type="ev",
            id=row.device_id,
            machine_type=row.machine_type,
            power_w=power,
            capacity_wh=capacity,
            soc_pct=soc,
            target_soc_pct=target,
            available_from=self.grid.round_start,
            deadline=deadline,
        )

    # heaters ---------------------------------------------------------------------------

    def _comfort_intervals(self, programme: Programme, notes: _Notes) -> list[Interval]:
        """The active comfort periods of the days considered [Unix s], in start order."""
        intervals: list[Interval] = []
        for label, periods in (("semaine", programme.weekday), ("weekend", programme.weekend)):
            days = [d for d in self.days if (d.weekday() < 5) == (label == "semaine")]
            for number, period in enumerate(periods, start=1):
                name = f"prog_{label}_periode_{number}"
                if not period.active:
                    continue
                hours = _daily_hours(period.start_s, period.end_s, name, notes)
                if hours is None:
                    continue
                if hours[1] < hours[0]:
                    notes.add(
                        Notice.ROW_REPAIRED, f"{name} ends before it starts: crosses midnight"
                    )
                intervals += [local_interval(day, *hours, self.tz) for day in days]
        return sorted((a, b) for a, b in intervals if a < b)  # a period in a DST gap is empty

    def thermostatic_heater(
        self, row: ThermostaticHeaterRow, notes: _Notes
    ) -> ThermostaticHeaterSpec:
        outdoor = self.measurements.outdoor_temp_c
        if outdoor is None or len(outdoor) != self.grid.steps:
            raise SkipDevice(Tag.DATABASE, "no outdoor temperature forecast for the horizon")
        r_k_per_w, c_j_per_k = self._thermal_model(row.thermal_model_id)
        power = _quantity(row.power_w, "puissance")
        eco_c = self._setpoint_c(row.eco_dk, "temperature_eco")
        comfort_c = self._setpoint_c(row.comfort_dk, "temperature_confort")
        half_k = self._half_band_k(row.half_band_dk, notes)
        comfort = self._comfort_intervals(row.programme, notes)
        step_ends = (self.grid.time_of(k + 1) for k in range(self.grid.steps))
        centre = [comfort_c if any(a <= t < b for a, b in comfort) else eco_c for t in step_ends]
        return ThermostaticHeaterSpec(
            type="thermostatic_heater",
            id=row.device_id,
            machine_type=row.machine_type,
            power_w=power,
            r_k_per_w=r_k_per_w,
            c_j_per_k=c_j_per_k,
            initial_temp_c=self._room_temp_c(row.temperature_item_id, centre[0], notes),
            comfort_min_c=[c - half_k for c in centre],
            comfort_max_c=[c + half_k for c in centre],
        )

    def _thermal_model(self, model_id: int | None) -> tuple[float, float]:
        """``(R [K/W], C [J/K])`` of the heater's model, or the device is skipped."""
        model = None if model_id is None else self.thermal_models.get(model_id)
        if model is None:
            raise SkipDevice(
                Tag.IMPOSSIBLE, f"unknown thermal model {model_id}", "unknown thermal model"
            )
        if not all(math.isfinite(v) and v > 0 for v in model):
            raise SkipDevice(
                Tag.IMPOSSIBLE,
                f"thermal model {model_id} has R, C = {model}",
                "unusable thermal model",
            )
        return model

    @staticmethod
    def _setpoint_c(value_dk: float | None, column: str) -> float:
        """A setpoint [dK] in °C, or the device is skipped."""
        if value_dk is None:
            raise SkipDevice(Tag.DATABASE, f"{column} is NULL")
        celsius = (value_dk - KELVIN_DK) / 10
        low, high = ROOM_SETPOINT_RANGE_C
        if not low <= celsius <= high:  # also false for NaN
            raise SkipDevice(
                Tag.IMPOSSIBLE,
                f"{column} {value_dk:g} dK ({celsius:g} °C) is not a room setpoint",
                f"{column} is not a room setpoint",
            )
        return celsius

    @staticmethod
    def _half_band_k(value_dk: float | None, notes: _Notes) -> float:
        if value_dk is None or not (math.isfinite(value_dk) and value_dk >= 0):
            notes.add(
                Notice.ROW_REPAIRED,
                f"delta_temp_maximale_temp_demandee is {_shown(value_dk)}: "
                f"{DEFAULT_HALF_BAND_DK:g} dK assumed",
            )
            return DEFAULT_HALF_BAND_DK / 10
        return value_dk / 10

    def _room_temp_c(self, item: int | None, fallback_c: float, notes: _Notes) -> float:
        measured = None if item is None else self.measurements.room_temp_c.get(item)
        if measured is None or not math.isfinite(measured):
            notes.add(
                Notice.ROW_REPAIRED,
                f"no room temperature (item {item}): {fallback_c:g} °C assumed, the middle "
                "of the first step's band",
            )
            return fallback_c
        return measured

    def pilot_wire_heater(self, row: PilotWireHeaterRow, notes: _Notes) -> PilotWireHeaterSpec:
        eco = _quantity(row.eco_power_w, "puissance_moyenne_eco")
        comfort = _quantity(row.comfort_power_w, "puissance_moyenne_confort")
        forced_eco_pct = _percent(row.forced_eco_pct, "pourcentage_eco_force", 0.0, notes)
        step_s, start = self.grid.step_s, self.grid.round_start
        snapped = [
            (start + (a - start) // step_s * step_s, start - (start - b) // step_s * step_s)
            for a, b in self._comfort_intervals(row.programme, notes)
        ]
        merged = [p for p in merge_intervals(snapped) if p[1] > start and p[0] < self.grid.end]
        periods = [self._comfort_period(row.device_id, p, forced_eco_pct) for p in merged]
        in_progress = [a for a, _ in merged if a < start]
        return PilotWireHeaterSpec(
            type="pilot_wire_heater",
            id=row.device_id,
            machine_type=row.machine_type,
            eco_power_w=eco,
            comfort_power_w=comfort,
            comfort_periods=periods,
            window_steps=PILOT_WINDOW_STEPS,
            min_comfort_in_window=PILOT_MIN_COMFORT_IN_WINDOW,
            applied_before=self._applied_before(row.device_id, in_progress[0])
            if in_progress
            else [],
        )

    def _applied_before(self, device_id: int, period_start: int) -> list[int]:
        """The decisions applied on the last ``PILOT_WINDOW_STEPS - 1`` steps before the round
        start that are in the period beginning at ``period_start`` [Unix s], oldest first;
        only those after the latest step without any published decision."""
        step_s, start = self.grid.step_s, self.grid.round_start
        applied: list[int] = []
        for t in range(start - step_s, period_start - 1, -step_s)[: PILOT_WINDOW_STEPS - 1]:
            decision = self.history.applied_decision(device_id, t, step_s)
            if decision is None:
                break
            applied.append(decision)
        return applied[::-1]

    def _comfort_period(
        self, device_id: int, period: Interval, forced_eco_pct: float
    ) -> ComfortPeriod:
        """A whole period on the grid, cut to the horizon, with the comfort steps it still
        owes there (see the module docstring)."""
        step_s, round_start = self.grid.step_s, self.grid.round_start
        start, end = period
        whole = (end - start) // step_s
        owed = math.ceil(round((100 - forced_eco_pct) * whole / 100, ROUNDING_DIGITS))
        given = sum(
            1
            for t in range(start, min(end, round_start), step_s)
            if self.history.applied_decision(device_id, t, step_s)
        )
        first, last = max(start, round_start), min(end, self.grid.end)
        still_owed = max(0, owed - given)
        remaining = (end - first) // step_s
        in_horizon = (last - first) // step_s
        share = -(-still_owed * in_horizon // remaining)  # rounded up
        return ComfortPeriod(start=first, end=last, min_comfort_steps=share)
