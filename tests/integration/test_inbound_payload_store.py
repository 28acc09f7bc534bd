"""The inbound payload store on SQLite and PostgreSQL: one row per distinct delivery, even when the same
delivery is stored twice at once."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from ordertrail.adapters.db.carrier_feeds import SqlInboundPayloads
from ordertrail.bootstrap import Container
from ordertrail.services.ports_carriers import NewPayload

AT = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def payload(body: bytes, provider: str = "easypost") -> NewPayload:
    return NewPayload(provider, body, hashlib.sha256(body).hexdigest(), AT, "1Z", None, [])


def test_the_same_bytes_from_the_same_provider_are_stored_once(container: Container) -> None:
    with container.deps.uow() as uow:
        first = uow.inbound.find_or_add(payload(b'{"a": 1}'))
        again = uow.inbound.find_or_add(payload(b'{"a": 1}'))
        other_provider = uow.inbound.find_or_add(payload(b'{"a": 1}', "shippo"))
        other_bytes = uow.inbound.find_or_add(payload(b'{"a": 2}'))
        uow.commit()
    assert first[1] and not again[1] and again[0] == first[0]
    assert other_provider[1] and other_bytes[1]
    assert len({first[0], other_provider[0], other_bytes[0]}) == 3


def test_losing_the_race_to_store_a_delivery_returns_the_winners_row_and_keeps_the_transaction(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    with container.deps.uow() as uow:
        winner, _ = uow.inbound.find_or_add(payload(b'{"race": true}'))
        uow.commit()
    real_find = SqlInboundPayloads._find
    calls: list[int] = []

    def blind_first_look(self: SqlInboundPayloads, provider: str, sha: str) -> int | None:
        calls.append(1)
        return None if len(calls) == 1 else real_find(self, provider, sha)

    monkeypatch.setattr(SqlInboundPayloads, "_find", blind_first_look)
    with container.deps.uow() as uow:
        assert uow.inbound.find_or_add(payload(b'{"race": true}')) == (winner, False)
        fresh, stored = uow.inbound.find_or_add(payload(b'{"race": false}'))  # still usable
        uow.commit()
    assert stored and fresh != winner
