"""What a tracking page says about a parcel: its milestones, its window and why it is late. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from ordertrail.domain.statuses import OrderStatus, ShipmentStatus

S = ShipmentStatus

STATUS_LABELS: dict[str, str] = {
    S.PENDING: "Label created",
    S.INFO_RECEIVED: "Label created",
    S.IN_TRANSIT: "In transit",
    S.OUT_FOR_DELIVERY: "Out for delivery",
    S.AVAILABLE_FOR_PICKUP: "Ready for pickup",
    S.DELIVERY_ATTEMPTED: "Delivery attempted",
    S.DELAYED: "Delayed",
    S.ACTION_REQUIRED: "Action required",
    S.EXCEPTION: "Delivery problem",
    S.RETURNING_TO_SENDER: "Returning to sender",
    S.RETURNED_TO_SENDER: "Returned to sender",
    S.LOST: "Lost",
    S.DAMAGED: "Damaged",
    S.DISPOSED: "Disposed of",
    S.CANCELLED: "Label cancelled",
    S.DELIVERED: "Delivered",
    S.EXPIRED: "Tracking ended",
    OrderStatus.AWAITING_SHIPMENT: "Awaiting shipment",
    OrderStatus.PARTIALLY_SHIPPED: "Partly shipped",
    OrderStatus.SHIPPED: "Shipped",
    OrderStatus.COMPLETED: "Completed",
    OrderStatus.CANCELLED: "Cancelled",
}
# (order in_transit and delivered share the shipment labels above)

MILESTONES = (
    ("ordered", "Ordered"),
    ("shipped", "Shipped"),
    ("in_transit", "In transit"),
    ("out_for_delivery", "Out for delivery"),
    ("delivered", "Delivered"),
)

# How far along the milestones each status has come.
_REACHED: dict[ShipmentStatus, int] = {
    S.PENDING: 1,
    S.INFO_RECEIVED: 1,
    S.CANCELLED: 1,
    S.IN_TRANSIT: 2,
    S.DELAYED: 2,
    S.ACTION_REQUIRED: 2,
    S.EXCEPTION: 2,
    S.RETURNING_TO_SENDER: 2,
    S.RETURNED_TO_SENDER: 2,
    S.LOST: 2,
    S.DAMAGED: 2,
    S.DISPOSED: 2,
    S.EXPIRED: 2,
    S.OUT_FOR_DELIVERY: 3,
    S.AVAILABLE_FOR_PICKUP: 3,
    S.DELIVERY_ATTEMPTED: 3,
    S.DELIVERED: 4,
}

PROBLEMS = frozenset(
    {
        S.ACTION_REQUIRED,
        S.EXCEPTION,
        S.RETURNING_TO_SENDER,
        S.RETURNED_TO_SENDER,
        S.LOST,
        S.DAMAGED,
        S.DISPOSED,
        S.CANCELLED,
        S.EXPIRED,
    }
)
TROUBLE = PROBLEMS | {S.DELAYED, S.DELIVERY_ATTEMPTED}


def label(status: str) -> str:
    return STATUS_LABELS.get(status, status.replace("_", " ").capitalize())


@dataclass(frozen=True, slots=True)
class Step:
    key: str
    label: str
    state: str  # "done" | "current" | "todo"
    trouble: bool = False


def milestones(status: ShipmentStatus) -> list[Step]:
    """The progress bar: every milestone up to the current one reached; trouble marks the current one."""
    reached = _REACHED.get(status, 1)
    steps = []
    for i, (key, text) in enumerate(MILESTONES):
        if i < reached:
            steps.append(Step(key, text, "done"))
        elif i == reached:
            trouble = status in TROUBLE
            steps.append(Step(key, label(status) if trouble else text, "current", trouble))
        else:
            steps.append(Step(key, text, "todo"))
    return steps


Window = tuple[date, date]


def window_text(window: Window | None) -> str:
    if window is None:
        return "to be confirmed"
    earliest, latest = window
    if earliest == latest:
        return earliest.strftime("%a %d %b")
    return f"{earliest.strftime('%a %d %b')} – {latest.strftime('%a %d %b')}"


def order_window(promised: Window, shipment_windows: Iterable[Window | None]) -> tuple[Window, bool]:
    """The window an order's parcels will arrive in, and whether it ends after the promise."""
    known = [w for w in shipment_windows if w is not None]
    if not known:
        return promised, False
    window = (min(w[0] for w in known), max(w[1] for w in known))
    return window, window[1] > promised[1]


@dataclass(frozen=True, slots=True)
class LatestScan:
    description: str
    place: str | None
    when: str  # already in the carrier's local time, as the page shows it


@dataclass(frozen=True, slots=True)
class DelayNotice:
    level: str  # "warning" | "problem"
    title: str
    reason: str


_PROBLEM_TITLES = {
    S.ACTION_REQUIRED: "The carrier needs something before it can deliver",
    S.EXCEPTION: "There is a problem with this delivery",
    S.RETURNING_TO_SENDER: "The parcel is on its way back to the seller",
    S.RETURNED_TO_SENDER: "The parcel is back with the seller",
    S.LOST: "The carrier reports the parcel lost",
    S.DAMAGED: "The carrier reports the parcel damaged",
    S.DISPOSED: "The carrier disposed of the parcel",
    S.CANCELLED: "The shipping label was cancelled",
    S.EXPIRED: "The carrier stopped tracking this parcel",
}


def _says(scan: LatestScan | None) -> str:
    if scan is None:
        return ""
    where = f"{scan.place}, " if scan.place else ""
    return f"{scan.description} ({where}{scan.when})"


def delay_notice(
    status: ShipmentStatus,
    *,
    stalled: bool,
    predicted_late: bool,
    promised: Window | None,
    estimated: Window | None,
    latest: LatestScan | None,
) -> DelayNotice | None:
    """The banner above a shipment, saying what is wrong and why; None when all is on time."""
    if status is S.DELIVERED:
        return None
    says = _says(latest)
    if status in PROBLEMS:
        reason = f"The carrier's latest scan: {says}." if says else "The carrier gave no detail."
        return DelayNotice("problem", _PROBLEM_TITLES[status], reason + " You can report a problem below.")
    # The estimator's judgement (domain.eta.parcels): late once the median passes the promise. A window
    # whose 90% end passes a 90% promise belongs to parcels merely a day behind.
    late = predicted_late
    if late:
        title = f"Running late: now expected {window_text(estimated)}"
        promise = f"The seller promised {window_text(promised)}."
        if status is S.DELAYED:
            why = f"The carrier reports a delay: {says}."
        elif stalled:
            why = f"The parcel has not been scanned since {says}."
        elif status is S.DELIVERY_ATTEMPTED:
            why = f"A delivery attempt failed: {says}."
        elif says:
            why = f"From where it is now ({says}), it cannot arrive by the promised date."
        else:
            why = "The carrier has not scanned it yet and the promised date is near."
        return DelayNotice("warning", title, f"{why} {promise}")
    if status is S.DELIVERY_ATTEMPTED:
        return DelayNotice("warning", "A delivery attempt failed", f"The carrier says: {says}.")
    if stalled:
        return DelayNotice(
            "warning",
            "No news from the carrier for a while",
            f"The last scan was {says}. We are watching it and will tell you if the date slips.",
        )
    if status is S.DELAYED:
        return DelayNotice(
            "warning",
            "The carrier reports a delay",
            f"{says}. Your delivery window has not changed so far.",
        )
    return None
