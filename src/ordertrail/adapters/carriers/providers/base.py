"""What every provider parser shares: the parsed result, the one error type, a JSON reader whose
errors name the path, and the rules that turn a provider's codes into the taxonomy of DESIGN.md §3.

Error tree: the parsers raise exactly one exception for bad input, `PayloadError` (a `ValueError`).
Its message starts with the provider name and names the JSON path, so "what was wrong with it" can be
answered from a log line. Nothing else (KeyError, TypeError, ...) escapes a parser for any input bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from ordertrail.domain.events import ProofOfDelivery, ScanEvent, in_range
from ordertrail.domain.statuses import ShipmentStatus
from ordertrail.domain.text import storable

S = ShipmentStatus


class PayloadError(ValueError):
    """The webhook body is not JSON, has the wrong shape, or lacks a required field."""


@dataclass(frozen=True, slots=True)
class ParsedWebhook:
    """One webhook delivery, normalised. `events` are oldest first by carrier time."""

    tracking_number: str
    carrier_slug: str | None
    events: list[ScanEvent]
    estimated_delivery: date | None = None
    proof_of_delivery: ProofOfDelivery | None = None
    # Provider codes this parser has no table entry for, raw and deduplicated. They are also kept on
    # each event as `raw_status`; listing them here lets ingestion alert on a provider's new codes.
    unknown_codes: list[str] = field(default_factory=list)
    provider_event_id: str | None = None


Parser = Callable[[bytes], ParsedWebhook]
Verifier = Callable[[Mapping[str, str], bytes, str, datetime], bool]


@dataclass(frozen=True, slots=True)
class Provider:
    name: str
    signature_header: str
    parse: Parser
    verify: Verifier


def header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup (HTTP header names are case-insensitive; plain dicts are not)."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


# --- reading JSON ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Node:
    """A JSON object plus where it sits in the body, so every error names its path."""

    provider: str
    path: str
    data: Mapping[str, Any]

    def where(self, key: str | int) -> str:
        step = f"[{key}]" if isinstance(key, int) else (f".{key}" if self.path else key)
        return f"{self.path}{step}" if self.path else step

    def error(self, key: str, problem: str) -> PayloadError:
        return PayloadError(f"{self.provider}: {self.where(key)} {problem}")

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def opt_text(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.error(key, f"must be a string, got {type(value).__name__}")
        # A stray NUL in a provider's text is dropped and a lone surrogate (no character at all)
        # becomes "?": PostgreSQL can store neither, and refusing the payload would make the
        # provider resend it for days.
        return storable(value).strip() or None

    def text(self, key: str) -> str:
        value = self.opt_text(key)
        if value is None:
            raise self.error(key, "is missing")
        return value

    def opt_int(self, key: str) -> int | None:
        value = self.data.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
        raise self.error(key, f"must be an integer, got {value!r}")

    def opt_child(self, key: str) -> Node | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise self.error(key, f"must be an object, got {type(value).__name__}")
        return Node(self.provider, self.where(key), value)

    def child(self, key: str) -> Node:
        node = self.opt_child(key)
        if node is None:
            raise self.error(key, "is missing")
        return node

    def children(self, key: str) -> list[Node]:
        """A list of objects; absent or null reads as empty, because providers omit empty lists."""
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error(key, f"must be a list, got {type(value).__name__}")
        path = self.where(key)
        out: list[Node] = []
        for i, item in enumerate(value):
            if not isinstance(item, Mapping):
                raise PayloadError(
                    f"{self.provider}: {path}[{i}] must be an object, got {type(item).__name__}"
                )
            out.append(Node(self.provider, f"{path}[{i}]", item))
        return out

    def opt_time(self, key: str) -> datetime | None:
        """An ISO 8601 time, naive or aware exactly as written; the caller decides what it means."""
        text = self.opt_text(key)
        if text is None:
            return None
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise self.error(key, f"is not an ISO 8601 time: {text!r}") from None
        if not in_range(moment):  # a broken payload (domain.events.MIN_YEAR, MAX_YEAR)
            raise self.error(key, f"is out of range: {text!r}")
        return moment

    def opt_date(self, key: str) -> date | None:
        """The calendar date as written. Providers send dates as midnight-UTC timestamps
        ("2024-08-05T00:00:00Z"); converting those to a local zone would move them a day back."""
        moment = self.opt_time(key)
        return moment.date() if moment is not None else None


def load(provider: str, body: bytes) -> Node:
    if not isinstance(body, bytes | bytearray | memoryview):
        raise PayloadError(f"{provider}: body must be bytes, got {type(body).__name__}")
    try:
        data = json.loads(bytes(body))
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise PayloadError(f"{provider}: body is not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise PayloadError(f"{provider}: body must be a JSON object, got {type(data).__name__}")
    return Node(provider, "", data)


# --- codes -> taxonomy ----------------------------------------------------------------------------

# A code table entry: the status the code stands for (None: "says nothing about the status, only
# why") and the substatus reason code (None: no reason beyond the status itself).
Code = tuple[ShipmentStatus | None, str | None]

UNRECOGNISED = "unrecognised_carrier_status"

# Statuses in which the provider is telling us the parcel is on its way.
MOVING = frozenset(
    {S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.AVAILABLE_FOR_PICKUP, S.DELIVERY_ATTEMPTED, S.DELAYED}
)


def refine(
    main: ShipmentStatus, sub: Code | None, *, main_is_final: bool
) -> tuple[ShipmentStatus, str | None]:
    """Combine a provider's main status with its sub-code when the two are independent fields.

    A sub-code that names a different status overrides a non-final main status (EasyPost
    `in_transit` + `weather_delay` is a delay). It never overrides a final one (delivered,
    returned): the sub-code then describes another state, so it cannot be a reason for this one and
    is dropped; the raw pair stays on the event.
    """
    if sub is None:
        return main, None
    status, reason = sub
    if status is None or status is main:
        return main, reason
    if main_is_final:
        return main, None
    return status, reason


def classify_pair(
    status: str | None,
    sub_code: str | None,
    shipment: ShipmentStatus | None,
    *,
    statuses: Mapping[str, ShipmentStatus],
    sub_codes: Mapping[str, Code],
    final: Collection[str],
) -> tuple[ShipmentStatus, str | None, list[str]]:
    """(status, substatus, unknown codes) for a provider that sends a main status and a sub-code
    as independent fields (EasyPost, Shippo): the main status decides, the sub-code refines it."""
    unknown: list[str] = []
    sub = sub_codes.get(sub_code) if sub_code else None
    if sub_code and sub is None:
        unknown.append(sub_code)
    main = statuses.get(status) if status else None
    if main is None:
        if status:
            unknown.append(status)
        if sub is not None and sub[0] is not None:
            return sub[0], sub[1], unknown
        return (*fallback(shipment), unknown)
    result, reason = refine(main, sub, main_is_final=status in final)
    return result, reason, unknown


def fallback(shipment_status: ShipmentStatus | None) -> tuple[ShipmentStatus, str]:
    """The status of an event whose code *and* main status are both unknown.

    `in_transit` only when the provider's shipment-level status says the parcel is moving. Otherwise
    `exception`: it never claims a delivery, it puts a person in the loop for a code nobody has
    mapped yet, and a later event with a known code replaces it under the merge rules.
    """
    if shipment_status in MOVING:
        return S.IN_TRANSIT, UNRECOGNISED
    return S.EXCEPTION, UNRECOGNISED


def finish(
    *,
    tracking_number: str,
    carrier_slug: str | None,
    events: Iterable[ScanEvent],
    estimated_delivery: date | None,
    proof_of_delivery: ProofOfDelivery | None,
    unknown_codes: Iterable[str],
    provider_event_id: str | None,
) -> ParsedWebhook:
    """Order the events and hang the shipment-level facts on the events they belong to.

    The provider's estimate is its view as of its newest scan, so it goes on the newest event (unless
    the provider stamped that event with its own estimate); proof of delivery goes on the newest
    `delivered` event. Both stay on the result too.
    """
    ordered = sorted(events, key=lambda e: e.occurred_at_utc)  # stable: ties keep provider order
    if ordered and estimated_delivery is not None and ordered[-1].estimated_delivery is None:
        ordered[-1] = replace(ordered[-1], estimated_delivery=estimated_delivery)
    if proof_of_delivery is not None:
        for i in range(len(ordered) - 1, -1, -1):
            if ordered[i].status is S.DELIVERED:
                if ordered[i].proof_of_delivery is None:
                    ordered[i] = replace(ordered[i], proof_of_delivery=proof_of_delivery)
                break
    return ParsedWebhook(
        tracking_number=tracking_number,
        carrier_slug=carrier_slug,
        events=ordered,
        estimated_delivery=estimated_delivery,
        proof_of_delivery=proof_of_delivery,
        unknown_codes=list(dict.fromkeys(unknown_codes)),
        provider_event_id=provider_event_id,
    )
