"""The SQL unit of work: one connection, one transaction, the repositories bound to it."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from ordertrail.adapters.db.carrier_feeds import SqlCarrierPolls, SqlInboundPayloads
from ordertrail.adapters.db.cases import SqlCases
from ordertrail.adapters.db.checkpoints import checkpoint_if_due
from ordertrail.adapters.db.deliveries import SqlDeliveries, SqlWebhooks
from ordertrail.adapters.db.estimates import SqlEstimates
from ordertrail.adapters.db.messaging import SqlEmailPreferences, SqlInbox, SqlOutbox
from ordertrail.adapters.db.monitoring import SqlMonitoring
from ordertrail.adapters.db.observability import SqlOperationalFigures
from ordertrail.adapters.db.orders import SqlOrders, SqlUsers
from ordertrail.adapters.db.page_queries import SqlPageQueries
from ordertrail.adapters.db.performance import SqlPerformance
from ordertrail.adapters.db.privacy import SqlPersonalData
from ordertrail.adapters.db.shipments import SqlEvents, SqlHistory, SqlShipments
from ordertrail.adapters.db.sign_ins import SqlSignIns
from ordertrail.adapters.db.stall_stats import SqlStallStats
from ordertrail.adapters.db.sweep_runs import SqlSweepRuns
from ordertrail.adapters.db.sweeps import SqlSweeps
from ordertrail.adapters.db.tracking import SqlTracking
from ordertrail.adapters.db.write_turns import write_turns
from ordertrail.domain.errors import Busy

_BUSY = "The database is busy with other writes; nothing was changed. Retry in a few seconds."


class SqlUnitOfWork:
    def __init__(self, engine: Engine, readonly: bool = False) -> None:
        self._engine = engine
        self._readonly = readonly
        # The SQLite writer takes turns at the write lock with other processes' writers
        # (adapters/db/write_turns.py) and checkpoints the WAL after its commits (checkpoints.py).
        self._turns = None if readonly else write_turns(engine)
        self._has_turn = False
        self.conn: Connection

    def __enter__(self) -> SqlUnitOfWork:
        try:
            self.conn = self._engine.connect()
        except PoolTimeout as exc:  # SQLite's writer connection stayed taken for the whole wait
            raise Busy(_BUSY) from exc
        if self._readonly and self.conn.dialect.name == "postgresql":
            # Read committed gives each statement its own snapshot anyway; autocommit spares the
            # BEGIN and ROLLBACK round trips of every read.
            self.conn = self.conn.execution_options(isolation_level="AUTOCOMMIT")
        self.conn.info["readonly"] = self._readonly
        if self._turns is not None:
            if not self._turns.take():  # another process's writer kept the turn for the whole wait
                self.conn.close()
                raise Busy(_BUSY)
            self._has_turn = True
        try:
            self.conn.begin()
        except OperationalError as exc:
            self.conn.info.pop("readonly", None)
            self._give_turn()
            self.conn.close()
            if "locked" in str(exc.orig):  # SQLite's file lock, held by another process all along
                raise Busy(_BUSY) from exc
            raise
        if self._turns is not None:
            driver = self.conn.connection.driver_connection
            self._turns.note_data_version(driver.execute("PRAGMA data_version").fetchone()[0])
        c = self.conn
        self.users = SqlUsers(c)
        self.orders = SqlOrders(c)
        self.shipments = SqlShipments(c)
        self.events = SqlEvents(c)
        self.history = SqlHistory(c)
        self.outbox = SqlOutbox(c)
        self.inbox = SqlInbox(c)
        self.tracking = SqlTracking(c)
        self.sweeps = SqlSweeps(c)
        self.sign_ins = SqlSignIns(c)
        self.pages = SqlPageQueries(c)
        self.cases = SqlCases(c)
        self.performance = SqlPerformance(c)
        self.deliveries = SqlDeliveries(c)
        self.webhooks = SqlWebhooks(c)
        self.monitoring = SqlMonitoring(c)
        self.stall_stats = SqlStallStats(c)
        self.sweep_runs = SqlSweepRuns(c)
        self.email_preferences = SqlEmailPreferences(c)
        self.inbound = SqlInboundPayloads(c)
        self.polls = SqlCarrierPolls(c)
        self.personal_data = SqlPersonalData(c)
        self.figures = SqlOperationalFigures(c)
        self.eta = SqlEstimates(c)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self.conn.in_transaction():
                self.conn.rollback()
        finally:
            self._give_turn()
            self.conn.info.pop("readonly", None)
            self.conn.close()

    def commit(self) -> None:
        self.conn.commit()
        if self._turns is not None:
            self._give_turn()
            checkpoint_if_due(self.conn)

    def _give_turn(self) -> None:
        if self._has_turn and self._turns is not None:
            self._has_turn = False
            self._turns.give()
