"""Running a backtest's tasks on Dask: a local cluster, or any Dask scheduler.

A backtest is many independent tasks (:class:`~elfe_ems.backtest.loop.Task`: season x day x
seed x configuration), each deterministic from its key. They are mapped on a Dask cluster:
a :class:`~distributed.LocalCluster` of ``workers`` processes (one thread each: a round is
CPU-bound) by default, or the scheduler at ``scheduler`` (``tcp://host:8786``), whose workers
must have this package installed. Results come back as tasks finish (the progress bar) and are
returned in task order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from elfe_ems.backtest.loop import (
    CONFIGS,
    ROUND_GAP,
    ROUND_TIME_LIMIT_S,
    Task,
    TaskResult,
    run_task,
)
from elfe_ems.sim.world import SEASONS, Season, Site, TaskKey

if TYPE_CHECKING:
    from distributed import Client


WORKER_CONFIG = {"distributed.worker.profile.enabled": False}
"""The workers' statistical profiler samples every thread's stack: it slows the rounds'
Python down several times over."""


@dataclass(frozen=True)
class BacktestOptions:
    """What ``ems backtest`` was asked for."""

    days: int
    homes: int
    site: Site
    seasons: tuple[Season, ...] = SEASONS
    seeds: tuple[int, ...] = (1,)
    workers: int = 2
    scheduler: str | None = None
    processes: bool = True  # local cluster only; False: threads of this process (tests)
    time_limit_s: float = ROUND_TIME_LIMIT_S
    gap: float = ROUND_GAP


def tasks_of(options: BacktestOptions) -> list[Task]:
    """Every task of the backtest, the slow ones (winter, with the EMS) first."""
    if options.days < 1 or options.homes < 1 or not options.seeds:
        raise ValueError(
            f"need days >= 1, homes >= 1 and a seed (got {options.days}, {options.homes}, "
            f"{options.seeds})"
        )
    tasks = [
        Task(TaskKey(season, day, seed, options.homes), config, options.site,
             options.time_limit_s, options.gap)
        for season in options.seasons
        for day in range(options.days)
        for seed in options.seeds
        for config in CONFIGS
    ]  # fmt: skip
    return sorted(tasks, key=lambda t: (t.key.season != "winter", t.config == "none"))


def order_key(task: Task) -> tuple[int, int, int, int]:
    """Season, day, seed, configuration: the order of the results."""
    return (
        SEASONS.index(task.key.season),
        task.key.day,
        task.key.seed,
        CONFIGS.index(task.config),
    )


@contextmanager
def dask_client(options: BacktestOptions) -> Iterator[Client]:
    """A client of the scheduler asked for, or of a local cluster closed on exit."""
    import dask  # noqa: PLC0415 - heavy, only here
    from distributed import Client, LocalCluster  # noqa: PLC0415

    # dask's configuration puts its loggers at INFO; ours decide (-v shows them)
    logging.getLogger("distributed").setLevel(logging.getLogger().getEffectiveLevel())
    if options.scheduler:
        with Client(options.scheduler) as client:
            yield client
        return
    with (
        dask.config.set(WORKER_CONFIG),
        LocalCluster(
            n_workers=options.workers,
            threads_per_worker=1,
            processes=options.processes,
            dashboard_address=":0",  # any free port: never in the way of another cluster
            silence_logs=logging.ERROR,  # its INFO lines would bury the progress bar
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def run_backtest(
    options: BacktestOptions, on_result: Callable[[TaskResult], object] = lambda _: None
) -> list[TaskResult]:
    """Run every task on Dask, calling ``on_result`` as each finishes; results in task order.
    A task that fails raises its error here."""
    from distributed import as_completed  # noqa: PLC0415

    tasks = tasks_of(options)
    results: list[TaskResult] = []
    with dask_client(options) as client:
        futures = client.map(run_task, tasks, pure=False)
        for future in as_completed(futures):
            result = future.result()
            results.append(result)
            on_result(result)
    return sorted(results, key=lambda r: order_key(r.task))
