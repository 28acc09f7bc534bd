"""Properties of the case transitions: whatever the actions, in whatever order, by whoever."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import event, given, settings, target
from hypothesis import strategies as st

from ordertrail.domain.cases import (
    OPEN_STATUSES,
    REFUNDS,
    WHO_MAY,
    Action,
    Case,
    CasePolicy,
    CaseRequest,
    CaseStatus,
    CaseType,
    Command,
    OrderRef,
    Outcome,
    Paid,
    ParcelFacts,
    Party,
    Requested,
    apply,
    open_case,
)
from ordertrail.domain.errors import DomainError
from ordertrail.domain.statuses import ShipmentStatus

START = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
DELIVERED = [ParcelFacts(ShipmentStatus.DELIVERED, datetime(2026, 12, 3, 15, 0, tzinfo=UTC))]
TYPES = [CaseType.DAMAGED, CaseType.WRONG_ITEM, CaseType.MISSING_ITEMS]

amounts = st.one_of(st.none(), st.integers(min_value=-5, max_value=120_000))
steps = st.tuples(
    st.integers(min_value=0, max_value=len(TYPES) - 1),  # which of the order's cases
    st.sampled_from(list(Action)),
    st.sampled_from([None, None, None, *Party]),  # None: the side the action belongs to
    st.one_of(st.none(), st.sampled_from(list(Outcome))),
    amounts,
    st.sampled_from(["", "because"]),
    st.one_of(st.integers(0, 72), st.integers(0, 24 * 25)),  # hours that pass before the step
)
requests = st.tuples(st.sampled_from(list(Requested)), amounts)


@settings(max_examples=400, deadline=None)
@given(
    total=st.integers(min_value=1, max_value=100_000),
    opened=st.lists(requests, min_size=1, max_size=len(TYPES)),
    actions=st.lists(steps, max_size=30),
)
def test_any_sequence_of_actions_ends_in_an_allowed_state_and_never_refunds_more_than_was_paid(
    total: int, opened: list[tuple[Requested, int | None]], actions: list[tuple]
) -> None:
    order = OrderRef("ord", "usr_b", "usr_s", "USD", date(2026, 12, 5))
    policy = CasePolicy()
    refunded = 0
    cases: list[Case] = []
    for i, (requested, amount) in enumerate(opened):
        request = CaseRequest(TYPES[i], "Broken", requested, amount)
        try:
            cases.append(
                open_case(f"cas_{i}", order, request, DELIVERED, Paid(total, refunded), START, policy)
            )
        except DomainError:
            continue
    now = START
    for index, action, party, outcome, amount, note, hours in actions:
        if not cases:
            break
        now += timedelta(hours=hours)
        k = index % len(cases)
        before = cases[k]
        party = party or min(WHO_MAY[action])
        try:
            after = apply(
                before,
                Command(action, party, f"usr_{party}", outcome, amount, note),
                now,
                Paid(total, refunded),
            )
        except DomainError as exc:
            event(f"refused: {getattr(exc, 'code', type(exc).__name__)}")
            continue
        assert before.is_open, "a closed case changed"
        if after.resolution is not None and before.resolution is None and after.resolution.outcome in REFUNDS:
            assert after.resolution.amount is not None and after.resolution.amount >= 1
            refunded += after.resolution.amount
            event("refunded")
        cases[k] = after
        assert refunded <= total

    for case in cases:
        assert case.status in set(CaseStatus)
        assert (case.resolution is not None) == (case.status is CaseStatus.RESOLVED)
        assert (case.closed_at is not None) == (case.status not in OPEN_STATUSES)
        assert case.offer is None or case.status is CaseStatus.AWAITING_BUYER
        assert case.escalated_at is not None or case.status is not CaseStatus.ESCALATED
    assert 0 <= refunded <= total
    target(refunded / total, label="share of the payment refunded")
