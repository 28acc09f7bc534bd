"""The merge rules of DESIGN.md §3 as properties: order and duplication of events never matter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from ordertrail.domain.events import (
    INITIAL,
    Location,
    ProofOfDelivery,
    ScanEvent,
    derive_state,
    fold,
    sort_key,
    unique_events,
    within_limits,
)
from ordertrail.domain.statuses import ShipmentStatus as S

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
NUMBER = "1Z5R89390357567127"


def scan(
    minutes: int, status: S, description: str = "scan", offset_h: int = 0, event_id: str | None = None
) -> ScanEvent:
    zone = timezone(timedelta(hours=offset_h))
    return ScanEvent(
        NUMBER, (T0 + timedelta(minutes=minutes)).astimezone(zone), status, description, event_id=event_id
    )


events_st = st.lists(
    st.builds(
        scan,
        st.integers(0, 5000),
        st.sampled_from(list(S)),
        st.sampled_from(["Arrived", "Departed", "Delivered", "Out for delivery", ""]),
        st.integers(-10, 10),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=300, deadline=None)
@given(events=events_st, data=st.data())
def test_any_permutation_and_duplication_of_events_gives_the_same_state(
    events: list[ScanEvent], data: st.DataObject
) -> None:
    expected = derive_state(events)
    shuffled = data.draw(st.permutations(events))
    dupes = data.draw(st.lists(st.sampled_from(events), max_size=10))
    assert derive_state(list(shuffled) + dupes) == expected


@settings(max_examples=200, deadline=None)
@given(events=events_st, data=st.data())
def test_folding_a_batch_on_top_of_earlier_batches_equals_deriving_from_all(
    events: list[ScanEvent], data: st.DataObject
) -> None:
    ordered = sorted(unique_events(events), key=sort_key)
    cut = data.draw(st.integers(0, len(ordered)))
    state = fold(INITIAL, ordered[:cut])
    tail = ordered[cut:]
    assert state.can_append(tail)
    assert fold(state, tail) == derive_state(events)


def test_the_status_is_that_of_the_latest_event_by_carrier_time() -> None:
    state = derive_state([scan(30, S.OUT_FOR_DELIVERY), scan(0, S.IN_TRANSIT), scan(10, S.IN_TRANSIT)])
    assert state.status is S.OUT_FOR_DELIVERY and state.last_event_at == T0 + timedelta(minutes=30)


def test_a_delivery_is_not_undone_by_a_later_stamped_progress_scan() -> None:
    state = derive_state([scan(0, S.OUT_FOR_DELIVERY), scan(60, S.DELIVERED), scan(90, S.IN_TRANSIT)])
    assert state.status is S.DELIVERED and state.delivered_at == T0 + timedelta(minutes=60)
    assert state.last_event_at == T0 + timedelta(minutes=90)


def test_a_return_or_exception_can_follow_a_delivery_and_a_new_cycle_can_deliver_again() -> None:
    events = [scan(0, S.DELIVERED), scan(60, S.EXCEPTION, "Delivered to wrong address")]
    assert derive_state(events).status is S.EXCEPTION
    assert derive_state(events).delivered_at is None
    events += [scan(120, S.OUT_FOR_DELIVERY), scan(180, S.DELIVERED)]
    state = derive_state(events)
    assert state.status is S.DELIVERED and state.delivered_at == T0 + timedelta(minutes=180)


def test_out_for_delivery_and_delivered_in_the_same_minute_end_delivered() -> None:
    assert derive_state([scan(0, S.DELIVERED), scan(0, S.OUT_FOR_DELIVERY)]).status is S.DELIVERED


def test_the_same_instant_in_two_offsets_is_one_event() -> None:
    a = scan(0, S.IN_TRANSIT, "Arrived", offset_h=-6)
    b = scan(0, S.IN_TRANSIT, "Arrived", offset_h=0)
    assert a.content_hash == b.content_hash
    assert len(unique_events([a, b])) == 1


def test_a_carrier_event_id_seen_before_is_a_duplicate_even_if_worded_differently() -> None:
    a = scan(0, S.IN_TRANSIT, "Arrived", event_id="x1")
    b = scan(0, S.IN_TRANSIT, "Arrived at hub", event_id="x1")
    assert unique_events([a, b]) == [a]


def test_location_and_description_case_and_spacing_do_not_make_a_new_event() -> None:
    a = ScanEvent(NUMBER, T0, S.IN_TRANSIT, "Arrived  at Facility", location=Location("Memphis", "TN"))
    b = ScanEvent(NUMBER, T0, S.IN_TRANSIT, "arrived at facility", location=Location("MEMPHIS", "tn"))
    assert a.content_hash == b.content_hash


def test_first_scan_ignores_label_creation() -> None:
    state = derive_state([scan(0, S.INFO_RECEIVED), scan(60, S.IN_TRANSIT)])
    assert state.first_scan_at == T0 + timedelta(minutes=60)


def test_a_naive_time_is_refused() -> None:
    import pytest

    with pytest.raises(ValueError, match="timezone-aware"):
        ScanEvent(NUMBER, datetime(2026, 1, 1), S.IN_TRANSIT)  # noqa: DTZ001


def test_a_scans_texts_are_cut_to_their_limits_and_a_scan_within_them_is_left_as_it_is() -> None:
    fine = ScanEvent(NUMBER, T0, S.IN_TRANSIT, "Arrived", location=Location("Memphis", "TN", "38118", "US"))
    assert within_limits(fine) is fine
    long = ScanEvent(
        NUMBER,
        T0,
        S.DELIVERED,
        "d" * 1001,
        substatus="s" * 65,
        carrier_code="c" * 65,
        event_id="e" * 129,
        raw_status="r" * 129,
        location=Location("x" * 121, "y" * 121, "z" * 21, "US"),
        proof_of_delivery=ProofOfDelivery("signature", "u" * 2001, "n" * 201),
    )
    cut = within_limits(long)
    assert (len(cut.description), len(cut.substatus or ""), len(cut.carrier_code or "")) == (1000, 64, 64)
    assert (len(cut.event_id or ""), len(cut.raw_status or "")) == (128, 128)
    assert cut.location == Location("x" * 120, "y" * 120, "z" * 20, "US")
    assert cut.proof_of_delivery == ProofOfDelivery("signature", "u" * 2000, "n" * 200)
    assert cut.content_hash != long.content_hash and within_limits(cut) == cut
