"""Rows of the coordination database's tables, as the tests insert them (spec docs/spec/elfe.md
§1)."""

from __future__ import annotations

from typing import Any

Period = tuple[bool | None, int | None, int | None]  # confort_actif, heure_debut, heure_fin
OFF: Period = (False, None, None)


def programme(
    semaine: tuple[Period, Period] = (OFF, OFF), weekend: tuple[Period, Period] = (OFF, OFF)
) -> dict[str, Any]:
    """The 12 programme columns of a heater row."""
    columns: dict[str, Any] = {}
    for label, periods in (("semaine", semaine), ("weekend", weekend)):
        for number, (active, start, end) in enumerate(periods, start=1):
            prefix = f"prog_{label}_periode_{number}"
            columns[f"{prefix}_confort_actif"] = active
            columns[f"{prefix}_heure_debut"] = start
            columns[f"{prefix}_heure_fin"] = end
    return columns


def device(
    device_id: int, type_id: int, mode: int = 30, last_on: int | None = None, **extra: Any
) -> dict[str, Any]:
    """An ``equipement_pilote_ou_mesure`` row."""
    return {
        "id": device_id,
        "equipement_pilote_ou_mesure_type_id": type_id,
        "equipement_pilote_ou_mesure_mode_id": mode,
        "nom_humain": f"device {device_id}",
        "timestamp_derniere_mise_en_marche": last_on,
        **extra,
    }


def machine(
    device_id: int, end: int | None, wait: int | None, cycle: int, item: int | None
) -> dict[str, Any]:
    """An ``equipement_pilote_machine_generique`` row (its id is the device's)."""
    return {
        "id": device_id,
        "equipement_pilote_ou_mesure_id": device_id,
        "timestamp_de_fin_souhaite": end,
        "delai_attente_maximale_apres_fin": wait,
        "cycle_equipement_pilote_machine_generique_id": cycle,
        "mesures_puissance_elec_id": item,
    }
