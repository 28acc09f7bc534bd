"""What the case notifications say (`case_opened`, `case_updated`, `case_escalated`, `case_resolved`)."""

from __future__ import annotations

from datetime import UTC

from ordertrail.domain.cases import Case, CaseStatus, Outcome
from ordertrail.domain.money import format_money
from ordertrail.domain.notices import Notice

_TYPE_WORDS = {
    "not_received": "order not received",
    "delivered_not_received": "delivered but not received",
    "damaged": "item damaged",
    "wrong_item": "wrong item",
    "missing_items": "items missing",
    "late_delivery": "late delivery",
}


def _data(case: Case) -> dict[str, str]:
    return {"case_id": case.id, "status": case.status.value}


def _what(case: Case, start: bool = False) -> str:
    """The case in words; `start` for the head of a sentence (ids keep their case: they are keys)."""
    return f"{'C' if start else 'c'}ase {case.id} ({_TYPE_WORDS.get(case.type, case.type)}) on order {case.order_id}"


def case_opened(case: Case) -> Notice:
    deadline = case.respond_by.astimezone(UTC).strftime("%a %d %b %Y %H:%M UTC")
    return Notice(
        "case_opened",
        f"Problem reported on order {case.order_id}",
        f"The buyer opened {_what(case)} and asks for a {case.requested_resolution.replace('_', ' ')}. "
        f"Respond by {deadline}: accept, make an offer or reject with a reason. Without a response the "
        "case goes to platform support.",
        _data(case),
    )


def case_updated(case: Case, what: str) -> Notice:
    return Notice("case_updated", f"Update on case {case.id}", f"{what} ({_what(case)}).", _data(case))


def offer_words(outcome: Outcome, amount: int | None, currency: str) -> str:
    if outcome is Outcome.REPLACEMENT:
        return "a replacement"
    if amount is None:
        return "a full refund"
    kind = "a refund" if outcome is Outcome.REFUND else "a partial refund"
    return f"{kind} of {format_money(amount, currency)}"


def case_escalated(case: Case, automatic: bool) -> Notice:
    why = (
        "The seller did not respond in time, so the case went to platform support"
        if automatic
        else "The case was escalated to platform support"
    )
    return Notice(
        "case_escalated",
        f"Case {case.id} is with platform support",
        f"{why} ({_what(case)}). Support will review the messages and evidence and decide.",
        _data(case),
    )


def case_resolved(case: Case) -> Notice:
    if case.status is CaseStatus.WITHDRAWN:
        body = f"{_what(case, start=True)} was closed without a resolution."
    else:
        assert case.resolution is not None
        r = case.resolution
        if r.outcome is Outcome.REJECT:
            result = "The claim was rejected"
        else:
            result = f"Outcome: {offer_words(r.outcome, r.amount, case.currency)}"
        note = f" Note: {r.note}" if r.note else ""
        body = f"{_what(case, start=True)} is resolved. {result}.{note}"
    return Notice("case_resolved", f"Case {case.id} closed", body, _data(case))
