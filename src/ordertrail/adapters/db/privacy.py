"""A user's personal data across the tables: read all of it, or erase it in place."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, or_, select, update

from ordertrail.adapters.db.tables import (
    notifications,
    order_items,
    order_status_history,
    orders,
    outbox,
    shipments,
    tracking_events,
    users,
)
from ordertrail.adapters.db.tables_cases import case_attachments, case_history, case_messages, cases, refunds
from ordertrail.adapters.db.tables_monitoring import deliveries, webhook_subscriptions
from ordertrail.adapters.db.tables_web import sign_in_links, web_sessions

# Address fields kept after erasure: the country, which says nothing about the person.
KEPT_ADDRESS_FIELDS = frozenset({"country_code"})


def _rows(conn: Connection, query: Any, drop: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    return [{k: v for k, v in r._mapping.items() if k not in drop} for r in conn.execute(query)]


def _grouped(rows: list[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        out[row[key]].append(row)
    return out


class SqlPersonalData:
    def __init__(self, conn: Connection) -> None:
        self.c = conn

    def export(self, user_id: str) -> dict[str, Any] | None:
        c = self.c
        user = _rows(c, select(users).where(users.c.id == user_id), drop=("api_key_hash",))
        if not user:
            return None
        order_rows = _rows(
            c,
            select(orders).where(orders.c.buyer_id == user_id).order_by(orders.c.placed_at),
            drop=("request_hash",),
        )
        order_ids = [o["id"] for o in order_rows]
        items = _grouped(
            _rows(c, select(order_items).where(order_items.c.order_id.in_(order_ids))), "order_id"
        )
        history = _grouped(
            _rows(c, select(order_status_history).where(order_status_history.c.order_id.in_(order_ids))),
            "order_id",
        )
        shipment_rows = _rows(
            c, select(shipments).where(shipments.c.order_id.in_(order_ids)), drop=("last_key",)
        )
        events = _grouped(
            _rows(
                c,
                select(tracking_events)
                .where(tracking_events.c.shipment_id.in_([s["id"] for s in shipment_rows]))
                .order_by(tracking_events.c.occurred_at),
            ),
            "shipment_id",
        )
        by_order = _grouped([{**s, "events": events.get(s["id"], [])} for s in shipment_rows], "order_id")
        case_rows = _rows(c, select(cases).where(cases.c.buyer_id == user_id))
        case_ids = [k["id"] for k in case_rows]
        messages = _grouped(
            _rows(c, select(case_messages).where(case_messages.c.case_id.in_(case_ids))), "case_id"
        )
        files = _grouped(
            _rows(
                c,
                select(case_attachments).where(case_attachments.c.case_id.in_(case_ids)),
                drop=("storage_key",),
            ),
            "case_id",
        )
        steps = _grouped(
            _rows(c, select(case_history).where(case_history.c.case_id.in_(case_ids))), "case_id"
        )
        paid = _grouped(_rows(c, select(refunds).where(refunds.c.case_id.in_(case_ids))), "case_id")
        return {
            "user": user[0],
            "orders": [
                {
                    **o,
                    "items": items.get(o["id"], []),
                    "status_history": history.get(o["id"], []),
                    "shipments": by_order.get(o["id"], []),
                }
                for o in order_rows
            ],
            "cases": [
                {
                    **k,
                    "messages": messages.get(k["id"], []),
                    "attachments": files.get(k["id"], []),
                    "history": steps.get(k["id"], []),
                    "refunds": paid.get(k["id"], []),
                }
                for k in case_rows
            ],
            "notifications": _rows(
                c,
                select(notifications)
                .where(notifications.c.user_id == user_id)
                .order_by(notifications.c.created_at),
            ),
            "deliveries": _rows(
                c, select(deliveries).where(deliveries.c.user_id == user_id), drop=("claim_token",)
            ),
            "webhook_subscriptions": _rows(
                c,
                select(webhook_subscriptions).where(webhook_subscriptions.c.owner_id == user_id),
                drop=("secret",),
            ),
            "web_sessions": _rows(
                c,
                select(web_sessions.c.created_at, web_sessions.c.expires_at).where(
                    web_sessions.c.user_id == user_id
                ),
            ),
        }

    def evidence_keys(self, user_id: str) -> list[str]:
        query = select(case_attachments.c.storage_key).where(case_attachments.c.uploaded_by == user_id)
        return [r.storage_key for r in self.c.execute(query)]

    def _personal_strings(self, user_id: str, order_ids: list[str]) -> list[str]:
        """What would name the user inside someone else's text: longest first, so that no part is left."""
        c = self.c
        found: set[str] = set()
        user = c.execute(select(users.c.name, users.c.email).where(users.c.id == user_id)).one()
        found.update(v for v in (user.name, user.email) if v)
        for r in c.execute(select(orders.c.shipping_address).where(orders.c.id.in_(order_ids))):
            found.update(
                v for k, v in r.shipping_address.items() if k not in KEPT_ADDRESS_FIELDS and len(v or "") >= 4
            )
        texts = [
            r.description for r in c.execute(select(cases.c.description).where(cases.c.buyer_id == user_id))
        ]
        texts += [
            r.body
            for r in c.execute(select(case_messages.c.body).where(case_messages.c.author_id == user_id))
        ]
        for t in texts:  # quotes of long texts are excerpts: their beginning identifies them too
            found.update(v for v in (t.strip(), t.strip()[:200]) if len(v) >= 4)
        return sorted(found, key=len, reverse=True)

    def _scrub_rows(
        self, table: Any, key: Any, where: Any, columns: tuple[str, ...], strings: list[str], placeholder: str
    ) -> int:
        """Replace the personal strings inside the given text or JSON columns of the matching rows."""

        def clean(value: Any) -> Any:
            if value is None:
                return None
            raw = value if isinstance(value, str) else json.dumps(value)
            for s in strings:
                raw = raw.replace(s if isinstance(value, str) else json.dumps(s)[1:-1], placeholder)
            return raw if isinstance(value, str) else json.loads(raw)

        rows = self.c.execute(select(key, *(table.c[name] for name in columns)).where(where)).all()
        changes = []
        for row in rows:
            values = {name: clean(row._mapping[name]) for name in columns}
            if any(values[name] != row._mapping[name] for name in columns):
                changes.append({"row_key": row[0], **{f"new_{n}": v for n, v in values.items()}})
        if changes:
            self.c.execute(
                update(table)
                .where(key == bindparam("row_key"))
                .values({n: bindparam(f"new_{n}") for n in columns}),
                changes,
            )
        return len(changes)

    def erase(self, user_id: str, at: datetime, revoked_key_hash: str, placeholder: str) -> dict[str, int]:
        c = self.c
        if c.execute(select(users.c.id).where(users.c.id == user_id)).first() is None:
            return {}
        order_ids = [r.id for r in c.execute(select(orders.c.id).where(orders.c.buyer_id == user_id))]
        case_ids = [r.id for r in c.execute(select(cases.c.id).where(cases.c.buyer_id == user_id))]
        strings = self._personal_strings(user_id, order_ids)
        outbox_ids = [
            r.id
            for r in c.execute(
                select(outbox.c.id).where(
                    or_(outbox.c.order_id.in_(order_ids), outbox.c.recipient_id == user_id)
                )
            )
        ]
        # What others were told about the user's orders keeps its facts and loses the user's words.
        quoted = {
            "notices_to_others": self._scrub_rows(
                notifications,
                notifications.c.id,
                and_(notifications.c.order_id.in_(order_ids), notifications.c.user_id != user_id),
                ("title", "body"),
                strings,
                placeholder,
            ),
            "outbox": self._scrub_rows(
                outbox, outbox.c.id, outbox.c.id.in_(outbox_ids), ("payload",), strings, placeholder
            ),
            "deliveries_to_others": self._scrub_rows(
                deliveries,
                deliveries.c.id,
                and_(
                    deliveries.c.outbox_id.in_(outbox_ids),
                    or_(deliveries.c.user_id.is_(None), deliveries.c.user_id != user_id),
                ),
                ("payload",),
                strings,
                placeholder,
            ),
            "case_history": self._scrub_rows(
                case_history,
                case_history.c.id,
                case_history.c.case_id.in_(case_ids),
                ("detail",),
                strings,
                placeholder,
            ),
        }
        c.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(
                name=placeholder, email=None, api_key_hash=revoked_key_hash, erased_at=at, email_opt_out=["*"]
            )
        )
        addresses = [
            {
                "oid": r.id,
                "address": {
                    k: v if k in KEPT_ADDRESS_FIELDS else placeholder for k, v in r.shipping_address.items()
                },
            }
            for r in c.execute(
                select(orders.c.id, orders.c.shipping_address).where(orders.c.id.in_(order_ids))
            )
        ]
        if addresses:
            c.execute(
                update(orders)
                .where(orders.c.id == bindparam("oid"))
                .values(shipping_address=bindparam("address")),
                addresses,
            )
        signed = [
            {"sid": r.id, "pod": {**r.proof_of_delivery, "signed_by": placeholder}}
            for r in c.execute(
                select(shipments.c.id, shipments.c.proof_of_delivery).where(
                    shipments.c.order_id.in_(order_ids)
                )
            )
            if r.proof_of_delivery and r.proof_of_delivery.get("signed_by")
        ]
        if signed:  # a signer's name is personal data; the fact of a signature is not
            c.execute(
                update(shipments)
                .where(shipments.c.id == bindparam("sid"))
                .values(proof_of_delivery=bindparam("pod")),
                signed,
            )
        text = {"title": placeholder, "body": placeholder}
        changed = {
            "users": 1,
            "orders": len(addresses),
            "signatures": len(signed),
            **quoted,
            "notifications": c.execute(
                update(notifications).where(notifications.c.user_id == user_id).values(**text)
            ).rowcount,
            "deliveries_dropped": c.execute(
                update(deliveries)
                .where(deliveries.c.user_id == user_id, deliveries.c.state.in_(("pending", "paused")))
                .values(state="failed", last_error="the recipient's personal data was erased")
            ).rowcount,
            "deliveries": c.execute(
                update(deliveries).where(deliveries.c.user_id == user_id).values(payload=text)
            ).rowcount,
            "cases": c.execute(
                update(cases).where(cases.c.id.in_(case_ids)).values(description=placeholder)
            ).rowcount,
            "case_messages": c.execute(
                update(case_messages).where(case_messages.c.author_id == user_id).values(body=placeholder)
            ).rowcount,
            "case_attachments": c.execute(
                update(case_attachments)
                .where(case_attachments.c.uploaded_by == user_id)
                .values(filename=placeholder)
            ).rowcount,
            "web_sessions": c.execute(delete(web_sessions).where(web_sessions.c.user_id == user_id)).rowcount,
            "sign_in_links": c.execute(
                delete(sign_in_links).where(sign_in_links.c.user_id == user_id)
            ).rowcount,
        }
        return changed
