"""The three-level status taxonomy of DESIGN.md §3."""

from enum import StrEnum


class ShipmentStatus(StrEnum):
    PENDING = "pending"
    INFO_RECEIVED = "info_received"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    AVAILABLE_FOR_PICKUP = "available_for_pickup"
    DELIVERY_ATTEMPTED = "delivery_attempted"
    DELAYED = "delayed"
    ACTION_REQUIRED = "action_required"
    EXCEPTION = "exception"
    RETURNING_TO_SENDER = "returning_to_sender"
    RETURNED_TO_SENDER = "returned_to_sender"
    LOST = "lost"
    DAMAGED = "damaged"
    DISPOSED = "disposed"
    CANCELLED = "cancelled"
    DELIVERED = "delivered"
    EXPIRED = "expired"


class OrderStatus(StrEnum):
    AWAITING_SHIPMENT = "awaiting_shipment"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Role(StrEnum):
    ADMIN = "admin"
    BUYER = "buyer"
    SELLER = "seller"
    SUPPORT = "support"
    CARRIER = "carrier"


# Statuses that mean the carrier has physically handled the parcel: once one of these is seen,
# the address can no longer change.
SCANNED = frozenset(ShipmentStatus) - {ShipmentStatus.PENDING, ShipmentStatus.INFO_RECEIVED}

# Statuses from which the parcel will not move again without a new event starting a new cycle.
TERMINAL = frozenset(
    {
        ShipmentStatus.DELIVERED,
        ShipmentStatus.RETURNED_TO_SENDER,
        ShipmentStatus.LOST,
        ShipmentStatus.DAMAGED,
        ShipmentStatus.DISPOSED,
        ShipmentStatus.CANCELLED,
        ShipmentStatus.EXPIRED,
    }
)
