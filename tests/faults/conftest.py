"""Fixtures of the fault tests: a PostgreSQL cluster of their own (``faults_cluster.py``),
which they kill, holding every database of the small community of ``faults_env.py``, and a
second one, which they stop under one of those databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from faults_cluster import OwnCluster
from faults_env import FaultEnv, fill_coordination, new_env


def _started_cluster() -> Iterator[OwnCluster]:
    cluster = OwnCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture(scope="session")
def own_cluster() -> Iterator[OwnCluster]:
    yield from _started_cluster()


@pytest.fixture(scope="session")
def other_cluster() -> Iterator[OwnCluster]:
    """A second own cluster, for the one database of a community that a test stops while
    the others stay up."""
    yield from _started_cluster()


@pytest.fixture(scope="session")
def own_coordination_url(own_cluster: OwnCluster) -> str:
    url = own_cluster.create_database("coordination")
    fill_coordination(url)
    return url


@pytest.fixture
def fault_env(own_cluster: OwnCluster, own_coordination_url: str, tmp_path: Path) -> FaultEnv:
    """A fresh store and output on the own cluster, with the config of ``ems run``."""
    return new_env(own_cluster, own_coordination_url, tmp_path)


@pytest.fixture(autouse=True)
def _isolated(isolated: None) -> None:
    """Every test here runs isolated (``isolated`` of the root conftest)."""
