"""The words the case pages use for the case model's values."""

from __future__ import annotations

from typing import Any

from ordertrail.domain.cases import CaseEvent
from ordertrail.domain.money import format_money

CASE_TYPES = {
    "not_received": ("It has not arrived", "The parcel is late, stuck or lost."),
    "delivered_not_received": ("It says delivered, but I don't have it", "The tracking shows a delivery."),
    "damaged": ("It arrived damaged", "A photo of the damage helps."),
    "wrong_item": ("I got the wrong item", "A photo of what arrived helps."),
    "missing_items": ("Items are missing", "A photo of what arrived helps."),
    "late_delivery": ("It arrived late", "It came after the promised date."),
}
RESOLUTIONS = {
    "refund": "Full refund",
    "partial_refund": "Partial refund",
    "replacement": "Replacement",
    "return_and_refund": "Return it for a refund",
    "reject": "Reject the claim",
}
PARTIES = {"buyer": "Buyer", "seller": "Seller", "support": "Platform support", "system": "ordertrail"}
CASE_STATUSES = {
    "awaiting_seller": "Waiting for the seller",
    "awaiting_buyer": "Waiting for the buyer",
    "escalated": "With platform support",
    "resolved": "Resolved",
    "withdrawn": "Withdrawn",
}


def case_type(value: str) -> str:
    return CASE_TYPES.get(value, (value.replace("_", " ").capitalize(), ""))[0]


def resolution(value: str | None) -> str:
    return RESOLUTIONS.get(value or "", (value or "").replace("_", " "))


def step(event: CaseEvent, currency: str) -> str:
    """One history entry in words: 'offered a partial refund of 12.00 USD'."""
    d: dict[str, Any] = dict(event.detail)

    def money(amount: int | None) -> str:
        return f" of {format_money(amount, currency)}" if amount is not None else ""

    offer = d.get("offer") or {}
    words = {
        "open": f"opened the case, asking for: {resolution(d.get('requested_resolution')).lower()}"
        + money(d.get("amount")),
        "message": "wrote a message",
        "attachment": f"added evidence: {d.get('filename', 'a file')}",
        "accept": f"accepted the claim: {resolution(d.get('outcome')).lower()}{money(d.get('amount'))}",
        "offer": f"offered: {resolution(offer.get('resolution')).lower()}{money(offer.get('amount'))}",
        "reject": "rejected the claim",
        "accept_offer": "accepted the offer",
        "escalate": "escalated the case to platform support",
        "auto_escalate": "escalated the case: the seller did not answer in time",
        "withdraw": "withdrew the case",
        "lapse": "closed the case: it was not escalated in time",
        "decide": f"decided: {resolution(d.get('outcome')).lower()}{money(d.get('amount'))}",
    }
    return words.get(event.action, event.action.replace("_", " "))
