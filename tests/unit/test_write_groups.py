"""Group commit (services.write_groups): jobs that arrive together share one transaction."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from ordertrail.domain.errors import Busy
from ordertrail.services.write_groups import WriteGroups


class Log:
    """Transactions as a fake unit of work sees them: each a list of the jobs run in it, and how it ended."""

    def __init__(self, fail_to_start: bool = False) -> None:
        self.transactions: list[tuple[list[str], str]] = []
        self.fail_to_start = fail_to_start
        self.lock = threading.Lock()

    def uow(self) -> Any:
        log = self

        class Uow:
            def __enter__(self) -> Uow:
                if log.fail_to_start:
                    raise Busy("busy")
                self.ran: list[str] = []
                self.ended = "rolled back"
                return self

            def commit(self) -> None:
                self.ended = "committed"

            def __exit__(self, *exc: object) -> None:
                with log.lock:
                    log.transactions.append((self.ran, self.ended))

        return Uow()


def job(name: str, started: threading.Event | None = None, go: threading.Event | None = None) -> Any:
    def work(uow: Any) -> str:
        uow.ran.append(name)
        if started is not None and go is not None:
            started.set()
            assert go.wait(10)
        if name.startswith("bad"):
            raise ValueError(name)
        return name.upper()

    return work


def run_while_first_holds(groups: WriteGroups, log: Log, names: list[str]) -> dict[str, Any]:
    """`first` leads and holds its transaction open until every other job waits in line."""
    outcomes: dict[str, Any] = {}
    started, go = threading.Event(), threading.Event()

    def call(name: str, work: Any) -> None:
        try:
            outcomes[name] = groups.run(log.uow, work)
        except Exception as exc:
            outcomes[name] = exc

    first = threading.Thread(target=call, args=("first", job("first", started, go)))
    first.start()
    assert started.wait(10)
    others = [threading.Thread(target=call, args=(n, job(n))) for n in names]
    for t in others:
        t.start()
    deadline = time.monotonic() + 10
    while len(groups._queue) < len(names) and time.monotonic() < deadline:
        time.sleep(0.001)
    go.set()
    for t in [first, *others]:
        t.join(10)
    return outcomes


def test_jobs_that_arrive_while_a_transaction_runs_share_the_next_one() -> None:
    log, groups = Log(), WriteGroups(max_group=4)
    outcomes = run_while_first_holds(groups, log, ["a", "b", "c"])
    assert outcomes["first"] == ("FIRST", 1)
    assert {outcomes[n] for n in "abc"} == {("A", 3), ("B", 3), ("C", 3)}
    assert log.transactions[0] == (["first"], "committed")
    assert sorted(log.transactions[1][0]) == ["a", "b", "c"] and log.transactions[1][1] == "committed"
    assert len(log.transactions) == 2


def test_a_group_holds_at_most_max_group_jobs() -> None:
    log, groups = Log(), WriteGroups(max_group=2)
    outcomes = run_while_first_holds(groups, log, ["a", "b", "c"])
    assert [len(ran) for ran, _ in log.transactions] == [1, 2, 1]
    assert sorted(outcomes[n][1] for n in "abc") == [1, 2, 2]


def test_a_failing_job_fails_alone_and_the_others_of_its_group_are_committed() -> None:
    log, groups = Log(), WriteGroups(max_group=4)
    outcomes = run_while_first_holds(groups, log, ["a", "bad", "c"])
    assert isinstance(outcomes["bad"], ValueError)
    assert outcomes["a"] == ("A", 1) and outcomes["c"] == ("C", 1)
    group, *alone = log.transactions[1:]
    # The group's transaction got as far as the failing job, then was rolled back.
    assert group[1] == "rolled back" and group[0][-1] == "bad" and set(group[0]) <= {"a", "bad", "c"}
    assert sorted((ran[0], ended) for ran, ended in alone) == [
        ("a", "committed"),
        ("bad", "rolled back"),
        ("c", "committed"),
    ]


def test_a_transaction_that_cannot_start_fails_every_job_of_its_group_once() -> None:
    log, groups = Log(fail_to_start=True), WriteGroups()
    with pytest.raises(Busy):
        groups.run(log.uow, job("a"))
    assert log.transactions == []
    # The next caller leads again: nothing is left waiting.
    log.fail_to_start = False
    assert groups.run(log.uow, job("b")) == ("B", 1)


def test_a_leader_torn_out_of_its_group_leaves_nobody_waiting() -> None:
    class Interrupt(BaseException):
        pass

    def torn(uow: Any) -> str:
        raise Interrupt

    log, groups = Log(), WriteGroups()
    with pytest.raises(Interrupt):
        groups.run(log.uow, torn)
    assert groups.run(log.uow, job("after")) == ("AFTER", 1)


class Entered:
    """A unit of work that runs `before` first when entered (waiting for the database, or failing)."""

    def __init__(self, inner: Any, before: Any) -> None:
        self.inner, self.before = inner, before

    def __enter__(self) -> Any:
        self.before()
        return self.inner.__enter__()

    def __exit__(self, *exc: object) -> None:
        self.inner.__exit__(*exc)


def test_jobs_that_arrive_while_the_leader_waits_for_the_database_join_its_transaction() -> None:
    """Another process holds the write lock: what queues meanwhile is written with the leader's job."""
    log, groups = Log(), WriteGroups(max_group=4)
    waiting, go = threading.Event(), threading.Event()

    def the_other_process_writes() -> None:
        if not go.is_set():
            waiting.set()
            assert go.wait(10)

    outcomes: dict[str, Any] = {}

    def call(name: str) -> None:
        outcomes[name] = groups.run(lambda: Entered(log.uow(), the_other_process_writes), job(name))

    leader = threading.Thread(target=call, args=("first",))
    leader.start()
    assert waiting.wait(10)
    others = [threading.Thread(target=call, args=(n,)) for n in "ab"]
    for t in others:
        t.start()
    deadline = time.monotonic() + 10
    while len(groups._queue) < 3 and time.monotonic() < deadline:
        time.sleep(0.001)
    go.set()
    for t in [leader, *others]:
        t.join(10)

    assert log.transactions == [(["first", "a", "b"], "committed")]
    assert outcomes == {"first": ("FIRST", 3), "a": ("A", 3), "b": ("B", 3)}


def test_a_leader_interrupted_while_waiting_for_the_database_leaves_nobody_waiting() -> None:
    class Interrupt(BaseException):
        pass

    def interrupt() -> None:
        raise Interrupt

    log, groups = Log(), WriteGroups()
    with pytest.raises(Interrupt):
        groups.run(lambda: Entered(log.uow(), interrupt), job("a"))
    assert groups._queue == []
    assert groups.run(log.uow, job("after")) == ("AFTER", 1)
