"""Who may write the output tables: one run per round, one publish at a time.

Two PostgreSQL advisory locks of the output database, named within its schema (two EMS
installations in two schemas of one database do not see each other's locks):

- the **round lock** (:func:`round_lock`, session level): a round takes it before it reads
  its inputs and holds it until its publish has committed, on the very connection that
  publishes. A second run of the same round and planning method (two ``ems run`` at once, or
  ``ems serve``'s round while an operator runs ``ems run``) does not wait for it: it stands
  down (:class:`RoundBusyError`) before reading or planning anything. A run that dies loses
  its session, and so its lock, as soon as the server sees the connection closed: at once
  when the process dies, about a minute after its machine did (:data:`KEEPALIVE_S`).
- the **publish lock** (:func:`lock_publish`, transaction level): the first statement of
  every publish. Rounds of different starts or methods share the ``p_c_…`` rows of
  overlapping steps: they publish one after the other instead of failing on each other's
  keys. It is held for the milliseconds of a publish, taken before any row lock (no
  deadlock), and waited for at most :data:`PUBLISH_WAIT_S`.

SQLite needs neither: a write transaction locks the whole file, so SQLite serialises the
publishes itself, and two runs of one round both publish, the later one's rows replacing the
earlier's, as a re-run does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

KEEPALIVE_S = (30, 10, 3)
"""The round lock's session: TCP keepalive idle time [s], interval [s] and count, so that the
server drops the session of a client whose machine died, and its lock, within a minute."""
PUBLISH_WAIT_S = 10
"""How long a publish waits for another's to end [s] (a stuck one then fails this round)."""

# an advisory lock's 64-bit key, from its name and the schema the output tables resolve to
_KEY = "hashtextextended('elfe-ems ' || coalesce(current_schema(), '') || ' ' || :name, 0)"


class RoundBusyError(Exception):
    """Another run of the same round and planning method holds the round lock."""


def round_lock_name(planning_method: str, round_start: int) -> str:
    """The name of a round's lock (its key is hashed from it, see :data:`_KEY`)."""
    return f"round {planning_method} {round_start}"


@contextmanager
def round_lock(output: Engine, planning_method: str, round_start: int) -> Iterator[Connection]:
    """A connection to the output database that holds the round lock until the block ends:
    publish on it. Raises :class:`RoundBusyError` when another run holds the lock."""
    with output.connect() as connection:
        if connection.dialect.name != "postgresql":
            yield connection
            return
        name = round_lock_name(planning_method, round_start)
        idle_s, interval_s, count = KEEPALIVE_S
        connection.execute(text(f"SET tcp_keepalives_idle = {idle_s}"))
        connection.execute(text(f"SET tcp_keepalives_interval = {interval_s}"))
        connection.execute(text(f"SET tcp_keepalives_count = {count}"))
        held = connection.execute(
            text(f"SELECT pg_try_advisory_lock({_KEY})"), {"name": name}
        ).scalar_one()
        connection.commit()  # no transaction stays open while the round plans
        if not held:
            raise RoundBusyError(
                f"another run of it (method {planning_method}) holds its lock in the output "
                "database"
            )
        try:
            yield connection
        finally:
            _unlock(connection, name)


def _unlock(connection: Connection, name: str) -> None:
    """Release the round lock; a session that was lost took its lock with it."""
    if connection.invalidated:
        return
    try:
        connection.rollback()
        connection.execute(text(f"SELECT pg_advisory_unlock({_KEY})"), {"name": name})
        connection.commit()
    except SQLAlchemyError:
        return  # the session is gone, and its lock with it


def lock_publish(connection: Connection) -> None:
    """Wait for the publish lock, held until the connection's transaction ends (PostgreSQL;
    nothing on SQLite, see the module docstring)."""
    if connection.dialect.name != "postgresql":
        return
    connection.execute(text(f"SET LOCAL lock_timeout = '{PUBLISH_WAIT_S}s'"))
    connection.execute(text(f"SELECT pg_advisory_xact_lock({_KEY})"), {"name": "publish"})
