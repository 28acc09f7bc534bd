"""Reads the Olist Brazilian e-commerce CSVs into evaluation orders.

Only the columns the evaluation needs are parsed, with the stdlib `csv` reader over `gzip` streams
(the whole development set loads in about two seconds).

What an order carries, and when it is known:
* at checkout: purchase time, seller (first item's; multi-seller orders are flagged), seller and
  customer state and postal prefix, payment method, item count, price and freight;
* at carrier hand-over: `order_delivered_carrier_date`;
* at delivery: `order_delivered_customer_date`.
Olist's own estimate (`order_estimated_delivery_date`) is kept only to be scored, never learned
from.

Population (issue 9): orders with status "delivered" and all five timestamps present. Rows whose
dates are impossible (delivered before hand-over, hand-over before purchase) are dropped and
counted. Days are the customer's local dates: the timestamps are Brasilia wall-clock time, and a
customer in Manaus or Rio Branco is one or two hours behind, which moves a late-evening scan to the
previous day. Daylight-saving time (then observed in the south-east only) is applied through
`zoneinfo`.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from ordertrail.services.edd_evaluation import EvaluationOrder, Loaded

_SOURCE_ZONE = ZoneInfo("America/Sao_Paulo")

# IANA zone of each Brazilian state's capital (the states' own zones in 2016-2018).
STATE_ZONES: dict[str, str] = {
    "AC": "America/Rio_Branco", "AL": "America/Maceio", "AM": "America/Manaus", "AP": "America/Belem",
    "BA": "America/Bahia", "CE": "America/Fortaleza", "DF": "America/Sao_Paulo", "ES": "America/Sao_Paulo",
    "GO": "America/Sao_Paulo", "MA": "America/Fortaleza", "MG": "America/Sao_Paulo", "MS": "America/Campo_Grande",
    "MT": "America/Cuiaba", "PA": "America/Belem", "PB": "America/Fortaleza", "PE": "America/Recife",
    "PI": "America/Fortaleza", "PR": "America/Sao_Paulo", "RJ": "America/Sao_Paulo", "RN": "America/Fortaleza",
    "RO": "America/Porto_Velho", "RR": "America/Boa_Vista", "RS": "America/Sao_Paulo", "SC": "America/Sao_Paulo",
    "SE": "America/Maceio", "SP": "America/Sao_Paulo", "TO": "America/Araguaina",
}  # fmt: skip

FILES = {
    "orders": "olist_orders_dataset.csv",
    "customers": "olist_customers_dataset.csv",
    "items": "olist_order_items_dataset.csv",
    "sellers": "olist_sellers_dataset.csv",
    "payments": "olist_order_payments_dataset.csv",
}


class OlistDataError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class _Item:
    seller_id: str
    price: float
    freight: float


def _open(directory: Path, name: str) -> io.TextIOBase:
    for candidate in (directory / f"{name}.gz", directory / name):
        if candidate.exists():
            if candidate.suffix == ".gz":
                return io.TextIOWrapper(gzip.open(candidate, "rb"), encoding="utf-8-sig", newline="")
            return open(candidate, encoding="utf-8-sig", newline="")
    raise OlistDataError(f"{name}(.gz) not found in {directory}")


def _rows(directory: Path, name: str, columns: tuple[str, ...]) -> Iterator[list[str]]:
    with _open(directory, name) as stream:
        reader = csv.reader(stream)
        header = next(reader)
        try:
            index = [header.index(c) for c in columns]
        except ValueError as exc:
            raise OlistDataError(f"{name}: {exc}") from None
        for row in reader:
            yield [row[i] for i in index]


class _LocalDates:
    """Brasilia wall-clock timestamps -> the customer's local date, cached per (zone, hour)."""

    def __init__(self) -> None:
        self._zones = {state: ZoneInfo(name) for state, name in STATE_ZONES.items()}
        self._cache: dict[tuple[str, str], date] = {}

    def __call__(self, stamp: str, state: str) -> date:
        # Zones west of Brasilia lag by at most 2-3 hours: later in the day the date cannot change.
        hour = int(stamp[11:13]) if len(stamp) >= 13 else 12
        day = date(int(stamp[0:4]), int(stamp[5:7]), int(stamp[8:10]))
        if hour >= 4:
            return day
        key = (state, stamp[:13])
        cached = self._cache.get(key)
        if cached is None:
            zone = self._zones.get(state, _SOURCE_ZONE)
            moment = datetime.fromisoformat(stamp).replace(tzinfo=_SOURCE_ZONE)
            cached = self._cache[key] = moment.astimezone(zone).date()
        return cached


def load_orders(
    directory: Path | str, purchased_from: date | None = None, purchased_to: date | None = None
) -> Loaded:
    """Delivered orders with all timestamps, optionally only those purchased in [from, to]."""
    directory = Path(directory)
    customers = {
        cid: (state, zipc)
        for cid, zipc, state in _rows(
            directory, FILES["customers"], ("customer_id", "customer_zip_code_prefix", "customer_state")
        )
    }
    sellers = {
        sid: (state, zipc.zfill(5))
        for sid, zipc, state in _rows(
            directory, FILES["sellers"], ("seller_id", "seller_zip_code_prefix", "seller_state")
        )
    }
    payments: dict[str, str] = {}
    for oid, seq, kind in _rows(
        directory, FILES["payments"], ("order_id", "payment_sequential", "payment_type")
    ):
        if seq == "1" or oid not in payments:
            payments[oid] = kind
    items: dict[str, list[tuple[int, _Item]]] = {}
    for oid, n, sid, price, freight in _rows(
        directory, FILES["items"], ("order_id", "order_item_id", "seller_id", "price", "freight_value")
    ):
        items.setdefault(oid, []).append((int(n), _Item(sid, float(price or 0), float(freight or 0))))
    local = _LocalDates()
    first_day = purchased_from.isoformat() if purchased_from else ""
    last_day = (purchased_to + timedelta(days=1)).isoformat() if purchased_to else ""
    orders: list[EvaluationOrder] = []
    dropped = 0
    columns = (
        "order_id", "customer_id", "order_status", "order_purchase_timestamp", "order_approved_at",
        "order_delivered_carrier_date", "order_delivered_customer_date", "order_estimated_delivery_date",
    )  # fmt: skip
    for oid, cid, status, purchased, approved, carrier, delivered, estimated in _rows(
        directory, FILES["orders"], columns
    ):
        if status != "delivered" or not (purchased and approved and carrier and delivered and estimated):
            continue
        # Cheap pre-filter on the Brasilia date; the customer's local date is never later.
        if (first_day and purchased[:10] < first_day) or (last_day and purchased[:10] > last_day):
            continue
        customer = customers.get(cid)
        order_items = items.get(oid)
        if customer is None or not order_items:
            dropped += 1
            continue
        state, zipc = customer
        placed_on = local(purchased, state)
        if (purchased_from is not None and placed_on < purchased_from) or (
            purchased_to is not None and placed_on > purchased_to
        ):
            continue
        handed_over_on, delivered_on = local(carrier, state), local(delivered, state)
        if not placed_on <= handed_over_on <= delivered_on:
            dropped += 1
            continue
        order_items.sort(key=lambda pair: pair[0])
        first = order_items[0][1]
        seller_state, seller_zip = sellers.get(first.seller_id, ("", ""))
        orders.append(
            EvaluationOrder(
                order_id=oid,
                purchased_at=datetime.fromisoformat(purchased),
                placed_on=placed_on,
                handed_over_on=handed_over_on,
                delivered_on=delivered_on,
                marketplace_estimate=date.fromisoformat(estimated[:10]),
                seller_id=first.seller_id,
                seller_state=seller_state,
                seller_postal_code=seller_zip,
                customer_state=state,
                customer_postal_code=zipc.zfill(5),
                payment_method=payments.get(oid, ""),
                item_count=len(order_items),
                multi_seller=len({it.seller_id for _, it in order_items}) > 1,
                price=sum(it.price for _, it in order_items),
                freight=sum(it.freight for _, it in order_items),
            )
        )
    orders.sort(key=lambda o: (o.purchased_at, o.order_id))
    return Loaded(tuple(orders), dropped)
