"""The case policy of DESIGN.md §5 as pure rules: reporting windows, transitions and money."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from ordertrail.domain.cases import (
    CASE_NAMES,
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
    reporting_window,
)
from ordertrail.domain.errors import Conflict, Forbidden, ValidationFailed
from ordertrail.domain.statuses import ShipmentStatus as S

LATEST = date(2026, 12, 5)
PASSED = datetime(2026, 12, 6, 0, 0, tzinfo=UTC)  # the instant the latest date has passed
DELIVERED_AT = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)
POLICY = CasePolicy()
ORDER = OrderRef("ord_1", "usr_b", "usr_s", "USD", LATEST)
TOTAL = 4497


def refusal(exc: pytest.ExceptionInfo[ValidationFailed]) -> tuple[str, str]:
    err = exc.value.errors[0]
    return err.field, err.code


def window(
    case_type: CaseType, parcels: list[ParcelFacts], now: datetime
) -> tuple[datetime | None, datetime]:
    return reporting_window(case_type, LATEST, parcels, now, POLICY)


def test_not_received_opens_once_the_promised_latest_date_has_passed_and_closes_30_days_later() -> None:
    moving = [ParcelFacts(S.IN_TRANSIT)]
    with pytest.raises(ValidationFailed) as early:
        window(CaseType.NOT_RECEIVED, moving, PASSED - timedelta(seconds=1))
    assert refusal(early) == ("type", "not_yet_eligible")
    assert "2026-12-05" in early.value.errors[0].message
    assert window(CaseType.NOT_RECEIVED, moving, PASSED) == (PASSED, PASSED + timedelta(days=30))
    with pytest.raises(ValidationFailed) as late:
        window(CaseType.NOT_RECEIVED, moving, PASSED + timedelta(days=30))
    assert refusal(late) == ("type", "outside_reporting_window")


def test_not_received_opens_early_for_a_stalled_or_lost_parcel() -> None:
    early = PASSED - timedelta(days=4)
    assert window(CaseType.NOT_RECEIVED, [ParcelFacts(S.IN_TRANSIT, stalled=True)], early)[0] is None
    assert window(CaseType.NOT_RECEIVED, [ParcelFacts(S.LOST)], early)[0] is None
    assert window(CaseType.NOT_RECEIVED, [], PASSED)[1] == PASSED + timedelta(days=30)  # never shipped


def test_not_received_does_not_apply_to_a_delivered_parcel() -> None:
    with pytest.raises(ValidationFailed) as exc:
        window(CaseType.NOT_RECEIVED, [ParcelFacts(S.DELIVERED, DELIVERED_AT)], PASSED)
    assert refusal(exc) == ("type", "not_applicable")
    assert "delivered but not received (delivered_not_received)" in exc.value.errors[0].message


@pytest.mark.parametrize(
    "case_type",
    [CaseType.DELIVERED_NOT_RECEIVED, CaseType.DAMAGED, CaseType.WRONG_ITEM, CaseType.MISSING_ITEMS],
)
def test_delivery_cases_open_from_delivery_until_30_days_after(case_type: CaseType) -> None:
    with pytest.raises(ValidationFailed) as before:
        window(case_type, [ParcelFacts(S.OUT_FOR_DELIVERY)], DELIVERED_AT)
    assert refusal(before) == ("type", "not_yet_eligible")
    # Buyers read these refusals on the report page too: the type in words, not its API value.
    named = before.value.errors[0].message
    assert named.startswith(f"A {CASE_NAMES[case_type]} case") and "_" not in named
    delivered = [ParcelFacts(S.DELIVERED, DELIVERED_AT)]
    last_moment = DELIVERED_AT + timedelta(days=30) - timedelta(seconds=1)
    assert window(case_type, delivered, last_moment) == (DELIVERED_AT, DELIVERED_AT + timedelta(days=30))
    with pytest.raises(ValidationFailed) as after:
        window(case_type, delivered, DELIVERED_AT + timedelta(days=30))
    assert refusal(after) == ("type", "outside_reporting_window")


def test_late_delivery_needs_a_delivery_after_the_promise() -> None:
    on_time = [ParcelFacts(S.DELIVERED, DELIVERED_AT)]
    with pytest.raises(ValidationFailed) as exc:
        window(CaseType.LATE_DELIVERY, on_time, DELIVERED_AT + timedelta(days=1))
    assert refusal(exc) == ("type", "not_applicable")
    late_at = PASSED + timedelta(hours=5)
    assert window(CaseType.LATE_DELIVERY, [ParcelFacts(S.DELIVERED, late_at)], late_at)[0] == late_at
    with pytest.raises(ValidationFailed) as not_yet:
        window(CaseType.LATE_DELIVERY, [ParcelFacts(S.IN_TRANSIT)], late_at)
    assert refusal(not_yet) == ("type", "not_yet_eligible")


def test_reporting_windows_follow_the_policy() -> None:
    short = CasePolicy(reporting_windows={t: timedelta(days=7) for t in CaseType})
    delivered = [ParcelFacts(S.DELIVERED, DELIVERED_AT)]
    with pytest.raises(ValidationFailed) as exc:
        reporting_window(CaseType.DAMAGED, LATEST, delivered, DELIVERED_AT + timedelta(days=8), short)
    assert refusal(exc) == ("type", "outside_reporting_window")
    assert "7 days" in exc.value.errors[0].message


def opened(requested: Requested = Requested.REFUND, amount: int | None = None) -> Case:
    request = CaseRequest(CaseType.DAMAGED, "Screen cracked", requested, amount)
    return open_case(
        "cas_1", ORDER, request, [ParcelFacts(S.DELIVERED, DELIVERED_AT)], Paid(TOTAL), PASSED, POLICY
    )


def test_a_new_case_awaits_the_seller_for_48_hours_and_may_be_escalated_for_21_days() -> None:
    case = opened()
    assert case.status is CaseStatus.AWAITING_SELLER
    assert case.respond_by == PASSED + timedelta(hours=48)
    assert case.escalate_until == PASSED + timedelta(days=21)


def test_opening_checks_the_description_and_the_requested_amount() -> None:
    with pytest.raises(ValidationFailed) as no_text:
        open_case(
            "c",
            ORDER,
            CaseRequest(CaseType.DAMAGED, "  ", Requested.REFUND),
            [ParcelFacts(S.DELIVERED, DELIVERED_AT)],
            Paid(TOTAL),
            PASSED,
            POLICY,
        )
    assert refusal(no_text) == ("description", "required")
    with pytest.raises(ValidationFailed) as no_amount:
        opened(Requested.PARTIAL_REFUND)
    assert refusal(no_amount) == ("amount", "required")
    with pytest.raises(ValidationFailed) as amount_for_goods:
        opened(Requested.REPLACEMENT, 100)
    assert refusal(amount_for_goods) == ("amount", "not_applicable")
    with pytest.raises(ValidationFailed) as more_than_cost:
        opened(Requested.PARTIAL_REFUND, TOTAL + 1)
    assert refusal(more_than_cost) == ("amount", "more_than_paid")
    # Within what the order cost, but past what earlier refunds left: the order's state is the issue.
    request = CaseRequest(CaseType.DAMAGED, "Cracked", Requested.PARTIAL_REFUND, 200)
    with pytest.raises(Conflict) as past_what_is_left:
        open_case(
            "c",
            ORDER,
            request,
            [ParcelFacts(S.DELIVERED, DELIVERED_AT)],
            Paid(TOTAL, TOTAL - 100),
            PASSED,
            POLICY,
        )
    assert past_what_is_left.value.code == "refund_exceeds_paid" and "at most 1.00 USD" in str(
        past_what_is_left.value
    )


def act(case: Case, action: Action, by: Party, at: datetime, refundable: int = TOTAL, **kw: object) -> Case:
    paid = Paid(TOTAL, TOTAL - refundable)
    return apply(case, Command(action, by, f"usr_{by.value}", **kw), at, paid)  # type: ignore[arg-type]


def test_escalation_before_the_sellers_deadline_is_a_conflict_naming_it() -> None:
    case = opened()
    with pytest.raises(Conflict) as exc:
        act(case, Action.ESCALATE, Party.BUYER, PASSED + timedelta(hours=47))
    assert exc.value.code == "too_early_to_escalate"
    assert "Tue 08 Dec 2026, 00:00 UTC" in exc.value.detail
    escalated = act(case, Action.ESCALATE, Party.BUYER, case.respond_by)
    assert escalated.status is CaseStatus.ESCALATED and escalated.escalated_at == case.respond_by


def test_after_a_rejection_either_party_may_escalate_at_once_until_the_window_closes() -> None:
    rejected = act(opened(), Action.REJECT, Party.SELLER, PASSED, note="Photos show no damage")
    assert rejected.status is CaseStatus.AWAITING_BUYER and rejected.offer is None
    assert act(rejected, Action.ESCALATE, Party.SELLER, PASSED).status is CaseStatus.ESCALATED
    with pytest.raises(Conflict) as closed:
        act(rejected, Action.ESCALATE, Party.BUYER, rejected.escalate_until)
    assert closed.value.code == "escalation_window_closed"


def test_a_rejection_needs_a_reason() -> None:
    with pytest.raises(ValidationFailed) as exc:
        act(opened(), Action.REJECT, Party.SELLER, PASSED, note=" ")
    assert refusal(exc) == ("message", "required")


def test_accepting_resolves_with_what_the_buyer_asked_for() -> None:
    full = act(opened(), Action.ACCEPT, Party.SELLER, PASSED)
    assert full.status is CaseStatus.RESOLVED
    assert full.resolution is not None
    assert (full.resolution.outcome, full.resolution.amount) == (Outcome.REFUND, TOTAL)
    partly_refunded = act(opened(), Action.ACCEPT, Party.SELLER, PASSED, refundable=1000)
    assert partly_refunded.resolution is not None and partly_refunded.resolution.amount == 1000
    goods = act(opened(Requested.REPLACEMENT), Action.ACCEPT, Party.SELLER, PASSED)
    assert goods.resolution is not None
    assert (goods.resolution.outcome, goods.resolution.amount) == (Outcome.REPLACEMENT, None)


def test_an_offer_waits_for_the_buyer_who_may_accept_it() -> None:
    offered = act(opened(), Action.OFFER, Party.SELLER, PASSED, outcome=Outcome.PARTIAL_REFUND, amount=1500)
    assert offered.status is CaseStatus.AWAITING_BUYER
    assert offered.offer is not None and offered.offer.amount == 1500
    done = act(offered, Action.ACCEPT_OFFER, Party.BUYER, PASSED + timedelta(hours=1))
    assert done.status is CaseStatus.RESOLVED and done.offer is None
    assert done.resolution is not None
    assert (done.resolution.outcome, done.resolution.amount, done.resolution.decided_by_role) == (
        Outcome.PARTIAL_REFUND,
        1500,
        Party.BUYER,
    )


def test_there_is_no_offer_to_accept_after_a_rejection() -> None:
    rejected = act(opened(), Action.REJECT, Party.SELLER, PASSED, note="No")
    with pytest.raises(Conflict) as exc:
        act(rejected, Action.ACCEPT_OFFER, Party.BUYER, PASSED)
    assert exc.value.code == "no_offer"


def test_support_decides_only_escalated_cases_with_a_note() -> None:
    case = opened()
    with pytest.raises(Conflict) as not_escalated:
        act(case, Action.DECIDE, Party.SUPPORT, PASSED, outcome=Outcome.REJECT, note="n")
    assert not_escalated.value.code == "not_escalated"
    escalated = act(case, Action.ESCALATE, Party.BUYER, case.respond_by)
    with pytest.raises(ValidationFailed) as no_note:
        act(escalated, Action.DECIDE, Party.SUPPORT, case.respond_by, outcome=Outcome.REJECT)
    assert refusal(no_note) == ("note", "required")
    decided = act(
        escalated, Action.DECIDE, Party.SUPPORT, case.respond_by, outcome=Outcome.REJECT, note="No proof"
    )
    assert decided.status is CaseStatus.RESOLVED
    assert decided.resolution is not None and decided.resolution.decided_by == "usr_support"


def test_each_action_belongs_to_one_side() -> None:
    case = opened()
    for action, by, says in [
        (Action.ACCEPT, Party.BUYER, "Only the seller can accept the buyer's request."),
        (Action.ACCEPT_OFFER, Party.SELLER, "Only the buyer can accept the seller's offer."),
        (Action.WITHDRAW, Party.SELLER, "Only the buyer can withdraw a case."),
        (Action.DECIDE, Party.BUYER, "Only platform support can decide a case."),
        (Action.ESCALATE, Party.SUPPORT, "Only the buyer or the seller can escalate a case."),
        (
            Action.AUTO_ESCALATE,
            Party.SUPPORT,
            "Only ordertrail itself can escalate an unanswered case by itself.",
        ),
    ]:
        with pytest.raises(Forbidden) as exc:
            act(case, action, by, PASSED)
        assert str(exc.value) == says


def test_a_closed_case_never_changes_again() -> None:
    withdrawn = act(opened(), Action.WITHDRAW, Party.BUYER, PASSED)
    assert withdrawn.status is CaseStatus.WITHDRAWN and withdrawn.closed_at == PASSED
    with pytest.raises(Conflict) as exc:
        act(withdrawn, Action.ACCEPT, Party.SELLER, PASSED)
    assert exc.value.code == "case_closed"


def test_refunds_never_exceed_what_is_left_of_the_payment() -> None:
    case = act(opened(), Action.ESCALATE, Party.BUYER, PASSED + timedelta(days=3))
    with pytest.raises(Conflict) as exc:
        act(
            case,
            Action.DECIDE,
            Party.SUPPORT,
            PASSED,
            refundable=500,
            outcome=Outcome.PARTIAL_REFUND,
            amount=501,
            note="n",
        )
    assert exc.value.code == "refund_exceeds_paid"
    with pytest.raises(Conflict):
        act(case, Action.DECIDE, Party.SUPPORT, PASSED, refundable=0, outcome=Outcome.REFUND, note="n")
    with pytest.raises(ValidationFailed) as zero:
        act(case, Action.DECIDE, Party.SUPPORT, PASSED, outcome=Outcome.PARTIAL_REFUND, amount=0, note="n")
    assert refusal(zero) == ("amount", "too_small")


def test_the_system_escalates_only_unanswered_cases_past_their_deadline_and_lapses_stale_ones() -> None:
    case = opened()
    with pytest.raises(Conflict):
        act(case, Action.AUTO_ESCALATE, Party.SYSTEM, case.respond_by - timedelta(seconds=1))
    assert act(case, Action.AUTO_ESCALATE, Party.SYSTEM, case.respond_by).status is CaseStatus.ESCALATED
    waiting = act(case, Action.REJECT, Party.SELLER, PASSED, note="No")
    with pytest.raises(Conflict):
        act(waiting, Action.LAPSE, Party.SYSTEM, waiting.escalate_until - timedelta(seconds=1))
    assert act(waiting, Action.LAPSE, Party.SYSTEM, waiting.escalate_until).status is CaseStatus.WITHDRAWN


def test_once_the_buyer_has_an_offer_the_seller_may_only_grant_the_request_in_full() -> None:
    """A second answer used to take back an offer the buyer might be accepting at that moment."""
    offered = act(opened(), Action.OFFER, Party.SELLER, PASSED, outcome=Outcome.PARTIAL_REFUND, amount=1500)
    later = PASSED + timedelta(hours=1)
    with pytest.raises(Conflict) as rejected:
        act(offered, Action.REJECT, Party.SELLER, later, note="Changed my mind")
    assert rejected.value.code == "awaiting_buyer" and "your offer" in str(rejected.value)
    with pytest.raises(Conflict) as reoffered:
        act(offered, Action.OFFER, Party.SELLER, later, outcome=Outcome.PARTIAL_REFUND, amount=500)
    assert reoffered.value.code == "awaiting_buyer"
    granted = act(offered, Action.ACCEPT, Party.SELLER, later)
    assert granted.status is CaseStatus.RESOLVED and granted.resolution is not None
    assert (granted.resolution.outcome, granted.resolution.amount) == (Outcome.REFUND, TOTAL)
    turned_down = act(opened(), Action.REJECT, Party.SELLER, PASSED, note="Not damaged in the photos")
    with pytest.raises(Conflict) as again:
        act(turned_down, Action.OFFER, Party.SELLER, later, outcome=Outcome.REPLACEMENT)
    assert again.value.code == "awaiting_buyer" and "your answer" in str(again.value)
