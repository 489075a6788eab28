"""Reading the coordination database (spec ``docs/spec/elfe.md`` §1): the devices a round may plan.

Only devices in mode 30 (piloted) are planned; :func:`read_measured_items` gives the
measurement items of every device that is not disabled. Each device kind comes back as frozen
dataclasses of its rows, every value exactly as stored: any of them may be ``None`` (SQL NULL)
or absurd, and nothing is repaired here (that is :mod:`elfe_ems.round.inputs`' job, which logs
each repair). Numbers are converted to ``int`` or ``float`` whatever their SQL type (``integer``,
``numeric``, ``double precision``); a non-finite value where the spec has an ``int`` reads as
``None``.

A row with a value of the wrong kind (text where a number or a boolean belongs, which SQLite
or a text column allows; a text that spells a number is read as that number) is left out of
its kind and listed in :attr:`CoordinationRows.unreadable`, naming its column and value: one
bad row never stops the reading of the others.

Columns are read by name: the tables below declare only the columns this module reads, on a
private :class:`~sqlalchemy.MetaData`, and nothing is reflected. Table names are unqualified,
so the schema is the connection's search path (e.g. the URL option
``options=-c search_path=elfe,public`` on PostgreSQL). The same statements run on SQLite.

Units as in the spec: times are Unix seconds UTC, durations seconds, hours of day seconds after
local midnight, powers W, energies Wh, temperatures deci-kelvin (dK), percentages %.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Engine,
    Float,
    Integer,
    MetaData,
    RowMapping,
    Select,
    Table,
    Text,
    select,
    true,
)

from elfe_ems.device_types import (
    DISHWASHER,
    DRYER,
    EV,
    PILOT_WIRE_HEATER,
    THERMOSTATIC_HEATER,
    WASHING_MACHINE,
    WATER_HEATER,
)

log = logging.getLogger(__name__)

MODE_PILOTED = 30
"""``equipement_pilote_ou_mesure_mode_id`` of a device the EMS plans."""

SHOWN_CHARS = 40
"""A stored value in a message is cut to this many characters."""

BOOLEAN_TEXTS = {"t": True, "true": True, "1": True, "f": False, "false": False, "0": False}
"""The texts read as a boolean, lower case."""

_Row = TypeVar("_Row")

COORDINATION = MetaData()
"""The coordination tables, reduced to the columns read here (not the full schema)."""

equipement = Table(
    "equipement_pilote_ou_mesure",
    COORDINATION,
    Column("id", Integer, primary_key=True),
    Column("equipement_pilote_ou_mesure_type_id", Integer),
    Column("equipement_pilote_ou_mesure_mode_id", Integer),
    Column("timestamp_derniere_mise_en_marche", BigInteger),
)

machine = Table(
    "equipement_pilote_machine_generique",
    COORDINATION,
    Column("id", Integer, primary_key=True),
    Column("equipement_pilote_ou_mesure_id", Integer),
    Column("timestamp_de_fin_souhaite", BigInteger),
    Column("delai_attente_maximale_apres_fin", Integer),
    Column("cycle_equipement_pilote_machine_generique_id", Integer),
    Column("mesures_puissance_elec_id", BigInteger),
)

machine_cycle = Table(
    "equipement_pilote_machine_generique_cycle",
    COORDINATION,
    Column("id", Integer, primary_key=True),
    Column("nom", Text),
)

ballon = Table(
    "equipement_pilote_ballon_ecs",
    COORDINATION,
    Column("id", Integer, primary_key=True),
    Column("equipement_pilote_ou_mesure_id", Integer),
    Column("volume_ballon", Float),
    Column("puissance_chauffe", Float),
    Column("mesures_puissance_elec_id", BigInteger),
)

heures_creuses = Table(
    "equipement_pilote_ballon_ecs_heures_creuses",
    COORDINATION,
    Column("id", Integer, primary_key=True),
    Column("equipement_pilote_ballon_ecs_id", Integer),
    Column("actif", Boolean),
    Column("debut", Integer),
    Column("fin", Integer),
)

vehicule = Table(
    "equipement_pilote_vehicule_electrique_generique",
    COORDINATION,
    Column("id", Integer, primary_key=True),
    Column("equipement_pilote_ou_mesure_id", Integer),
    Column("pourcentage_charge_restant", Float),
    Column("pourcentage_charge_finale_minimale_souhaitee", Float),
    Column("timestamp_dispo_souhaitee", BigInteger),
    Column("puissance_de_charge", Float),
    Column("capacite_de_batterie", Float),
)

_PROGRAMME_PERIODS = (
    "semaine_periode_1",
    "semaine_periode_2",
    "weekend_periode_1",
    "weekend_periode_2",
)


def _programme_columns() -> list[Column[Any]]:
    """The 12 programme columns shared by both heater tables."""
    columns: list[Column[Any]] = []
    for period in _PROGRAMME_PERIODS:
        columns += [
            Column(f"prog_{period}_confort_actif", Boolean),
            Column(f"prog_{period}_heure_debut", Integer),
            Column(f"prog_{period}_heure_fin", Integer),
        ]
    return columns


chauffage_asservi = Table(
    "equipement_pilote_chauffage_asservi",
    COORDINATION,
    Column("id", Integer, primary_key=True),
    Column("equipement_pilote_ou_mesure_id", Integer),
    Column("temperature_eco", Float),
    Column("temperature_confort", Float),
    Column("delta_temp_maximale_temp_demandee", Float),
    Column("puissance", Float),
    Column("modele_thermique_id", Integer),
    Column("mesure_temperature_id", BigInteger),
    *_programme_columns(),
)

chauffage_non_asservi = Table(
    "equipement_pilote_chauffage_non_asservi",
    COORDINATION,
    Column("id", Integer, primary_key=True),
    Column("equipement_pilote_ou_mesure_id", Integer),
    Column("puissance_moyenne_eco", Float),
    Column("puissance_moyenne_confort", Float),
    Column("pourcentage_eco_force", Float),
    *_programme_columns(),
)


TYPES_OF_TABLE = {
    machine.name: (WASHING_MACHINE, DISHWASHER, DRYER),
    ballon.name: (WATER_HEATER,),
    vehicule.name: (EV,),
    chauffage_asservi.name: (THERMOSTATIC_HEATER,),
    chauffage_non_asservi.name: (PILOT_WIRE_HEATER,),
}
"""The device types a row of each piloted device's table may have."""


# --- rows ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MachineRow:
    """A washing machine, dishwasher or dryer, with its cycle row when one is joined."""

    device_id: int  # equipement_pilote_ou_mesure.id
    machine_type: int | None  # equipement_pilote_ou_mesure_type_id
    row_id: int  # equipement_pilote_machine_generique.id
    wanted_end: int | None  # timestamp_de_fin_souhaite [Unix s]
    max_wait_s: int | None  # delai_attente_maximale_apres_fin [s]
    cycle_id: int | None  # the machine's cycle_equipement_pilote_machine_generique_id
    cycle_name: str | None  # the joined cycle row's nom
    cycle_found: bool  # whether a cycle row with id cycle_id exists
    power_item_id: int | None  # mesures_puissance_elec_id: key of the learned cycle


@dataclass(frozen=True)
class OffPeakWindowRow:
    """An active off-peak window of a tank, in seconds after local midnight (may cross it)."""

    row_id: int
    start_s: int | None  # debut
    end_s: int | None  # fin; below debut when the window crosses midnight


@dataclass(frozen=True)
class WaterHeaterRow:
    """A hot-water tank with its active off-peak windows."""

    device_id: int
    machine_type: int | None
    row_id: int  # equipement_pilote_ballon_ecs.id
    last_switched_on: int | None  # timestamp_derniere_mise_en_marche [Unix s]
    volume_l: float | None  # volume_ballon [L]
    power_w: float | None  # puissance_chauffe [W]
    power_item_id: int | None  # mesures_puissance_elec_id: key of the measured energy
    windows: tuple[OffPeakWindowRow, ...]  # only the active ones, by row id


@dataclass(frozen=True)
class EvRow:
    """An electric vehicle on a switched plug."""

    device_id: int
    machine_type: int | None
    row_id: int  # equipement_pilote_vehicule_electrique_generique.id
    soc_pct: float | None  # pourcentage_charge_restant [%]
    target_soc_pct: float | None  # pourcentage_charge_finale_minimale_souhaitee [%]
    deadline: int | None  # timestamp_dispo_souhaitee [Unix s]
    power_w: float | None  # puissance_de_charge [W]
    capacity_wh: float | None  # capacite_de_batterie [Wh]


@dataclass(frozen=True)
class ProgrammePeriod:
    """One comfort period of a heater's programme, in seconds after local midnight."""

    active: bool | None  # prog_…_confort_actif
    start_s: int | None  # prog_…_heure_debut
    end_s: int | None  # prog_…_heure_fin


@dataclass(frozen=True)
class Programme:
    """A heater's weekly programme: two periods for Monday to Friday, two for the weekend."""

    weekday: tuple[ProgrammePeriod, ProgrammePeriod]  # prog_semaine_periode_1, _2
    weekend: tuple[ProgrammePeriod, ProgrammePeriod]  # prog_weekend_periode_1, _2


@dataclass(frozen=True)
class ThermostaticHeaterRow:
    """A heater driven on/off against a thermal model ("chauffage asservi")."""

    device_id: int
    machine_type: int | None
    row_id: int  # equipement_pilote_chauffage_asservi.id
    eco_dk: float | None  # temperature_eco [dK]
    comfort_dk: float | None  # temperature_confort [dK]
    half_band_dk: float | None  # delta_temp_maximale_temp_demandee [dK]
    power_w: float | None  # puissance [W]
    thermal_model_id: int | None  # modele_thermique_id
    temperature_item_id: int | None  # mesure_temperature_id: key of the room temperature
    programme: Programme


@dataclass(frozen=True)
class PilotWireHeaterRow:
    """A heater switched between comfort and eco by its pilot wire ("chauffage non asservi")."""

    device_id: int
    machine_type: int | None
    row_id: int  # equipement_pilote_chauffage_non_asservi.id
    eco_power_w: float | None  # puissance_moyenne_eco [W]
    comfort_power_w: float | None  # puissance_moyenne_confort [W]
    forced_eco_pct: float | None  # pourcentage_eco_force [% of the comfort time]
    programme: Programme


@dataclass(frozen=True)
class DeviceEntry:
    """A device of ``equipement_pilote_ou_mesure``, whatever its mode: what a round accounts
    for (planned, relaxed or left out, and why)."""

    device_id: int
    type_id: int | None  # equipement_pilote_ou_mesure_type_id
    mode: int | None  # equipement_pilote_ou_mesure_mode_id (30: piloted)


@dataclass(frozen=True)
class UnreadableRow:
    """A row that cannot be read: a value of the wrong kind (text where a number belongs)."""

    table: str
    row_id: str  # as stored, shown (it may be the value that cannot be read)
    device_id: int | None  # None when the row's device id cannot be read
    column: str  # the column whose value cannot be read
    reason: str  # which column, and its value

    @classmethod
    def of(
        cls, table: Table, row: RowMapping, device_id: int | None, error: UnreadableValueError
    ) -> UnreadableRow:
        """The row ``row`` of ``table``, unreadable for ``error``."""
        return cls(table.name, _shown(row["id"]), device_id, error.column, str(error))

    def __str__(self) -> str:
        return f"{self.table} row {self.row_id}: {self.reason}"


@dataclass(frozen=True)
class CoordinationRows:
    """Every piloted device of the coordination database, by kind, each kind by device id."""

    machines: tuple[MachineRow, ...] = ()
    water_heaters: tuple[WaterHeaterRow, ...] = ()
    evs: tuple[EvRow, ...] = ()
    thermostatic_heaters: tuple[ThermostaticHeaterRow, ...] = ()
    pilot_wire_heaters: tuple[PilotWireHeaterRow, ...] = ()
    devices: tuple[DeviceEntry, ...] = ()  # every device of the database, in any mode
    unreadable: tuple[UnreadableRow, ...] = ()  # rows left out: a value of the wrong kind


# --- reading -------------------------------------------------------------------------------


def read_coordination(bind: Connection | Engine) -> CoordinationRows:
    """Every device in mode 30, read by column name, and the list of every device in any mode
    (:attr:`CoordinationRows.devices`).

    With an :class:`~sqlalchemy.Engine`, one connection is opened for the five reads and closed
    after; a :class:`~sqlalchemy.Connection` is used as it is (its transaction is the caller's).
    """
    if isinstance(bind, Engine):
        with bind.connect() as connection:
            return read_coordination(connection)
    unreadable: list[UnreadableRow] = []

    def each(
        table: Table, read: Callable[[RowMapping], _Row], query: Select[Any]
    ) -> tuple[_Row, ...]:
        return _each(_rows(bind, query), table, read, unreadable)

    return CoordinationRows(
        machines=each(machine, _machine, _machines_query()),
        water_heaters=_water_heaters(bind, unreadable),
        evs=each(vehicule, _ev, _piloted(vehicule)),
        thermostatic_heaters=each(chauffage_asservi, _thermostatic, _piloted(chauffage_asservi)),
        pilot_wire_heaters=each(
            chauffage_non_asservi, _pilot_wire, _piloted(chauffage_non_asservi)
        ),
        devices=_devices(bind, unreadable),
        unreadable=tuple(unreadable),
    )


def _devices(connection: Connection, unreadable: list[UnreadableRow]) -> tuple[DeviceEntry, ...]:
    query = select(
        equipement.c.id,
        equipement.c.equipement_pilote_ou_mesure_type_id,
        equipement.c.equipement_pilote_ou_mesure_mode_id,
    ).order_by(equipement.c.id)
    entries = []
    for row in _rows(connection, query):
        try:
            device_id = _identifier(row, "id")
        except UnreadableValueError as error:
            unreadable.append(UnreadableRow.of(equipement, row, None, error))
            continue
        try:
            type_id = _int(row, "equipement_pilote_ou_mesure_type_id")
        except UnreadableValueError:
            type_id = None  # a piloted device's row says it (its kind's reading fails on it)
        try:
            mode = _int(row, "equipement_pilote_ou_mesure_mode_id")
        except UnreadableValueError as error:
            # still counted: a device whose mode cannot be read is not planned
            unreadable.append(UnreadableRow.of(equipement, row, device_id, error))
            mode = None
        entries.append(DeviceEntry(device_id, type_id, mode))
    return tuple(entries)


def _rows(connection: Connection, query: Select[Any]) -> list[RowMapping]:
    return list(connection.execute(query).mappings())


def _piloted(table: Table, *extra: Any) -> Select[Any]:
    """``table``'s columns and its device's, for devices in mode 30, by device id and row id."""
    return (
        select(
            equipement.c.id.label("device_id"),
            equipement.c.equipement_pilote_ou_mesure_type_id,
            equipement.c.timestamp_derniere_mise_en_marche,
            *table.c,
            *extra,
        )
        .join_from(equipement, table, table.c.equipement_pilote_ou_mesure_id == equipement.c.id)
        .where(equipement.c.equipement_pilote_ou_mesure_mode_id == MODE_PILOTED)
        .order_by(equipement.c.id, table.c.id)
    )


def _machines_query() -> Select[Any]:
    cycle_id = machine.c.cycle_equipement_pilote_machine_generique_id
    return _piloted(
        machine, machine_cycle.c.id.label("cycle_row_id"), machine_cycle.c.nom.label("cycle_nom")
    ).outerjoin(machine_cycle, machine_cycle.c.id == cycle_id)


def _water_heaters(
    connection: Connection, unreadable: list[UnreadableRow]
) -> tuple[WaterHeaterRow, ...]:
    """The tanks with their active windows; a tank with a window that cannot be read is
    unreadable too (planned without it, it could heat at the wrong time)."""
    windows_query = (
        select(heures_creuses)
        .join(ballon, ballon.c.id == heures_creuses.c.equipement_pilote_ballon_ecs_id)
        .join(equipement, equipement.c.id == ballon.c.equipement_pilote_ou_mesure_id)
        .where(
            equipement.c.equipement_pilote_ou_mesure_mode_id == MODE_PILOTED,
            heures_creuses.c.actif.is_(true()),
        )
        .order_by(heures_creuses.c.id)
    )
    windows: defaultdict[object, list[OffPeakWindowRow]] = defaultdict(list)
    bad_windows: dict[object, UnreadableValueError] = {}
    for row in _rows(connection, windows_query):
        tank_id = row["equipement_pilote_ballon_ecs_id"]
        try:
            windows[tank_id].append(
                OffPeakWindowRow(
                    row_id=_identifier(row, "id"),
                    start_s=_int(row, "debut"),
                    end_s=_int(row, "fin"),
                )
            )
        except UnreadableValueError as error:
            where = f"{heures_creuses.name} row {_shown(row['id'])}: "
            bad_windows[tank_id] = UnreadableValueError(
                error.column, error.value, error.wanted, where
            )

    def tank(row: RowMapping) -> WaterHeaterRow:
        if row["id"] in bad_windows:
            raise bad_windows[row["id"]]
        return WaterHeaterRow(
            device_id=_identifier(row, "device_id"),
            machine_type=_int(row, "equipement_pilote_ou_mesure_type_id"),
            row_id=_identifier(row, "id"),
            last_switched_on=_int(row, "timestamp_derniere_mise_en_marche"),
            volume_l=_float(row, "volume_ballon"),
            power_w=_float(row, "puissance_chauffe"),
            power_item_id=_int(row, "mesures_puissance_elec_id"),
            windows=tuple(windows[row["id"]]),
        )

    return _each(_rows(connection, _piloted(ballon)), ballon, tank, unreadable)


def _machine(row: RowMapping) -> MachineRow:
    return MachineRow(
        device_id=_identifier(row, "device_id"),
        machine_type=_int(row, "equipement_pilote_ou_mesure_type_id"),
        row_id=_identifier(row, "id"),
        wanted_end=_int(row, "timestamp_de_fin_souhaite"),
        max_wait_s=_int(row, "delai_attente_maximale_apres_fin"),
        cycle_id=_int(row, "cycle_equipement_pilote_machine_generique_id"),
        cycle_name=None if row["cycle_nom"] is None else str(row["cycle_nom"]),
        cycle_found=row["cycle_row_id"] is not None,
        power_item_id=_int(row, "mesures_puissance_elec_id"),
    )


def _ev(row: RowMapping) -> EvRow:
    return EvRow(
        device_id=_identifier(row, "device_id"),
        machine_type=_int(row, "equipement_pilote_ou_mesure_type_id"),
        row_id=_identifier(row, "id"),
        soc_pct=_float(row, "pourcentage_charge_restant"),
        target_soc_pct=_float(row, "pourcentage_charge_finale_minimale_souhaitee"),
        deadline=_int(row, "timestamp_dispo_souhaitee"),
        power_w=_float(row, "puissance_de_charge"),
        capacity_wh=_float(row, "capacite_de_batterie"),
    )


def _programme(row: RowMapping) -> Programme:
    def period(name: str) -> ProgrammePeriod:
        return ProgrammePeriod(
            active=_bool(row, f"prog_{name}_confort_actif"),
            start_s=_int(row, f"prog_{name}_heure_debut"),
            end_s=_int(row, f"prog_{name}_heure_fin"),
        )

    return Programme(
        weekday=(period("semaine_periode_1"), period("semaine_periode_2")),
        weekend=(period("weekend_periode_1"), period("weekend_periode_2")),
    )


def _thermostatic(row: RowMapping) -> ThermostaticHeaterRow:
    return ThermostaticHeaterRow(
        device_id=_identifier(row, "device_id"),
        machine_type=_int(row, "equipement_pilote_ou_mesure_type_id"),
        row_id=_identifier(row, "id"),
        eco_dk=_float(row, "temperature_eco"),
        comfort_dk=_float(row, "temperature_confort"),
        half_band_dk=_float(row, "delta_temp_maximale_temp_demandee"),
        power_w=_float(row, "puissance"),
        thermal_model_id=_int(row, "modele_thermique_id"),
        temperature_item_id=_int(row, "mesure_temperature_id"),
        programme=_programme(row),
    )


def _pilot_wire(row: RowMapping) -> PilotWireHeaterRow:
    return PilotWireHeaterRow(
        device_id=_identifier(row, "device_id"),
        machine_type=_int(row, "equipement_pilote_ou_mesure_type_id"),
        row_id=_identifier(row, "id"),
        eco_power_w=_float(row, "puissance_moyenne_eco"),
        comfort_power_w=_float(row, "puissance_moyenne_confort"),
        forced_eco_pct=_float(row, "pourcentage_eco_force"),
        programme=_programme(row),
    )


class UnreadableValueError(ValueError):
    """A stored value of the wrong kind: text where a number or a boolean belongs (SQLite, or a
    text column on a real database). ``where``: the row it is in, when not the row read."""

    def __init__(self, column: str, value: object, wanted: str, where: str = "") -> None:
        self.column, self.value, self.wanted = column, value, wanted
        super().__init__(f"{where}{column} is {_shown(value)}, not {wanted}")


def _shown(value: object) -> str:
    """A stored value for a message, cut short (it may be any text)."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def _number(row: Mapping[Any, Any], column: str) -> float | int | Decimal | None:
    """``row[column]`` as stored if it is a number (or NULL); a text that spells a number is
    read as that number."""
    value = row[column]
    if value is None or (isinstance(value, int | float | Decimal) and not isinstance(value, bool)):
        return value
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise UnreadableValueError(column, value, "a number")


def _float(row: Mapping[Any, Any], column: str) -> float | None:
    """A stored number as a float (NaN and infinities kept: judged later)."""
    value = _number(row, column)
    return None if value is None else float(value)


def _int(row: Mapping[Any, Any], column: str) -> int | None:
    """A stored number as an int (truncated); a non-finite number reads as ``None``."""
    value = _number(row, column)
    if value is None or not math.isfinite(value):
        return None
    return int(value)


def _bool(row: Mapping[Any, Any], column: str) -> bool | None:
    """A stored boolean: ``true``/``false``, 1/0 or their usual spellings as text."""
    value = row[column]
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in BOOLEAN_TEXTS:
        return BOOLEAN_TEXTS[value.strip().lower()]
    raise UnreadableValueError(column, value, "a boolean")


def _identifier(row: Mapping[Any, Any], column: str) -> int:
    """A row's or a device's id: an integer, never NULL."""
    value = _int(row, column)
    if value is None:
        raise UnreadableValueError(column, row[column], "an id")
    return value


def _each(
    rows: Iterable[RowMapping],
    table: Table,
    read: Callable[[RowMapping], _Row],
    unreadable: list[UnreadableRow],
) -> tuple[_Row, ...]:
    """``read`` of every row of ``table``; a row with a value of the wrong kind is left out
    and added to ``unreadable``."""
    kept: list[_Row] = []
    for row in rows:
        try:
            kept.append(read(row))
        except UnreadableValueError as error:
            unreadable.append(UnreadableRow.of(table, row, _device(row), error))
    return tuple(kept)


def _device(row: Mapping[Any, Any]) -> int | None:
    """The device id of a row, None when it cannot be read."""
    try:
        return _identifier(row, "device_id")
    except UnreadableValueError:
        return None


# --- measured items ------------------------------------------------------------------------

MODE_DISABLED = 70
"""``equipement_pilote_ou_mesure_mode_id`` of a disabled device: not measured either."""


@dataclass(frozen=True)
class MeasuredItems:
    """The Zabbix items the acquisition jobs read, by device kind, sorted and without NULLs.

    Every device that is not disabled counts, whatever its mode: a machine's cycle is learned
    while its user runs it by hand as well, so the round has it when the machine is piloted.
    """

    machine_power: tuple[int, ...]  # mesures_puissance_elec_id of the machines
    water_heater_power: tuple[int, ...]  # mesures_puissance_elec_id of the hot-water tanks
    room_temperature: tuple[int, ...]  # mesure_temperature_id of the thermostatic heaters
    without_item: tuple[tuple[int, str], ...] = ()
    """(device id, column) of each piloted device whose item column is NULL: a configuration
    error (its cycle, energy or room temperature cannot be measured)."""


def read_measured_items(bind: Connection | Engine) -> MeasuredItems:
    """The items of :class:`MeasuredItems`, read by column name."""
    if isinstance(bind, Engine):
        with bind.connect() as connection:
            return read_measured_items(connection)

    def items(table: Table, column: str) -> tuple[int, ...]:
        item = table.c[column]
        query = (
            select(item)
            .distinct()
            .join_from(equipement, table, table.c.equipement_pilote_ou_mesure_id == equipement.c.id)
            .where(
                item.is_not(None),
                equipement.c.equipement_pilote_ou_mesure_mode_id.is_distinct_from(MODE_DISABLED),
            )
        )
        ids = set()
        for value in bind.execute(query).scalars():
            try:
                ids.add(_identifier({column: value}, column))
            except UnreadableValueError as error:
                log.warning("[WARN_IGNORED] %s: %s: not measured", table.name, error)
        return tuple(sorted(ids))

    def without_item(table: Table, column: str) -> list[tuple[int, str]]:
        query = (
            select(equipement.c.id)
            .join_from(equipement, table, table.c.equipement_pilote_ou_mesure_id == equipement.c.id)
            .where(
                table.c[column].is_(None),
                equipement.c.equipement_pilote_ou_mesure_mode_id == MODE_PILOTED,
            )
        )
        devices = (_device({"device_id": d}) for d in bind.execute(query).scalars())
        return [(d, f"{table.name}.{column}") for d in devices if d is not None]

    return MeasuredItems(
        machine_power=items(machine, "mesures_puissance_elec_id"),
        water_heater_power=items(ballon, "mesures_puissance_elec_id"),
        room_temperature=items(chauffage_asservi, "mesure_temperature_id"),
        without_item=tuple(
            sorted(
                without_item(machine, "mesures_puissance_elec_id")
                + without_item(ballon, "mesures_puissance_elec_id")
                + without_item(chauffage_asservi, "mesure_temperature_id")
            )
        ),
    )
