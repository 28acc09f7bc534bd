"""Issue resolution (DESIGN.md §5): case types and statuses, the reporting windows, the transitions.

Pure: every rule takes `now` and the facts it needs. Refusals are domain errors that name the window
or state they check, so the buyer is told exactly when a case could be opened or escalated.

Money: amounts are integer minor units of the order's currency. `Paid` is what was paid (the order
total) and what was already refunded on the order, so refunds across all of an order's cases can
never add up to more than was paid.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from ordertrail.domain.errors import Conflict, FieldError, Forbidden, ValidationFailed
from ordertrail.domain.money import format_money
from ordertrail.domain.statuses import ShipmentStatus


class CaseType(StrEnum):
    NOT_RECEIVED = "not_received"
    DELIVERED_NOT_RECEIVED = "delivered_not_received"
    DAMAGED = "damaged"
    WRONG_ITEM = "wrong_item"
    MISSING_ITEMS = "missing_items"
    LATE_DELIVERY = "late_delivery"


# What a case type is called in messages read by buyers as well as integrators.
CASE_NAMES = {
    CaseType.NOT_RECEIVED: "not-received",
    CaseType.DELIVERED_NOT_RECEIVED: "delivered-but-not-received",
    CaseType.DAMAGED: "damaged-item",
    CaseType.WRONG_ITEM: "wrong-item",
    CaseType.MISSING_ITEMS: "missing-items",
    CaseType.LATE_DELIVERY: "late-delivery",
}


class CaseStatus(StrEnum):
    AWAITING_SELLER = "awaiting_seller"
    AWAITING_BUYER = "awaiting_buyer"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    WITHDRAWN = "withdrawn"


OPEN_STATUSES = frozenset({CaseStatus.AWAITING_SELLER, CaseStatus.AWAITING_BUYER, CaseStatus.ESCALATED})


class Requested(StrEnum):
    """What the buyer asks for when opening a case."""

    REFUND = "refund"
    PARTIAL_REFUND = "partial_refund"
    REPLACEMENT = "replacement"
    RETURN_AND_REFUND = "return_and_refund"


class Outcome(StrEnum):
    """How a case ends (or what a seller offers: any but `reject`)."""

    REFUND = "refund"
    PARTIAL_REFUND = "partial_refund"
    REPLACEMENT = "replacement"
    REJECT = "reject"


REFUNDS = frozenset({Outcome.REFUND, Outcome.PARTIAL_REFUND})
# The buyer got what they asked for (in money or goods): counted against the seller's performance.
BUYER_FAVOURED = frozenset({Outcome.REFUND, Outcome.PARTIAL_REFUND, Outcome.REPLACEMENT})

# Returning the goods is arranged outside ordertrail; the money side of it is a refund.
_OUTCOME_OF_REQUEST = {
    Requested.REFUND: Outcome.REFUND,
    Requested.RETURN_AND_REFUND: Outcome.REFUND,
    Requested.PARTIAL_REFUND: Outcome.PARTIAL_REFUND,
    Requested.REPLACEMENT: Outcome.REPLACEMENT,
}


class Party(StrEnum):
    BUYER = "buyer"
    SELLER = "seller"
    SUPPORT = "support"
    SYSTEM = "system"


class Action(StrEnum):
    ACCEPT = "accept"
    OFFER = "offer"
    REJECT = "reject"
    ACCEPT_OFFER = "accept_offer"
    ESCALATE = "escalate"
    WITHDRAW = "withdraw"
    DECIDE = "decide"
    AUTO_ESCALATE = "auto_escalate"
    LAPSE = "lapse"


WHO_MAY: dict[Action, frozenset[Party]] = {
    Action.ACCEPT: frozenset({Party.SELLER}),
    Action.OFFER: frozenset({Party.SELLER}),
    Action.REJECT: frozenset({Party.SELLER}),
    Action.ACCEPT_OFFER: frozenset({Party.BUYER}),
    Action.ESCALATE: frozenset({Party.BUYER, Party.SELLER}),
    Action.WITHDRAW: frozenset({Party.BUYER}),
    Action.DECIDE: frozenset({Party.SUPPORT}),
    Action.AUTO_ESCALATE: frozenset({Party.SYSTEM}),
    Action.LAPSE: frozenset({Party.SYSTEM}),
}

# For refusals: "Only the buyer can accept the seller's offer."
_PARTY_NAMES = {
    Party.BUYER: "the buyer",
    Party.SELLER: "the seller",
    Party.SUPPORT: "platform support",
    Party.SYSTEM: "ordertrail itself",
}
_DOING = {
    Action.ACCEPT: "accept the buyer's request",
    Action.OFFER: "make an offer",
    Action.REJECT: "reject a case",
    Action.ACCEPT_OFFER: "accept the seller's offer",
    Action.ESCALATE: "escalate a case",
    Action.WITHDRAW: "withdraw a case",
    Action.DECIDE: "decide a case",
    Action.AUTO_ESCALATE: "escalate an unanswered case by itself",
    Action.LAPSE: "close a case left unanswered",
}

# A carrier has said this parcel will not arrive as sent: the buyer need not wait for the promise.
UNDELIVERABLE = frozenset(
    {
        ShipmentStatus.LOST,
        ShipmentStatus.DAMAGED,
        ShipmentStatus.DISPOSED,
        ShipmentStatus.RETURNING_TO_SENDER,
        ShipmentStatus.RETURNED_TO_SENDER,
        ShipmentStatus.EXPIRED,
    }
)

_DEFAULT_WINDOW = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class CasePolicy:
    """The written policy of DESIGN.md §5; every value comes from settings."""

    reporting_windows: Mapping[CaseType, timedelta] = field(
        default_factory=lambda: dict.fromkeys(CaseType, _DEFAULT_WINDOW)
    )
    response_time: timedelta = timedelta(hours=48)
    escalation_window: timedelta = timedelta(days=21)
    max_evidence_bytes: int = 10 * 1024 * 1024
    max_attachments: int = 20

    def reporting_window(self, case_type: CaseType) -> timedelta:
        return self.reporting_windows.get(case_type, _DEFAULT_WINDOW)


@dataclass(frozen=True, slots=True)
class ParcelFacts:
    """What the reporting windows need to know about one shipment of the order."""

    status: ShipmentStatus
    delivered_at: datetime | None = None
    stalled: bool = False


@dataclass(frozen=True, slots=True)
class Offer:
    resolution: Outcome
    amount: int | None
    made_at: datetime


@dataclass(frozen=True, slots=True)
class Resolution:
    outcome: Outcome
    amount: int | None  # refunded, for refunds
    decided_by: str | None  # the user who closed the case; None for the system
    decided_by_role: Party
    decided_at: datetime
    note: str = ""


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    order_id: str
    buyer_id: str
    seller_id: str
    type: CaseType
    status: CaseStatus
    description: str
    requested_resolution: Requested
    amount: int | None
    currency: str
    opened_at: datetime
    respond_by: datetime
    escalate_until: datetime
    updated_at: datetime
    shipment_id: str | None = None
    escalated_at: datetime | None = None
    closed_at: datetime | None = None
    offer: Offer | None = None
    resolution: Resolution | None = None
    replacement_shipment_id: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def party_of(self, user_id: str, sees_everything: bool) -> Party | None:
        """The actor's side in this case; None for an outsider (who must not learn it exists)."""
        if user_id == self.buyer_id:
            return Party.BUYER
        if user_id == self.seller_id:
            return Party.SELLER
        return Party.SUPPORT if sees_everything else None


@dataclass(frozen=True, slots=True)
class CaseEvent:
    """One entry of a case's history: who did what, when, and the status it left."""

    case_id: str
    at: datetime
    action: str
    actor_id: str | None
    actor_role: Party
    status: CaseStatus
    detail: Mapping[str, Any] = field(default_factory=dict)


# --- reporting windows ------------------------------------------------------------------------------


def day_after(d: date) -> datetime:
    """The instant a date has passed: midnight UTC at the end of it."""
    return datetime.combine(d + timedelta(days=1), time(0), tzinfo=UTC)


def _stamp(at: datetime) -> str:
    """An instant in a refusal, for people: "Tue 08 Dec 2026, 00:00 UTC"."""
    return at.astimezone(UTC).strftime("%a %d %b %Y, %H:%M UTC")


def _refuse(code: str, message: str) -> ValidationFailed:
    return ValidationFailed.one("type", code, message)


def reporting_window(
    case_type: CaseType,
    promised_latest: date,
    parcels: Sequence[ParcelFacts],
    now: datetime,
    policy: CasePolicy,
) -> tuple[datetime | None, datetime]:
    """(opens, closes) of the window in which this case type may be opened now; or the refusal.

    `opens` is None when a fact (a stalled or lost parcel) opened it early. The refusal's code says
    which side of the window `now` is on (`not_yet_eligible`, `outside_reporting_window`), or that the
    type does not fit the facts at all (`not_applicable`), and its message gives the dates.
    """
    length = policy.reporting_window(case_type)
    days = length.days
    live = [p for p in parcels if p.status is not ShipmentStatus.CANCELLED]
    delivered = [p.delivered_at for p in live if p.status is ShipmentStatus.DELIVERED and p.delivered_at]
    promise_passed = day_after(promised_latest)

    if case_type is CaseType.NOT_RECEIVED:
        if live and len(delivered) == len(live):
            raise _refuse(
                "not_applicable",
                f"The carrier recorded the delivery on {_stamp(max(delivered))}; "
                "report it as delivered but not received (delivered_not_received) instead.",
            )
        closes = promise_passed + length
        if now >= closes:
            raise _refuse(
                "outside_reporting_window",
                f"A not-received case can be opened until {days} days after the promised latest date "
                f"{promised_latest.isoformat()}, that is until {_stamp(closes)}.",
            )
        early = any(p.stalled or p.status in UNDELIVERABLE for p in live)
        if now < promise_passed and not early:
            raise _refuse(
                "not_yet_eligible",
                "A not-received case can be opened once the promised latest date "
                f"{promised_latest.isoformat()} has passed (from {_stamp(promise_passed)}), "
                "or earlier if the carrier reports the parcel stalled or lost.",
            )
        return (None if now < promise_passed else promise_passed), closes

    if not delivered:
        raise _refuse(
            "not_yet_eligible",
            f"A {CASE_NAMES[case_type]} case can be opened from the delivery of the parcel; "
            "the carrier has not recorded a delivery yet.",
        )
    if case_type is CaseType.LATE_DELIVERY:
        late = [d for d in delivered if d >= promise_passed]
        if not late:
            raise _refuse(
                "not_applicable",
                f"The parcel was delivered on {_stamp(max(delivered))}, within the promised latest date "
                f"{promised_latest.isoformat()}.",
            )
        opens, closes = min(late), max(late) + length
    else:
        opens, closes = min(delivered), max(delivered) + length
    if now >= closes:
        raise _refuse(
            "outside_reporting_window",
            f"A {CASE_NAMES[case_type]} case can be opened until {days} days after delivery, "
            f"that is until {_stamp(closes)}.",
        )
    return opens, closes


# --- money -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Paid:
    """What the buyer paid for the order, and how much of it refunds have given back so far."""

    total: int
    refunded: int = 0

    @property
    def refundable(self) -> int:
        return self.total - self.refunded


def settle_amount(
    outcome: Outcome, amount: int | None, paid: Paid, currency: str, field: str = "amount"
) -> int | None:
    """The amount an outcome moves (None for a replacement or a rejection), checked against what is left.

    A refund without an amount refunds everything still refundable; a partial refund needs one. More
    than the order cost is a wrong amount (422); more than earlier refunds have left is a conflict
    with the order's state (409)."""
    if outcome not in REFUNDS:
        if amount is not None:
            raise ValidationFailed.one(
                field, "not_applicable", "An amount goes only with a refund or a partial refund."
            )
        return None
    if amount is None and outcome is Outcome.PARTIAL_REFUND:
        raise ValidationFailed.one(
            field, "required", "Say how much to refund: a partial refund needs an amount."
        )
    if amount is not None and amount < 1:
        raise ValidationFailed.one(field, "too_small", f"A refund is at least {format_money(1, currency)}.")
    if amount is not None and amount > paid.total:
        raise ValidationFailed.one(
            field,
            "more_than_paid",
            f"Refunding {format_money(amount, currency)} is more than the order cost "
            f"({format_money(paid.total, currency)}).",
        )
    value = paid.refundable if amount is None else amount
    if paid.refundable <= 0:
        raise Conflict(
            "Everything paid for this order has already been refunded.", code="refund_exceeds_paid"
        )
    if value > paid.refundable:
        raise Conflict(
            f"Refunding {format_money(value, currency)} would take the refunds on this order past what "
            f"was paid; at most {format_money(paid.refundable, currency)} is left to refund.",
            code="refund_exceeds_paid",
        )
    return value


# --- opening -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderRef:
    id: str
    buyer_id: str
    seller_id: str
    currency: str
    promised_latest: date


@dataclass(frozen=True, slots=True)
class CaseRequest:
    type: CaseType
    description: str
    requested_resolution: Requested
    amount: int | None = None
    shipment_id: str | None = None


def open_case(
    case_id: str,
    order: OrderRef,
    request: CaseRequest,
    parcels: Sequence[ParcelFacts],
    paid: Paid,
    now: datetime,
    policy: CasePolicy,
) -> Case:
    """A new case awaiting the seller, or the refusal naming the window and every field at fault
    (all of them at once: a form answered one error at a time is a form sent three times)."""
    errors: list[FieldError] = []
    if not request.description.strip():
        errors.append(FieldError("description", "required", "Describe the problem."))
    try:
        reporting_window(request.type, order.promised_latest, parcels, now, policy)
    except ValidationFailed as refused:
        errors += refused.errors
    try:
        outcome = _OUTCOME_OF_REQUEST[request.requested_resolution]
        settle_amount(outcome, request.amount, paid, order.currency)
    except ValidationFailed as refused:
        errors += refused.errors
    if errors:
        raise ValidationFailed(errors)
    return Case(
        id=case_id,
        order_id=order.id,
        buyer_id=order.buyer_id,
        seller_id=order.seller_id,
        type=request.type,
        status=CaseStatus.AWAITING_SELLER,
        description=request.description.strip(),
        requested_resolution=request.requested_resolution,
        amount=request.amount,
        currency=order.currency,
        opened_at=now,
        respond_by=now + policy.response_time,
        escalate_until=now + policy.escalation_window,
        updated_at=now,
        shipment_id=request.shipment_id,
    )


# --- transitions -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Command:
    action: Action
    by: Party
    actor_id: str | None = None
    outcome: Outcome | None = None  # offer: what is offered; decide: the decision
    amount: int | None = None
    note: str = ""


def _resolve(case: Case, cmd: Command, outcome: Outcome, amount: int | None, now: datetime) -> Case:
    return replace(
        case,
        status=CaseStatus.RESOLVED,
        offer=None,
        resolution=Resolution(outcome, amount, cmd.actor_id, cmd.by, now, cmd.note.strip()),
        closed_at=now,
        updated_at=now,
    )


def _seller_may_respond(case: Case, grants_request: bool = False) -> None:
    """The seller answers a case waiting for them. Once the buyer has the answer, an offer or a
    rejection waits for theirs (a second one would take back an offer they may be accepting); only
    granting what the buyer asked stays open to the seller."""
    if case.status is CaseStatus.ESCALATED:
        raise Conflict("The case is escalated; platform support decides it now.", code="case_escalated")
    if case.status is CaseStatus.AWAITING_BUYER and not grants_request:
        answer = "offer" if case.offer is not None else "answer"
        raise Conflict(
            f"The buyer has your {answer} and replies next; you can still accept their request in full.",
            code="awaiting_buyer",
        )


def _accept(case: Case, cmd: Command, now: datetime, paid: Paid) -> Case:
    _seller_may_respond(case, grants_request=True)
    outcome = _OUTCOME_OF_REQUEST[case.requested_resolution]
    return _resolve(case, cmd, outcome, settle_amount(outcome, case.amount, paid, case.currency), now)


def _offer(case: Case, cmd: Command, now: datetime, paid: Paid) -> Case:
    _seller_may_respond(case)
    if cmd.outcome is None:
        raise ValidationFailed.one(
            "resolution", "required", "Say what you offer: partial_refund or replacement."
        )
    if cmd.outcome is Outcome.REJECT:
        raise ValidationFailed.one(
            "resolution", "invalid_choice", "An offer is a refund, a partial refund or a replacement."
        )
    amount = settle_amount(cmd.outcome, cmd.amount, paid, case.currency)
    return replace(
        case, status=CaseStatus.AWAITING_BUYER, offer=Offer(cmd.outcome, amount, now), updated_at=now
    )


def _reject(case: Case, cmd: Command, now: datetime, paid: Paid) -> Case:
    _seller_may_respond(case)
    if not cmd.note.strip():
        raise ValidationFailed.one("message", "required", "Give the buyer the reason for the rejection.")
    return replace(case, status=CaseStatus.AWAITING_BUYER, offer=None, updated_at=now)


def _accept_offer(case: Case, cmd: Command, now: datetime, paid: Paid) -> Case:
    if case.status is not CaseStatus.AWAITING_BUYER or case.offer is None:
        raise Conflict("There is no offer from the seller to accept.", code="no_offer")
    offer = case.offer
    return _resolve(
        case,
        cmd,
        offer.resolution,
        settle_amount(offer.resolution, offer.amount, paid, case.currency),
        now,
    )


def _escalate(case: Case, cmd: Command, now: datetime, paid: Paid) -> Case:
    if case.status is CaseStatus.ESCALATED:
        raise Conflict("The case is already escalated.", code="already_escalated")
    if now >= case.escalate_until:
        raise Conflict(
            f"The escalation window closed at {_stamp(case.escalate_until)}.", code="escalation_window_closed"
        )
    if case.status is CaseStatus.AWAITING_SELLER and now < case.respond_by:
        raise Conflict(
            "The seller has until "
            f"{_stamp(case.respond_by)} to respond; the case can be escalated after a rejection or an "
            "offer, or once that deadline has passed.",
            code="too_early_to_escalate",
        )
    return replace(case, status=CaseStatus.ESCALATED, offer=None, escalated_at=now, updated_at=now)


def _auto_escalate(case: Case, cmd: Command, now: datetime, paid: Paid) -> Case:
    if case.status is not CaseStatus.AWAITING_SELLER or now < case.respond_by:
        raise Conflict("Only a case the seller left unanswered past its deadline escalates by itself.")
    return replace(case, status=CaseStatus.ESCALATED, escalated_at=now, updated_at=now)


def _withdraw(case: Case, cmd: Command, now: datetime, paid: Paid) -> Case:
    return replace(case, status=CaseStatus.WITHDRAWN, offer=None, closed_at=now, updated_at=now)


def _lapse(case: Case, cmd: Command, now: datetime, paid: Paid) -> Case:
    if case.status is not CaseStatus.AWAITING_BUYER or now < case.escalate_until:
        raise Conflict("Only a case left with the buyer past the escalation window lapses.")
    return replace(case, status=CaseStatus.WITHDRAWN, offer=None, closed_at=now, updated_at=now)


def _decide(case: Case, cmd: Command, now: datetime, paid: Paid) -> Case:
    if case.status is not CaseStatus.ESCALATED:
        raise Conflict("Support decides escalated cases; this one is not escalated.", code="not_escalated")
    if cmd.outcome is None:
        raise ValidationFailed.one("outcome", "required", "Give the decision.")
    if not cmd.note.strip():
        raise ValidationFailed.one("note", "required", "Explain the decision to both parties.")
    return _resolve(case, cmd, cmd.outcome, settle_amount(cmd.outcome, cmd.amount, paid, case.currency), now)


_Handler = Callable[[Case, Command, datetime, Paid], Case]
_HANDLERS: dict[Action, _Handler] = {
    Action.ACCEPT: _accept,
    Action.OFFER: _offer,
    Action.REJECT: _reject,
    Action.ACCEPT_OFFER: _accept_offer,
    Action.ESCALATE: _escalate,
    Action.AUTO_ESCALATE: _auto_escalate,
    Action.WITHDRAW: _withdraw,
    Action.LAPSE: _lapse,
    Action.DECIDE: _decide,
}


def apply(case: Case, cmd: Command, now: datetime, paid: Paid) -> Case:
    """The case after this action, or the refusal: 403 for the wrong party, 409 for the wrong state,
    422 for a missing or invalid field. A closed case (resolved, withdrawn) never changes again."""
    if cmd.by not in WHO_MAY[cmd.action]:
        allowed = " or ".join(_PARTY_NAMES[p] for p in sorted(WHO_MAY[cmd.action]))
        raise Forbidden(f"Only {allowed} can {_DOING[cmd.action]}.")
    if not case.is_open:
        raise Conflict(f"The case is {case.status}; it can no longer change.", code="case_closed")
    return _HANDLERS[cmd.action](case, cmd, now, paid)


def history_entry(before: Case, after: Case, cmd: Command, now: datetime) -> CaseEvent:
    detail: dict[str, Any] = {}
    if cmd.note.strip():
        detail["note"] = cmd.note.strip()
    if after.offer is not None and after.offer != before.offer:
        detail["offer"] = {"resolution": after.offer.resolution.value, "amount": after.offer.amount}
    if after.resolution is not None and before.resolution is None:
        detail["outcome"] = after.resolution.outcome.value
        detail["amount"] = after.resolution.amount
    return CaseEvent(after.id, now, cmd.action.value, cmd.actor_id, cmd.by, after.status, detail)
