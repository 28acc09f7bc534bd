"""An order's status derives from its shipments' events whatever order they arrive in (DESIGN.md §3).

Events of several parcels arrive interleaved, late, repeated, in batches: folding each parcel's
batches as they come and deriving the order from the parcels must give what deriving everything at
once gives, and the order of the parcels must not matter either.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from ordertrail.domain.events import INITIAL, ScanEvent, ShipmentState, derive_state, fold, unique_events
from ordertrail.domain.orders import OrderFacts, derive_order_status
from ordertrail.domain.statuses import ShipmentStatus as S

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
NOW = datetime(2027, 2, 1, tzinfo=UTC)
WINDOW = timedelta(days=30)
NUMBERS = ("1Z5R89390357567127", "9400100000000000000000", "SIM0000000001")


def scan(parcel: int, minutes: int, status: S) -> ScanEvent:
    return ScanEvent(NUMBERS[parcel], T0 + timedelta(minutes=minutes), status, status.value)


parcel_events = st.lists(
    st.builds(scan, st.integers(0, len(NUMBERS) - 1), st.integers(0, 20_000), st.sampled_from(list(S))),
    min_size=1,
    max_size=30,
)


def order_status(states: dict[str, ShipmentState], covered: bool, open_case: bool) -> str:
    delivered = [s.delivered_at for s in states.values() if s.delivered_at is not None]
    facts = OrderFacts(
        cancelled=False,
        fully_covered=covered,
        shipment_statuses=tuple(states[n].status for n in sorted(states)),
        last_delivered_at=max(delivered) if delivered else None,
        has_open_case=open_case,
    )
    return derive_order_status(facts, NOW, WINDOW)


def incremental(batches: list[list[ScanEvent]]) -> dict[str, ShipmentState]:
    """As ingest does it: each batch folded on the state so far, or everything re-derived when late."""
    seen: dict[str, list[ScanEvent]] = {}
    states: dict[str, ShipmentState] = {}
    for batch in batches:
        for number in {e.tracking_number for e in batch}:
            mine = [e for e in batch if e.tracking_number == number]
            known = seen.setdefault(number, [])
            fresh = [e for e in unique_events(mine) if e not in known]
            state = states.get(number, INITIAL)
            states[number] = fold(state, fresh) if state.can_append(fresh) else derive_state(known + fresh)
            known.extend(fresh)
    return states


@settings(max_examples=300, deadline=None)
@given(events=parcel_events, data=st.data(), covered=st.booleans(), open_case=st.booleans())
def test_interleaved_repeated_batches_of_several_parcels_give_the_order_the_same_status(
    events: list[ScanEvent], data: st.DataObject, covered: bool, open_case: bool
) -> None:
    at_once = {
        n: derive_state([e for e in events if e.tracking_number == n])
        for n in {e.tracking_number for e in events}
    }
    arrived = data.draw(st.permutations(events)) + data.draw(st.lists(st.sampled_from(events), max_size=8))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(arrived)), max_size=6)))
    batches = [arrived[a:b] for a, b in zip([0, *cuts], [*cuts, len(arrived)], strict=True) if arrived[a:b]]
    assert incremental(batches) == at_once
    assert order_status(incremental(batches), covered, open_case) == order_status(at_once, covered, open_case)


@settings(max_examples=200, deadline=None)
@given(statuses=st.lists(st.sampled_from(list(S)), min_size=1, max_size=4), data=st.data())
def test_the_order_of_an_orders_parcels_does_not_change_its_status(
    statuses: list[S], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(statuses))

    def status_of(parcels: list[S]) -> str:
        facts = OrderFacts(False, True, tuple(parcels), T0 if S.DELIVERED in parcels else None)
        return derive_order_status(facts, NOW, WINDOW)

    assert status_of(statuses) == status_of(list(shuffled))
