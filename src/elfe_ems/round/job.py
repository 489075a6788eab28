"""The planning round: coordination database and store → scenario → plan → output tables.

A round at time ``at`` plans the horizon that begins at the next quarter hour (``docs/spec/elfe.md``
§3: a round at 14:14:30 publishes from 14:15:00, never later). It reads every input first,
freezes them into a scenario saved in the run-conditions folder (with its plan, for replays),
solves it, and publishes the plan in one transaction on the output database. Each device's
plan in force (the rows this method published, shifted to the round's grid) goes into the
scenario as its previous decisions: the planner starts from it and changes a decision only
for less import. The run log in
the store says when the round ran, how it ended, and how old each input was; beside it the
round records the power the plans in force give the piloted devices at each step
(:mod:`elfe_ems.store.flexible`), which the forecasts add back to the measured balance.

A database that cannot be used ends the round with :class:`RoundError` (message without
passwords) before anything is published: the output database is written in a single
transaction, so the control daemon sees all rows of the round or none. Once the rows are
published the round has run: a store that fails to record its success only gets a
``[WARN_DATABASE]`` warning (the run log then says "running" until a round started after
the round job's timeout closes the row as failed, :data:`ABANDONED`).

One run per round (PostgreSQL; SQLite serialises writes itself): a round holds its output
database's round lock (:mod:`elfe_ems.publish.lock`) from before it reads its inputs until
its rows are committed, and publishes on the connection that holds it. A second run of the
same round and planning method at the same time stands down at once with
:class:`RoundStoodDownError` and one ``[WARN_IGNORED]`` line; it publishes nothing and leaves
no row in the run log.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, delete, insert, update
from sqlalchemy.exc import SQLAlchemyError

from elfe_ems.config import Settings, redact
from elfe_ems.db.engine import DatabaseUrlError, database_problem, engine_for, error_reason
from elfe_ems.jobs.registry import JobError, job_named
from elfe_ems.notices.catalogue import Notice
from elfe_ems.notices.collector import group_line, grouped
from elfe_ems.planner.core import SolveOptions, SolveStats, solve
from elfe_ems.planner.scenario import InputState, Plan, write_model
from elfe_ems.publish.in_force import plan_history
from elfe_ems.publish.lock import RoundBusyError, round_lock
from elfe_ems.publish.output_tables import publish
from elfe_ems.round.accounting import Accounting, Outcome, account
from elfe_ems.round.assembly import RoundInputs, assemble_scenario
from elfe_ems.round.inputs import Measurements
from elfe_ems.round.replay import save_options
from elfe_ems.round.tariff import Tariff, solve_options
from elfe_ems.sources.coordination import read_coordination
from elfe_ems.store import inputs
from elfe_ems.store.flexible import record_plan
from elfe_ems.store.freshness import Freshness, assess
from elfe_ems.store.run_files import saved_plan_path, scenario_path
from elfe_ems.store.tables import DECISION_COUNT, run_log
from elfe_ems.timegrid import STEP_S, Grid
from elfe_ems.timegrid.local import local_text

log = logging.getLogger(__name__)

DAEMON_DELAY_S = 5  # the control daemon applies the plans at each quarter hour + 5 s
IO_MARGIN_S = 15  # reading the inputs and publishing, within the daemon's delay
MIN_SOLVE_S = 5  # a round run late (by hand) still gets this much (within the limit)


class RoundError(RuntimeError):
    """The round could not run (a database down or unusable); nothing was published."""


class RoundStoodDownError(RoundError):
    """Another run of the same round and method was running: this one did nothing."""


class _DatabaseError(Exception):
    """A database error, with which of the round's three databases it came from."""

    def __init__(self, database: str, error: SQLAlchemyError) -> None:
        super().__init__(f"{database} database: {error_reason(error)}")  # the run log's text
        self.database = database
        self.error = error


@contextmanager
def _on(database: str) -> Iterator[None]:
    """Name the database in any error raised while using it."""
    try:
        yield
    except SQLAlchemyError as error:
        raise _DatabaseError(database, error) from error


@dataclass(frozen=True)
class RoundOutcome:
    """What a round did."""

    plan: Plan
    stats: SolveStats
    rows_published: int
    scenario_path: Path
    input_ages_s: dict[str, int | None]
    issues: list[str] = field(default_factory=list)
    accounting: Accounting | None = None  # every device of the coordination database
    freshness: list[Freshness] = field(default_factory=list)  # of each input, at the start


def round_start_after(at_s: float, step_s: int = STEP_S) -> int:
    """The first quarter hour at or after ``at_s`` [Unix s]."""
    return -int(-at_s // step_s) * step_s


Progress = Callable[[str], None]
"""Told the step a round begins ("reading inputs", "planning (time limit 20 s)", …)."""


def _no_progress(_step: str) -> None:
    return None


def run_round(settings: Settings, at_s: float, progress: Progress = _no_progress) -> RoundOutcome:
    """Run one round at ``at_s`` [Unix s] (see the module docstring); its warnings about
    devices are logged one line per kind when it ends. ``progress`` is told each step as it
    begins (for a command's spinner)."""
    with grouped():
        return _run_round(settings, at_s, progress)


def _run_round(settings: Settings, at_s: float, progress: Progress) -> RoundOutcome:
    grid = Grid(round_start_after(at_s), STEP_S, DECISION_COUNT)
    urls = (settings.coordination_url, settings.store_url, settings.output_url)
    try:
        with (
            engine_for(settings.coordination_url) as coordination,
            engine_for(settings.store_url) as store,
            engine_for(settings.output_url) as output,
        ):
            with _on("store"):
                run_id = _log_start(store, grid, settings.planning_method)
            try:
                with ExitStack() as held:
                    with _on("output"):
                        publisher = held.enter_context(
                            round_lock(output, settings.planning_method, grid.round_start)
                        )
                    outcome = _plan_and_publish(
                        settings,
                        grid,
                        solver_budget_s(settings.time_limit_s, grid.round_start, at_s),
                        coordination,
                        store,
                        output,
                        publisher,
                        progress,
                    )
            except RoundBusyError as busy:
                _stand_down(store, run_id, local_text(grid.round_start, settings.zone), str(busy))
            except Exception as error:  # whatever it is, the run log says the round failed
                _log_failure(store, run_id, redact(error_reason(error), *urls))
                raise
            try:
                _log_success(store, run_id, outcome, settings.planning_method)
            except SQLAlchemyError as error:  # the rows are published: the round did run
                log.warning(
                    "[WARN_DATABASE] round published, but its success could not be logged "
                    "in the store: %s",
                    redact(error_reason(error), *urls),
                )
            return outcome
    except _DatabaseError as failure:
        url = str(getattr(settings, f"{failure.database}_url"))
        raise RoundError(database_problem(failure.database, failure.error, url, *urls)) from None
    except (SQLAlchemyError, DatabaseUrlError, OSError) as error:
        raise RoundError(redact(error_reason(error), *urls)) from None


def _stand_down(store: Engine, run_id: int, round_text: str, reason: str) -> NoReturn:
    """Say why this run does nothing, take its attempt back out of the run log (the other
    run's row tells the round), and raise :class:`RoundStoodDownError`."""
    message = f"round {round_text}: {reason}; this run stands down"
    log.warning("[WARN_IGNORED] %s, nothing published", message)
    with _on("store"), store.begin() as connection:
        connection.execute(delete(run_log).where(run_log.c.id == run_id))
    raise RoundStoodDownError(message)


def job(settings: Settings, now_s: float) -> str:
    """The round as a scheduled job (see :mod:`elfe_ems.jobs.registry`); a run that stands
    down for another run of its round has done its work (that run publishes)."""
    try:
        outcome = run_round(settings, now_s)
    except RoundStoodDownError as stood_down:
        return str(stood_down)
    except RoundError as error:
        raise JobError(f"round not run, nothing published: {error}") from None
    plan = outcome.plan
    return (
        f"round {local_text(plan.round_start, settings.zone)}: {outcome.rows_published} rows "
        "published, solver "
        f"{plan.solver.status}, import {plan.import_wh / 1000:.2f} kWh "
        f"(without EMS {plan.import_wh_asap / 1000:.2f} kWh)"
    )


def solver_budget_s(time_limit_s: float, round_start: int, at_s: float) -> float:
    """The solver's time [s]: the configured limit, but no more than the time left before the
    control daemon's pass at the round start (+5 s) less a margin for reading and publishing
    (a round at 14:14:30 gives it 20 s), and at least :data:`MIN_SOLVE_S` (a round run late),
    never more than the configured limit (a limit of 0.1 s is 0.1 s)."""
    left_s = round_start + DAEMON_DELAY_S - at_s - IO_MARGIN_S
    return min(time_limit_s, max(MIN_SOLVE_S, left_s))


def _plan_and_publish(
    settings: Settings,
    grid: Grid,
    budget_s: float,
    coordination: Engine,
    store: Engine,
    output: Engine,
    publisher: Connection,
    progress: Progress,
) -> RoundOutcome:
    """``publisher``: the output database's connection that holds the round lock, on which
    the plan is published."""
    progress("reading inputs")
    inputs, ages, freshness = _read_inputs(settings, grid, coordination, store, output)
    scenario, built = assemble_scenario(inputs, grid, ZoneInfo(settings.timezone))
    folder = settings.run_conditions_dir
    folder.mkdir(parents=True, exist_ok=True)
    saved_scenario = scenario_path(folder, grid.round_start, settings.planning_method)
    write_model(scenario, saved_scenario)
    options = _solve_options(settings, grid, budget_s)
    save_options(options, saved_scenario)
    progress(f"planning (time limit {budget_s:.3g} s)")  # 0.1 s is not "0 s"
    plan, stats = solve(scenario, options)
    # the plan file says what it was planned on (an optional field of the contract)
    plan = plan.model_copy(
        update={"inputs": [InputState.model_validate(source.to_json()) for source in freshness]}
    )
    write_model(plan, saved_plan_path(saved_scenario))
    progress("publishing")
    with _on("output"), publisher.begin():
        published = publish(publisher, plan, scenario.net_load_w, settings.planning_method)
    log.info(
        "round %s: %d rows published, import %.0f Wh (without EMS %.0f Wh), solver %s "
        "(gap %.2e, time limit %g s)",
        local_text(grid.round_start, settings.zone),
        published,
        plan.import_wh,
        plan.import_wh_asap,
        plan.solver.status,
        plan.solver.gap,
        budget_s,
    )
    accounting = account(inputs.rows, built, plan)
    _log_accounting(accounting)
    issues = [str(issue) for issue in built.issues]
    return RoundOutcome(plan, stats, published, saved_scenario, ages, issues, accounting, freshness)


def _log_accounting(accounting: Accounting) -> None:
    """One line for the devices of the round, one ``[WARN_IGNORED]`` line per reason for
    the devices left out for a problem, with what to do."""
    log.info(
        "devices: %d in the coordination database, %d planned, %d relaxed, %d left out",
        len(accounting.devices),
        len(accounting.of(Outcome.PLANNED)),
        len(accounting.of(Outcome.RELAXED)),
        len(accounting.of(Outcome.LEFT_OUT)),
    )
    problems = [d.device_id for d in accounting.problems]
    for reason, ids in accounting.by_reason(Outcome.LEFT_OUT).items():
        left = [i for i in ids if i in problems]
        if left:
            log.warning("%s", group_line(Notice.LEFT_OUT, "device", reason, left))


def _solve_options(settings: Settings, grid: Grid, budget_s: float) -> SolveOptions:
    """The planner's options: the solver budget, and the objectives of the configuration."""
    tariff = Tariff(
        settings.tariff_peak_price,
        settings.tariff_off_peak_price,
        settings.tariff_off_peak_windows,
        settings.zone,
    )
    return solve_options(
        budget_s, settings.gap, grid, settings.objective, tariff, settings.peak_tolerance
    )


def _read_inputs(
    settings: Settings, grid: Grid, coordination: Engine, store: Engine, output: Engine
) -> tuple[RoundInputs, dict[str, int | None], list[Freshness]]:
    """Everything the round reads from its three databases, the age of each [s], and how
    fresh each is (logged when it is not)."""
    with _on("coordination"), coordination.connect() as connection:
        rows = read_coordination(connection)
    with _on("store"), store.connect() as connection:
        net = inputs.net_load(connection, grid, settings.forecaster)
        outdoor = inputs.outdoor_temperature(connection, grid)
        energies = inputs.water_heater_energies(connection, grid)
        rooms = inputs.room_temperatures(connection, grid)
        cycles = inputs.cycle_profiles(connection, grid)
        models = inputs.thermal_models(connection)
        balance_age_s = inputs.balance_age_s(connection, grid)
    with _on("output"), output.connect() as connection:
        history = plan_history(connection, grid, settings.planning_method)
        # with the round's own rows (a re-run): the plan in force at each step
        in_force = plan_history(
            connection,
            Grid(grid.time_of(1), grid.step_s, grid.steps),
            settings.planning_method,
        )
    measurements = Measurements(
        cycle_profiles_w=cycles.profiles_w,
        water_heater_energy_wh=energies.values,
        room_temp_c=rooms.values,
        outdoor_temp_c=outdoor.temp_c,
    )
    ages = {
        "forecast": net.age_s,
        "forecast_steps_extended": grid.steps - net.forecast_steps,
        "weather": outdoor.age_s,
        "water_heater_energy": energies.oldest_age_s,
        "room_temperature": rooms.oldest_age_s,
        "learned_cycles": cycles.oldest_age_s,
    }
    freshness = assess(
        settings,
        {
            "balance measurements": balance_age_s,
            "forecast": net.age_s,
            "weather": outdoor.age_s,
        },
        {"forecast": net.forecast_steps / grid.steps, "weather": outdoor.coverage},
        {"forecast": net.completion},
        {"room temperatures": rooms.ages_s, "water-heater energies": energies.ages_s},
    )
    for source in freshness:
        if (line := source.warning()) is not None:
            log.warning("%s", line)
    inputs_read = RoundInputs(rows, net.net_load_w, measurements, models, history, in_force)
    return inputs_read, ages, freshness


ABANDONED = (
    "ended without logging how: killed, its machine stopped, or the store lost after the "
    "publish (the output tables say whether it published)"
)
"""The error of a round's run log row left "running" past the round job's timeout."""


def _log_start(store: Engine, grid: Grid, method: str) -> int:
    """Log this run as running; a row still "running" past the round job's timeout is a run
    that died without logging its end (SIGKILL, a machine lost): it is closed as failed, so
    the history shows no round running for ever."""
    now_s = time.time()
    with store.begin() as connection:
        connection.execute(
            update(run_log)
            .where(
                run_log.c.status == "running",
                run_log.c.started_at < now_s - job_named("round").timeout_s,
            )
            .values(status="failed", error=ABANDONED)
        )
        return int(
            connection.execute(
                insert(run_log)
                .values(
                    round_start=grid.round_start,
                    planning_method=method,
                    started_at=now_s,
                    status="running",
                )
                .returning(run_log.c.id)
            ).scalar_one()
        )


def _log_success(store: Engine, run_id: int, outcome: RoundOutcome, method: str) -> None:
    plan = outcome.plan
    with store.begin() as connection:
        connection.execute(
            update(run_log)
            .where(run_log.c.id == run_id)
            .values(
                finished_at=time.time(),
                status="succeeded",
                solver_status=plan.solver.status,
                gap=plan.solver.gap,
                lower_bound_wh=plan.solver.lower_bound_wh,
                import_wh=plan.import_wh,
                import_wh_asap=plan.import_wh_asap,
                devices_planned=sum(d.status == "planned" for d in plan.devices),
                devices_skipped=sum(d.status == "skipped" for d in plan.devices),
                input_ages_s=outcome.input_ages_s,
                devices=None if outcome.accounting is None else outcome.accounting.to_json(),
                input_freshness=[source.to_json() for source in outcome.freshness] or None,
                savings=None if plan.savings is None else plan.savings.model_dump(mode="json"),
                scenario_path=str(outcome.scenario_path),
            )
        )
        record_plan(connection, method, plan)


def _log_failure(store: Engine, run_id: int, error: str) -> None:
    """Best effort: the store itself may be what failed."""
    try:
        with store.begin() as connection:
            connection.execute(
                update(run_log)
                .where(run_log.c.id == run_id)
                .values(finished_at=time.time(), status="failed", error=error)
            )
    except SQLAlchemyError:
        log.warning("[WARN_DATABASE] the failed round could not be logged in the store")
