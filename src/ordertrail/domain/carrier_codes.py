"""Carriers' own scan codes mapped to the taxonomy, for events that arrive with a code but no status.

Only codes whose meaning is unambiguous are listed; an unlisted code without a status is refused
with a precise error rather than guessed.
"""

from __future__ import annotations

from ordertrail.domain.statuses import ShipmentStatus as S

# code -> (status, substatus)
_FEDEX = {
    "OC": (S.INFO_RECEIVED, "label_created"),
    "PU": (S.IN_TRANSIT, "picked_up"),
    "AR": (S.IN_TRANSIT, "arrived_at_facility"),
    "DP": (S.IN_TRANSIT, "departed_facility"),
    "IT": (S.IN_TRANSIT, "in_transit"),
    "AF": (S.IN_TRANSIT, "at_facility"),
    "CC": (S.IN_TRANSIT, "customs_cleared"),
    "CD": (S.DELAYED, "customs_delay"),
    "OD": (S.OUT_FOR_DELIVERY, "out_for_delivery"),
    "DL": (S.DELIVERED, "delivered"),
    "DE": (S.DELIVERY_ATTEMPTED, "delivery_exception"),
    "HL": (S.AVAILABLE_FOR_PICKUP, "hold_at_location"),
    "SE": (S.EXCEPTION, "shipment_exception"),
    "RS": (S.RETURNING_TO_SENDER, "return_to_shipper"),
    "CA": (S.CANCELLED, "label_cancelled"),
}
_UPS = {
    "M": (S.INFO_RECEIVED, "manifest"),
    "MV": (S.CANCELLED, "manifest_voided"),
    "P": (S.IN_TRANSIT, "picked_up"),
    "I": (S.IN_TRANSIT, "in_transit"),
    "O": (S.OUT_FOR_DELIVERY, "out_for_delivery"),
    "D": (S.DELIVERED, "delivered"),
    "X": (S.EXCEPTION, "exception"),
    "RS": (S.RETURNING_TO_SENDER, "returned_to_shipper"),
    "DO": (S.DELIVERED, "delivered_origin_cfs"),
    "DD": (S.DELIVERED, "delivered_destination_cfs"),
    "W": (S.IN_TRANSIT, "warehousing"),
    "NA": (S.PENDING, "not_available"),
}
_USPS = {
    "GX": (S.INFO_RECEIVED, "label_created"),
    "MA": (S.INFO_RECEIVED, "manifest_acknowledged"),
    "03": (S.IN_TRANSIT, "accepted"),
    "OA": (S.IN_TRANSIT, "accepted"),
    "10": (S.IN_TRANSIT, "processed"),
    "07": (S.IN_TRANSIT, "arrived_at_unit"),
    "OF": (S.OUT_FOR_DELIVERY, "out_for_delivery"),
    "01": (S.DELIVERED, "delivered"),
    "02": (S.DELIVERY_ATTEMPTED, "notice_left"),
    "53": (S.AVAILABLE_FOR_PICKUP, "available_for_pickup"),
    "04": (S.EXCEPTION, "refused"),
    "05": (S.EXCEPTION, "undeliverable_as_addressed"),
    "09": (S.RETURNING_TO_SENDER, "return_to_sender"),
}

CODES: dict[str, dict[str, tuple[S, str]]] = {
    "fedex": _FEDEX,
    "ups": _UPS,
    "usps": _USPS,
    "simulated": _FEDEX,
}


def status_for_code(carrier: str | None, code: str) -> tuple[S, str] | None:
    """The status a carrier's code stands for; the canonical status names count as codes everywhere."""
    table = CODES.get(carrier or "", {})
    hit = table.get(code) or table.get(code.upper())
    if hit is not None:
        return hit
    try:
        return S(code.lower()), code.lower()
    except ValueError:
        return None
