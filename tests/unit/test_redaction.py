"""Personal data out of carrier text for the public tracking view (domain.redaction)."""

from __future__ import annotations

import pytest

from ordertrail.domain.redaction import HIDDEN, personal_terms, redact

TERMS = personal_terms(
    ["Ana Souza", "Ana B. Souza"], ["742 Evergreen Terrace", "+1 217 555 0199", "ana@example.com"]
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Delivered, signed by A SOUZA", f"Delivered, signed by {HIDDEN}"),
        (
            "Delivered. Received by: Zebulon Quixote (front desk)",
            f"Delivered. Received by {HIDDEN}(front desk)",
        ),
        ("Left with neighbour at 742 Evergreen Terrace", f"Left with {HIDDEN}"),
        ("Delivered to 742 EVERGREEN TERRACE", f"Delivered to {HIDDEN}"),
        ("Recipient: Bob, call +1 217 555 0199", f"Recipient: {HIDDEN}, call {HIDDEN}"),
        ("Customer ana@example.com notified", f"Customer {HIDDEN} notified"),
        ("Contact bob.smith+1@mail.example.co.uk", f"Contact {HIDDEN}"),
        ("Call (650) 253-0000 to reschedule", f"Call {HIDDEN} to reschedule"),
        ("Souza not home, notice left", f"{HIDDEN} not home, notice left"),
    ],
)
def test_names_streets_phones_and_emails_are_hidden(text: str, expected: str) -> None:
    assert redact(text, TERMS) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Arrived at sort facility MEMPHIS, TN 38118",
        "Departed facility on 2026-11-27 at 10:45",
        "Signature required; delivery attempted",
        "Out for delivery in Indiana, vehicle 12",
        "Shipment information received, label 1Z5R89390357567127",
        "Delivered, front door",
        "",
    ],
)
def test_what_a_scan_says_about_the_parcel_stays(text: str) -> None:
    assert redact(text, TERMS) == text


def test_name_parts_too_short_to_be_telling_are_not_hidden_on_their_own() -> None:
    terms = personal_terms(["Al Li"])
    assert redact("Arrived at Al Khobar hub", terms) == "Arrived at Al Khobar hub"
    assert redact("Signed: Al Li", terms) == f"Signed: {HIDDEN}"
