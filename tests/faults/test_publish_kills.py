"""Crash during publish (issue 17, item 1): SIGKILL at seeded random moments of the publish,
of the PostgreSQL cluster holding every database, or of the ``ems run`` process itself.

Try ``k`` runs ``ems run`` for round ``k`` (a new quarter hour: the plan in force before it is
round ``k - 1``'s), waits for the plan file the round writes just before it publishes, sleeps
a seeded random delay of up to ``WINDOW_S`` (the publish and what follows it: the success in
the run log, the summary) and kills. Then the cluster is restarted (crash recovery) and the
output tables must hold the round whole or not at all, no (device, round, method) twice, and
every row of the other rounds as before; the next normal run of the round (in this process,
once the server has dropped the killed client's session) must publish it whole.

The long loops (``TRIES`` each) carry the ``fault_matrix`` marker; ``SHORT_TRIES`` of each
run in the default suite. Figures: docs/reliability.md.
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections import Counter
from typing import Literal

import pytest
from faults_cluster import OwnCluster
from faults_env import TIMEOUT_S, FaultEnv, judge, round_start, wait_for

from elfe_ems.round.job import run_round

SEED = 1717
TRIES = 50
SHORT_TRIES = 3
WINDOW_S = (
    0.08  # the publish commits about 30 ms after the plan file, the process ends 0.4 s after it
)

Victim = Literal["postgres", "ems-run"]


def kill_tries(env: FaultEnv, cluster: OwnCluster, victim: Victim, tries: int) -> Counter[str]:
    """``tries`` kills of ``victim`` (see the module docstring); the figures."""
    rng = random.Random(f"{SEED}-{victim}")
    figures: Counter[str] = Counter()
    for k in range(tries):
        before = env.output_rows()
        process = env.start_run(k)
        assert wait_for(env.plan_file(k), process), process.communicate()
        time.sleep(rng.uniform(0, WINDOW_S))
        figures["ended before the kill"] += process.poll() is not None
        if victim == "postgres":
            cluster.kill()
        else:
            os.killpg(process.pid, signal.SIGKILL)
        _, stderr = process.communicate(timeout=TIMEOUT_S)
        if victim == "postgres":
            cluster.start()
            assert process.returncode in (0, 1), stderr  # published, or a clean error
            assert "Traceback" not in stderr
        else:
            assert process.returncode in (0, -signal.SIGKILL)
        verdict = judge(before, env.output_rows(), k)
        figures["tries"] += 1
        figures["published by the killed run"] += verdict.published
        figures["partial rounds"] += verdict.partial
        figures["duplicates"] += verdict.duplicates
        if victim == "postgres":
            assert verdict.published or process.returncode == 1  # exit 0: it is published
            # the commit reached the disk but not the client: "nothing published" is wrong
            figures["exit 1 with the round published"] += (
                process.returncode == 1 and verdict.published
            )
        assert not verdict.partial
        assert verdict.duplicates == 0
        # the next normal run, once the server has dropped the killed client's session
        cluster.wait_advisory_locks_gone()
        killed = env.output_rows()
        run_round(env.settings(), round_start(k) - 30)
        repaired = judge(killed, env.output_rows(), k)
        figures["rounds lost"] += not repaired.published
        assert repaired.published
        assert repaired.duplicates == 0
    print(f"\nfault matrix, kill {victim} during publish (seed {SEED}):", dict(figures))
    return figures


@pytest.mark.parametrize("victim", ["postgres", "ems-run"])
def test_kill_during_publish(fault_env: FaultEnv, own_cluster: OwnCluster, victim: Victim) -> None:
    figures = kill_tries(fault_env, own_cluster, victim, SHORT_TRIES)
    assert figures["rounds lost"] == 0


@pytest.mark.fault_matrix
@pytest.mark.parametrize("victim", ["postgres", "ems-run"])
def test_kill_during_publish_matrix(
    fault_env: FaultEnv, own_cluster: OwnCluster, victim: Victim
) -> None:
    figures = kill_tries(fault_env, own_cluster, victim, TRIES)
    assert figures["rounds lost"] == 0
    # the seeded moments hit both sides of the commit
    assert 0 < figures["published by the killed run"] < TRIES
