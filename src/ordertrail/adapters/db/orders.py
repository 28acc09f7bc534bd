"""Users and orders in SQL."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, or_, select, update

from ordertrail.adapters.db.driver import Values, execute_many
from ordertrail.adapters.db.rows import decode_cursor, encode_cursor
from ordertrail.adapters.db.tables import order_items, orders, users
from ordertrail.adapters.db.tables_cases import cases
from ordertrail.domain.cases import OPEN_STATUSES
from ordertrail.domain.orders import LineItem, Order
from ordertrail.domain.statuses import OrderStatus, Role, ShipmentStatus
from ordertrail.domain.users import User
from ordertrail.services.ports import OrderStatusInputs, Page, ShipmentFacts


def _user(r: Any) -> User:
    return User(r.id, Role(r.role), r.name, r.email, r.created_at, frozenset(r.email_opt_out or ()))


class SqlUsers:
    def __init__(self, conn: Connection) -> None:
        self.c = conn

    def add(self, user: User, api_key_hash: str) -> None:
        self.c.execute(
            users.insert().values(
                id=user.id,
                role=user.role.value,
                name=user.name,
                email=user.email,
                api_key_hash=api_key_hash,
                created_at=user.created_at,
                email_opt_out=sorted(user.email_opt_out),
            )
        )

    def get(self, user_id: str) -> User | None:
        r = self.c.execute(select(users).where(users.c.id == user_id)).first()
        return _user(r) if r else None

    def by_api_key_hash(self, key_hash: str) -> User | None:
        r = self.c.execute(select(users).where(users.c.api_key_hash == key_hash)).first()
        return _user(r) if r else None

    def by_email(self, email: str) -> User | None:
        r = self.c.execute(
            select(users).where(users.c.email == email.strip().lower()).order_by(users.c.created_at)
        ).first()
        return _user(r) if r else None

    def set_key(self, user_id: str, api_key_hash: str) -> bool:
        done = self.c.execute(
            update(users)
            .where(users.c.id == user_id, users.c.erased_at.is_(None))
            .values(api_key_hash=api_key_hash)
        )
        return bool(done.rowcount)

    def many(self, ids: Iterable[str]) -> dict[str, User]:
        ids = list(ids)
        if not ids:
            return {}
        return {r.id: _user(r) for r in self.c.execute(select(users).where(users.c.id.in_(ids)))}


class SqlOrders:
    def __init__(self, conn: Connection) -> None:
        self.c = conn

    def add(self, order: Order, idempotency_key: str | None, request_hash: str | None) -> None:
        self.c.execute(
            orders.insert().values(
                id=order.id,
                buyer_id=order.buyer_id,
                seller_id=order.seller_id,
                status=order.status.value,
                placed_at=order.placed_at,
                updated_at=order.placed_at,
                currency=order.currency,
                subtotal=order.subtotal,
                shipping_fee=order.shipping_fee,
                total=order.total,
                shipping_address=order.shipping_address,
                shipping_service=order.shipping_service,
                ship_by=order.ship_by,
                promised_earliest=order.promised_earliest,
                promised_latest=order.promised_latest,
                idempotency_key=idempotency_key,
                request_hash=request_hash,
            )
        )
        self.c.execute(
            order_items.insert(),
            [
                {
                    "order_id": order.id,
                    "line_no": n,
                    "sku": i.sku,
                    "title": i.title,
                    "quantity": i.quantity,
                    "unit_price": i.unit_price,
                }
                for n, i in enumerate(order.items)
            ],
        )

    def _items(self, order_ids: Sequence[str]) -> dict[str, list[LineItem]]:
        out: dict[str, list[LineItem]] = defaultdict(list)
        q = (
            select(order_items)
            .where(order_items.c.order_id.in_(order_ids))
            .order_by(order_items.c.order_id, order_items.c.line_no)
        )
        for r in self.c.execute(q):
            out[r.order_id].append(LineItem(r.sku, r.title, r.quantity, r.unit_price))
        return out

    @staticmethod
    def _order(r: Any, items: list[LineItem]) -> Order:
        return Order(
            id=r.id,
            buyer_id=r.buyer_id,
            seller_id=r.seller_id,
            status=OrderStatus(r.status),
            placed_at=r.placed_at,
            currency=r.currency,
            items=items,
            subtotal=r.subtotal,
            shipping_fee=r.shipping_fee,
            total=r.total,
            shipping_address=r.shipping_address,
            shipping_service=r.shipping_service,
            ship_by=r.ship_by,
            promised_earliest=r.promised_earliest,
            promised_latest=r.promised_latest,
            cancelled_at=r.cancelled_at,
            cancel_reason=r.cancel_reason,
            cancelled_by=r.cancelled_by,
            delivered_at=r.delivered_at,
        )

    def get(self, order_id: str, *, for_update: bool = False) -> Order | None:
        q = select(orders).where(orders.c.id == order_id)
        if for_update and self.c.dialect.name == "postgresql":
            q = q.with_for_update()
        r = self.c.execute(q).first()
        if r is None:
            return None
        return self._order(r, self._items([order_id]).get(order_id, []))

    def by_idempotency_key(self, buyer_id: str, key: str) -> tuple[Order, str | None] | None:
        r = self.c.execute(
            select(orders).where(orders.c.buyer_id == buyer_id, orders.c.idempotency_key == key)
        ).first()
        if r is None:
            return None
        return self._order(r, self._items([r.id]).get(r.id, [])), r.request_hash

    def list(
        self,
        *,
        buyer_id: str | None,
        seller_id: str | None,
        status: str | None,
        limit: int,
        cursor: str | None,
    ) -> Page:
        q = select(orders)
        if buyer_id:
            q = q.where(orders.c.buyer_id == buyer_id)
        if seller_id:
            q = q.where(orders.c.seller_id == seller_id)
        if status:
            q = q.where(orders.c.status == status)
        if cursor:
            at, oid = decode_cursor(cursor)
            q = q.where(or_(orders.c.placed_at < at, and_(orders.c.placed_at == at, orders.c.id < oid)))
        rows = self.c.execute(
            q.order_by(orders.c.placed_at.desc(), orders.c.id.desc()).limit(limit + 1)
        ).all()
        page = rows[:limit]
        items = self._items([r.id for r in page])
        nxt = encode_cursor(page[-1].placed_at, page[-1].id) if len(rows) > limit else None
        return Page([self._order(r, items.get(r.id, [])) for r in page], nxt)

    def update_address(self, order_id: str, address: Mapping[str, str], at: datetime) -> None:
        self.c.execute(
            update(orders)
            .where(orders.c.id == order_id)
            .values(shipping_address=dict(address), updated_at=at)
        )

    def cancel(self, order_id: str, reason: str, by: Role, at: datetime) -> None:
        self.c.execute(
            update(orders)
            .where(orders.c.id == order_id)
            .values(
                status=OrderStatus.CANCELLED.value,
                cancelled_at=at,
                cancel_reason=reason,
                cancelled_by=by.value,
                updated_at=at,
            )
        )

    def set_statuses(self, changes: Sequence[tuple[str, OrderStatus, datetime | None]], at: datetime) -> None:
        v = Values(self.c)
        execute_many(
            self.c,
            "UPDATE orders SET status = ?, delivered_at = ?, updated_at = ? WHERE id = ?",
            [(st.value, v.dt(dl), v.dt(at), oid) for oid, st, dl in changes],
        )

    def status_inputs(self, order_ids: Sequence[str]) -> dict[str, OrderStatusInputs]:
        """What order statuses are derived from; read through the driver, as ingest calls it per batch."""
        v = Values(self.c)
        marks = ", ".join([v.placeholder] * len(order_ids))
        ids = tuple(order_ids)
        rows = self.c.exec_driver_sql(f"SELECT id, status FROM orders WHERE id IN ({marks})", ids).all()
        ships: dict[str, list[ShipmentFacts]] = defaultdict(list)
        partial: set[str] = set()
        q = f"SELECT order_id, status, delivered_at, items FROM shipments WHERE order_id IN ({marks})"
        for order_id, status, delivered_at, raw_items in self.c.exec_driver_sql(q, ids):
            carried = v.read_json(raw_items)
            if carried is not None:
                partial.add(order_id)
                carried = [(sku, int(n)) for sku, n in carried]
            ships[order_id].append(ShipmentFacts(ShipmentStatus(status), v.read_dt(delivered_at), carried))
        # Line items matter only to tell whether partial shipments cover the order.
        items = self._items(sorted(partial)) if partial else {}
        open_cases = self._orders_with_open_cases(order_ids)
        return {
            oid: OrderStatusInputs(
                status=OrderStatus(status),
                cancelled=status == OrderStatus.CANCELLED,
                items=items.get(oid, []),
                has_open_case=oid in open_cases,
                shipments=ships.get(oid, []),
            )
            for oid, status in rows
        }

    def _orders_with_open_cases(self, order_ids: Sequence[str]) -> set[str]:
        if not order_ids:
            return set()
        q = (
            select(cases.c.order_id)
            .where(cases.c.order_id.in_(order_ids), cases.c.status.in_(sorted(OPEN_STATUSES)))
            .distinct()
        )
        return {r.order_id for r in self.c.execute(q)}
