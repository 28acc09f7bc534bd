"""The e-mail channel: renders each notice with its type's HTML and plain-text templates (Jinja2,
package data under `templates/`) and sends a batch over one SMTP connection.

What a template shows comes from the outbox payload written with the notice: the order (ID, items,
totals, destination), its shipments (carrier, tracking number, windows) and the notice's own facts.
Every e-mail carries an unsubscribe link for its type and for all e-mail, which work without signing
in, and the `List-Unsubscribe` / `List-Unsubscribe-Post` headers (RFC 2369, RFC 8058 one-click).
"""

from __future__ import annotations

import smtplib
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, TemplateNotFound, select_autoescape

from ordertrail.adapters.notifiers.email import FileMailer, MailSession, SmtpMailer, build_message
from ordertrail.adapters.notifiers.unsubscribe import UnsubscribeTokens
from ordertrail.domain.money import format_money
from ordertrail.services.ports_monitoring import EMAIL, Delivery, Outcome

TrackingUrl = Callable[[str | None, str | None], str | None]


def _day(value: str | None) -> str:
    """A date (or the date part of a timestamp) as 'Tue 01 Dec 2026'."""
    return date.fromisoformat(str(value)[:10]).strftime("%a %d %b %Y") if value else ""


def _window(w: Mapping[str, str | None] | None) -> str:
    if not w or not w.get("earliest") or not w.get("latest"):
        return "to be confirmed"
    if w["earliest"] == w["latest"]:
        return _day(w["earliest"])
    return f"{_day(w['earliest'])} – {_day(w['latest'])}"


class EmailRenderer:
    def __init__(
        self,
        base_url: str,
        tokens: UnsubscribeTokens,
        tracking_url: TrackingUrl,
        carrier_name: Callable[[str], str],
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.tracking_url = tracking_url
        self.carrier_name = carrier_name
        self.env = Environment(
            loader=PackageLoader("ordertrail.adapters.notifiers", "templates"),
            autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.env.filters["day"] = _day
        self.env.filters["window"] = _window

    def unsubscribe_url(self, user_id: str, notice_type: str) -> str:
        return f"{self.base_url}/v1/email/unsubscribe?token={quote(self.tokens.make(user_id, notice_type))}"

    def context(self, d: Delivery) -> dict[str, Any]:
        p = d.payload
        data: Mapping[str, Any] = p.get("data") or {}
        order = dict(data.get("order") or {})
        currency = order.get("currency") or "USD"
        money = lambda amount: format_money(int(amount), currency) if amount is not None else ""  # noqa: E731
        items = [
            {**i, "price": money(i["unit_price"]), "amount": money(i["unit_price"] * i["quantity"])}
            for i in order.get("items", [])
        ]
        parcels = list(data.get("shipments") or [])
        wanted = data.get("shipment_id")
        shipment = next((s for s in parcels if s.get("id") == wanted), parcels[-1] if parcels else None)
        if shipment is not None:
            shipment = {
                **shipment,
                "carrier_name": self.carrier_name(shipment["carrier"]) if shipment.get("carrier") else "",
                "url": self.tracking_url(shipment.get("carrier"), shipment.get("tracking_number")),
            }
        window = (shipment or {}).get("estimated_delivery") or order.get("promised_delivery")
        order_id = p.get("order_id") or order.get("id")
        return {
            "type": d.type,
            "title": p.get("title", d.type),
            "body": p.get("body", ""),
            "name": p.get("name", ""),
            "role": p.get("role", ""),
            "data": data,
            "order": order,
            "order_id": order_id,
            "items": items,
            "subtotal": money(order.get("subtotal")),
            "shipping_fee": money(order.get("shipping_fee")),
            "total": money(order.get("total")),
            "shipment": shipment,
            "delivery_window": _window(window),
            "promised_window": _window(order.get("promised_delivery")),
            "order_url": f"{self.base_url}/orders/{order_id}" if order_id else self.base_url,
            "unsubscribe_type_url": self.unsubscribe_url(d.user_id or "", d.type),
            "unsubscribe_all_url": self.unsubscribe_url(d.user_id or "", "*"),
            "type_label": d.type.replace("_", " "),
        }

    def _template(self, notice_type: str, ext: str) -> Any:
        try:
            return self.env.get_template(f"{notice_type}.{ext}")
        except TemplateNotFound:
            return self.env.get_template(f"notice.{ext}")

    def render(self, d: Delivery) -> tuple[str, str, str, dict[str, str]]:
        """(subject, text, html, headers) of a delivery's e-mail."""
        ctx = self.context(d)
        headers = {
            "List-Unsubscribe": f"<{ctx['unsubscribe_type_url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
            "X-Ordertrail-Event-Id": d.event_id,
            "X-Ordertrail-Type": d.type,
        }
        return (
            ctx["title"],
            self._template(d.type, "txt").render(ctx),
            self._template(d.type, "html").render(ctx),
            headers,
        )


class EmailChannel:
    """Outbox channel `email`: one SMTP connection per batch; a refused address is not retried."""

    name = EMAIL

    def __init__(self, mailer: SmtpMailer | FileMailer, renderer: EmailRenderer) -> None:
        self.mailer = mailer
        self.renderer = renderer

    def send(self, batch: Sequence[Delivery]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        pending = list(batch)
        while pending:
            sent_here = 0
            try:
                with self.mailer.session() as session:
                    while pending:
                        outcomes.append(self._send_one(session, pending[0]))
                        pending.pop(0)
                        sent_here += 1
            except (OSError, smtplib.SMTPException) as exc:
                error = f"{type(exc).__name__}: {exc}"
                if sent_here == 0:  # no connection to speak of: the whole rest waits for a retry
                    outcomes += [Outcome(False, 0, error=error) for _ in pending]
                    pending.clear()
                else:  # the connection dropped: this message failed, the rest get a new connection
                    outcomes.append(Outcome(False, 0, error=error))
                    pending.pop(0)
        return outcomes

    def _send_one(self, session: MailSession, d: Delivery) -> Outcome:
        started = time.perf_counter()
        try:
            subject, text, html, headers = self.renderer.render(d)
        except Exception as exc:  # a template error is this message's failure, not the batch's
            return Outcome(False, _ms(started), error=f"render: {type(exc).__name__}: {exc}")
        msg = build_message(self.mailer.sender, str(d.payload.get("to")), subject, text, html, headers)
        try:
            session.send(msg)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
            return Outcome(False, _ms(started), error=f"{type(exc).__name__}: {exc}", permanent=True)
        except smtplib.SMTPServerDisconnected:
            raise
        except smtplib.SMTPResponseException as exc:
            # 5xx is the server's final word on this message; 4xx is worth another try.
            return Outcome(
                False, _ms(started), error=f"{type(exc).__name__}: {exc}", permanent=exc.smtp_code >= 500
            )
        return Outcome(ok=True, duration_ms=_ms(started))


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
