"""Request bodies as pydantic models (strict numbers: 19.99 is not a price in minor units)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt, StrictStr, field_validator
from pydantic_core import PydanticCustomError

from ordertrail.domain.events import PLACE_TEXT_LIMITS, PROOF_TEXT_LIMITS, SCAN_TEXT_LIMITS
from ordertrail.domain.statuses import ShipmentStatus
from ordertrail.entrypoints.web.problems import NUL_MESSAGE

Text = Annotated[StrictStr, Field(max_length=2000)]
Short = Annotated[StrictStr, Field(max_length=300)]


class Fields(BaseModel):
    """A request body's fields as they are; `Body` adds the NUL check to every one of them."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)


class Body(Fields):
    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        """No text may hold a NUL character: PostgreSQL cannot store one, and no name, address or
        scan has a use for it. Checked on every field of every body, lists of text included."""
        texts = value if isinstance(value, list | tuple) else (value,)
        if any(isinstance(t, str) and "\x00" in t for t in texts):
            raise PydanticCustomError("invalid_character", NUL_MESSAGE)
        return value


class UserIn(Body):
    role: Literal["buyer", "seller", "support", "carrier", "admin"]
    name: Annotated[StrictStr, Field(min_length=1, max_length=200)]
    email: Annotated[StrictStr, Field(max_length=320)] | None = None


class AddressIn(Body):
    name: Short = ""
    company_name: Short | None = None
    street_address: Short = ""
    city: Short = ""
    city_area: Short | None = None
    country_area: Short | None = None
    postal_code: Short | None = None
    sorting_code: Short | None = None
    country_code: Annotated[StrictStr, Field(max_length=3)] = ""
    phone: Annotated[StrictStr, Field(max_length=40)] | None = None


class ItemIn(Body):
    sku: Annotated[StrictStr, Field(min_length=1, max_length=100)]
    title: Annotated[StrictStr, Field(min_length=1, max_length=300)]
    quantity: StrictInt
    unit_price: StrictInt


class OrderIn(Body):
    seller_id: Annotated[StrictStr, Field(max_length=64)]
    buyer_id: Annotated[StrictStr, Field(max_length=64)] | None = None
    items: Annotated[list[ItemIn], Field(max_length=500)]
    currency: Annotated[StrictStr, Field(min_length=3, max_length=3)]
    shipping_fee: StrictInt = 0
    shipping_address: AddressIn
    shipping_service: Annotated[StrictStr, Field(max_length=32)] = "standard"


class CancelIn(Body):
    reason: Annotated[StrictStr, Field(max_length=1000)]


class ShipmentItemIn(Body):
    sku: Annotated[StrictStr, Field(min_length=1, max_length=100)]
    quantity: StrictInt


class ShipmentIn(Body):
    tracking_number: Annotated[StrictStr, Field(min_length=1, max_length=128)]
    carrier: Annotated[StrictStr, Field(max_length=32)] | None = None
    items: Annotated[list[ShipmentItemIn], Field(max_length=500)] | None = None
    # The aggregator that already tracks the number for the shop: its format and check digit are then
    # not enforced, and `carrier` is required (domain.carriers, rule 4).
    tracked_by: Literal["easypost", "aftership", "17track", "shippo"] | None = None


class TrackingNumberIn(Body):
    tracking_number: Annotated[StrictStr, Field(min_length=1, max_length=128)]
    carrier: Annotated[StrictStr, Field(max_length=32)] | None = None


class LocationIn(Fields):
    city: Annotated[StrictStr, Field(max_length=PLACE_TEXT_LIMITS["city"])] | None = None
    region: Annotated[StrictStr, Field(max_length=PLACE_TEXT_LIMITS["region"])] | None = None
    postal_code: Annotated[StrictStr, Field(max_length=PLACE_TEXT_LIMITS["postal_code"])] | None = None
    country_code: Annotated[StrictStr, Field(pattern=r"^[A-Za-z]{2}$")] | None = None


class ProofIn(Fields):
    type: Literal["photo", "signature"]
    url: Annotated[StrictStr, Field(max_length=PROOF_TEXT_LIMITS["url"])] | None = None
    signed_by: Annotated[StrictStr, Field(max_length=PROOF_TEXT_LIMITS["signed_by"])] | None = None


# The carrier events' models skip Body's check, a Python call for every field of up to 1,000
# events: the route looks for NUL once in the whole batch instead (api.carrier_events).
class CarrierEventIn(Fields):
    tracking_number: Annotated[StrictStr, Field(min_length=1, max_length=128)]
    carrier: Annotated[StrictStr, Field(max_length=32)] | None = None
    event_id: Annotated[StrictStr, Field(min_length=1, max_length=SCAN_TEXT_LIMITS["event_id"])] | None = None
    occurred_at: AwareDatetime
    status: ShipmentStatus | None = None
    substatus: Annotated[StrictStr, Field(max_length=SCAN_TEXT_LIMITS["substatus"])] | None = None
    code: Annotated[StrictStr, Field(min_length=1, max_length=SCAN_TEXT_LIMITS["carrier_code"])] | None = None
    description: Annotated[StrictStr, Field(max_length=SCAN_TEXT_LIMITS["description"])] = ""
    location: LocationIn | None = None
    estimated_delivery: date | None = None
    proof_of_delivery: ProofIn | None = None


class CarrierEventsIn(Body):
    # Events are validated one by one in the route so that a bad one is refused alone.
    events: Annotated[list[Any], Field(min_length=1, max_length=1000)]


class SubscriptionIn(Body):
    url: Annotated[StrictStr, Field(max_length=2000)]
    events: Annotated[list[StrictStr], Field(min_length=1, max_length=50)]
