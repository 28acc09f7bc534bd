"""How to call each route so that its own party would succeed: the requests of the authorization matrix.

Who may call what is declared once, in `ordertrail.entrypoints.web.access.RULES`; this module only knows
how to build a valid request for a route: the resources it needs (in the state the action needs) and
its body. Each call gets fresh resources, owned either by the caller's side (`mine`) or by strangers of
the same roles (`theirs`), so that one call never changes what the next one sees.
"""

from __future__ import annotations

import itertools
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar, cast

from ordertrail.adapters.carriers.providers import easypost
from ordertrail.bootstrap import Container
from ordertrail.domain.statuses import Role
from ordertrail.services.sign_in import issue_link, redeem_link
from tests.conftest import ADDRESS, FixedClock, Party, order_body
from tests.e2e.conftest import Api
from tests.integration.test_provider_parsers import webhook_body

T = TypeVar("T")
WEBHOOK_SECRET = "matrix-easypost-secret"
ROLES = (Role.BUYER, Role.SELLER, Role.SUPPORT, Role.ADMIN, Role.CARRIER)


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


@dataclass
class Call:
    method: str
    path: str
    json: Any = None
    data: dict[str, str] | None = None
    files: dict[str, tuple[str, bytes, str]] | None = None
    params: dict[str, str] | None = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)


@dataclass
class Session:
    cookie: str
    csrf: str


class World:
    """Two people of every role (mine and theirs), page sessions for mine, and resource builders."""

    def __init__(self, api: Api, container: Container, clock: FixedClock) -> None:
        self.api, self.container, self.clock = api, container, clock
        self._n = itertools.count(1)
        self._reused: dict[tuple[str, int], object] = {}
        self.mine = {r: api.user(r.value, f"Mine {r.value}", f"{r.value}@mine.example.com") for r in ROLES}
        self.theirs = {
            r: api.user(r.value, f"Their {r.value}", f"{r.value}@theirs.example.com") for r in ROLES
        }
        self.sessions = {
            r: self.new_session(self.mine[r]) for r in (Role.BUYER, Role.SELLER, Role.SUPPORT, Role.ADMIN)
        }

    def new_session(self, party: Party) -> Session:
        link = issue_link(self.container.deps, party.email or "")
        assert link is not None
        web, _ = redeem_link(self.container.deps, link.url.rsplit("/", 1)[-1])
        return Session(web.token, web.csrf_token)

    def reused(self, kind: str, o: dict[Role, Party], make: Callable[[], T]) -> T:
        """One resource per side for the calls that only read it: reading changes nothing to share."""
        key = (kind, id(o))
        if key not in self._reused:
            self._reused[key] = make()
        return cast(T, self._reused[key])

    def side(self, own: bool) -> dict[Role, Party]:
        return self.mine if own else self.theirs

    def number(self) -> str:
        return f"SIM{900_000_000 + next(self._n):010d}"

    # --- resources, built through the API by their own parties ---

    def order(self, o: dict[Role, Party]) -> dict[str, Any]:
        return self.api.order(o[Role.BUYER], o[Role.SELLER])

    def shipment(self, o: dict[Role, Party]) -> tuple[dict[str, Any], dict[str, Any]]:
        order = self.order(o)
        return order, self.api.ship(order["id"], o[Role.SELLER], self.number(), carrier="simulated")

    def delivered(self, o: dict[Role, Party]) -> tuple[dict[str, Any], dict[str, Any]]:
        order, shipment = self.shipment(o)
        self.clock.advance(hours=2)
        at = (self.clock.now - timedelta(hours=1)).isoformat()
        self.api.events(
            [{"tracking_number": shipment["tracking_number"], "occurred_at": at, "status": "delivered"}]
        )
        return order, shipment

    def case(self, o: dict[Role, Party], stage: str = "open") -> dict[str, Any]:
        order, _ = self.delivered(o)
        buyer, seller = o[Role.BUYER], o[Role.SELLER]
        body = {"type": "damaged", "description": "Cracked screen.", "requested_resolution": "refund"}
        r = self.api.client.post(f"/v1/orders/{order['id']}/cases", json=body, headers=buyer.auth)
        assert r.status_code == 201, r.text
        case: dict[str, Any] = r.json()
        base = f"/v1/cases/{case['id']}"
        if stage == "offered":
            offer = {"action": "offer", "resolution": "partial_refund", "amount": 500, "message": "Half?"}
            assert (
                self.api.client.post(f"{base}/responses", json=offer, headers=seller.auth).status_code == 200
            )
        if stage in ("rejected", "escalated"):
            reject = {"action": "reject", "message": "It left intact."}
            assert (
                self.api.client.post(f"{base}/responses", json=reject, headers=seller.auth).status_code == 200
            )
        if stage == "escalated":
            assert self.api.client.post(f"{base}/escalate", json={}, headers=buyer.auth).status_code == 200
        return case

    def attachment(self, o: dict[Role, Party]) -> tuple[str, str]:
        case = self.case(o)
        files = {"file": ("photo.png", tiny_png(), "image/png")}
        r = self.api.client.post(
            f"/v1/cases/{case['id']}/attachments", files=files, headers=o[Role.BUYER].auth
        )
        assert r.status_code == 201, r.text
        return case["id"], r.json()["id"]

    def notification(self, user: Party) -> str:
        """A notice in the user's inbox (written as the worker writes it, without running the worker)."""
        n = next(self._n)
        nid = f"ntf_matrix{n:08d}"
        with self.container.deps.uow() as uow:
            uow.inbox.deliver(
                [
                    {
                        "id": nid,
                        "user_id": user.id,
                        "outbox_id": 10**12 + n,
                        "type": "order_confirmed",
                        "title": "A notice",
                        "body": "A notice.",
                        "order_id": None,
                        "created_at": self.clock.now,
                    }
                ]
            )
            uow.commit()
        return nid

    def subscription(self, owner: Party) -> str:
        body = {"url": "https://hooks.example.com/ordertrail", "events": ["*"]}
        r = self.api.client.post("/v1/webhook-subscriptions", json=body, headers=owner.auth)
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    def anon_csrf(self) -> dict[str, str]:
        return {"ot_csrf": "matrix-anon-csrf-token"}


Builder = Callable[[World, dict[Role, Party], Role | None, bool], Call]


def _owner_of(o: dict[Role, Party], caller: Role | None, *allowed: Role) -> Party:
    """The caller's own account on that side when the caller could own it, else the first allowed role's."""
    return o[caller] if caller in allowed else o[allowed[0]]


def _order_body(w: World, o: dict[Role, Party], caller: Role | None, own: bool) -> Call:
    buyer_id = o[Role.BUYER].id if caller is Role.ADMIN else None
    return Call("POST", "/v1/orders", json=order_body(o[Role.SELLER].id, buyer_id=buyer_id))


def _events(w: World, o: dict[Role, Party], caller: Role | None, own: bool) -> Call:
    _, shipment = w.shipment(o)
    at = w.clock.now.isoformat()
    event = {"tracking_number": shipment["tracking_number"], "occurred_at": at, "status": "in_transit"}
    return Call("POST", "/v1/carrier-events", json={"events": [event]})


def _inbound(w: World, o: dict[Role, Party], caller: Role | None, own: bool) -> Call:
    body = webhook_body("easypost_event_tracker_updated.json")
    secret = WEBHOOK_SECRET if own else "not-the-secret"
    headers = {easypost.SIGNATURE_HEADER: easypost.sign(body, secret), "Content-Type": "application/json"}
    return Call("POST", "/v1/webhooks/inbound/easypost", content=body, headers=headers)


def _unsubscribe(method: str) -> Builder:
    def build(w: World, o: dict[Role, Party], caller: Role | None, own: bool) -> Call:
        assert w.container.unsubscribe is not None
        token = w.container.unsubscribe.make(o[Role.BUYER].id, "*") if own else "forged-token-0123456789"
        return Call(method, "/v1/email/unsubscribe", params={"token": token})

    return build


def _case_call(method: str, suffix: str, stage: str = "open", json: Any = None) -> Builder:
    def build(w: World, o: dict[Role, Party], caller: Role | None, own: bool) -> Call:
        case = w.reused("case", o, lambda: w.case(o)) if method == "GET" else w.case(o, stage)
        return Call(method, f"/v1/cases/{case['id']}{suffix}", json=json)

    return build


def _subscription_call(method: str, suffix: str = "") -> Builder:
    def build(w: World, o: dict[Role, Party], caller: Role | None, own: bool) -> Call:
        owner = _owner_of(o, caller, Role.SELLER, Role.ADMIN)
        make = lambda: w.subscription(owner)  # noqa: E731
        sub = w.reused(f"subscription:{owner.id}", o, make) if method == "GET" else make()
        return Call(method, f"/v1/webhook-subscriptions/{sub}{suffix}")

    return build


def _order_of(w: World, o: dict[Role, Party], method: str) -> dict[str, Any]:
    return w.reused("order", o, lambda: w.order(o)) if method == "GET" else w.order(o)


def _shipment_of(w: World, o: dict[Role, Party]) -> dict[str, Any]:
    """A shipment for calls that only read it."""
    return w.reused("shipment", o, lambda: w.shipment(o))[1]


def _order_call(method: str, suffix: str = "", **kw: Any) -> Builder:
    def build(w: World, o: dict[Role, Party], caller: Role | None, own: bool) -> Call:
        return Call(method, f"/v1/orders/{_order_of(w, o, method)['id']}{suffix}", **kw)

    return build


def _page_order(method: str, prefix: str, suffix: str = "", data: dict[str, str] | None = None) -> Builder:
    def build(w: World, o: dict[Role, Party], caller: Role | None, own: bool) -> Call:
        return Call(
            method, f"{prefix}{w.order(o)['id']}{suffix}", data=dict(data) if data is not None else None
        )

    return build


def _notification_read(prefix: str) -> Builder:
    def build(w: World, o: dict[Role, Party], caller: Role | None, own: bool) -> Call:
        user = o[caller] if caller is not None else o[Role.BUYER]
        data = {} if prefix == "/inbox/" else None
        return Call("POST", f"{prefix}{w.notification(user)}/read", data=data)

    return build


def _get(path: str, **kw: Any) -> Builder:
    return lambda w, o, caller, own: Call("GET", path, **kw)


def _attachment_get(w: World, o: dict[Role, Party], caller: Role | None, own: bool) -> Call:
    case_id, attachment_id = w.reused("attachment", o, lambda: w.attachment(o))
    return Call("GET", f"/v1/cases/{case_id}/attachments/{attachment_id}")


def _attachment_post(w: World, o: dict[Role, Party], caller: Role | None, own: bool) -> Call:
    files = {"file": ("photo.png", tiny_png(), "image/png")}
    return Call("POST", f"/v1/cases/{w.case(o)['id']}/attachments", files=files)


def _login_post(w: World, o: dict[Role, Party], caller: Role | None, own: bool) -> Call:
    data = {"csrf_token": "matrix-anon-csrf-token", "email": "someone@example.com"}
    return Call("POST", "/login", data=data, cookies=w.anon_csrf())


def _logout(w: World, o: dict[Role, Party], caller: Role | None, own: bool) -> Call:
    """Signing out ends a session: each call brings a session of its own, not the caller's shared one."""
    if caller is None or caller not in w.sessions:
        return Call("POST", "/logout", data={})
    fresh = w.new_session(w.mine[caller])
    return Call("POST", "/logout", data={"csrf_token": fresh.csrf}, cookies={"ot_session": fresh.cookie})


def _link_use(w: World, o: dict[Role, Party], caller: Role | None, own: bool) -> Call:
    link = issue_link(w.container.deps, o[Role.BUYER].email or "")
    assert link is not None
    token = link.url.rsplit("/", 1)[-1] if own else "not-a-link-token-0123456789abcdef"
    return Call(
        "POST", f"/login/{token}", data={"csrf_token": "matrix-anon-csrf-token"}, cookies=w.anon_csrf()
    )


ADDRESS_FORM = {k: v for k, v in ADDRESS.items() if k != "city_area"}
NEW_ADDRESS = dict(ADDRESS, street_address="1 Infinite Loop", city="Cupertino", postal_code="95014")

SCENARIOS: dict[tuple[str, str], Builder] = {
    ("GET", "/openapi.json"): _get("/openapi.json"),
    ("GET", "/docs"): _get("/docs"),
    ("GET", "/docs/oauth2-redirect"): _get("/docs/oauth2-redirect"),
    ("GET", "/redoc"): _get("/redoc"),
    ("GET", "/healthz"): _get("/healthz"),
    ("GET", "/readyz"): _get("/readyz"),
    ("GET", "/metrics"): _get("/metrics"),
    ("GET", "/static"): _get("/static/app.css"),
    ("POST", "/v1/users"): lambda w, o, c, own: Call(
        "POST", "/v1/users", json={"role": "buyer", "name": "New"}
    ),
    ("POST", "/v1/orders"): _order_body,
    ("GET", "/v1/orders"): _get("/v1/orders"),
    ("GET", "/v1/orders/{order_id}"): _order_call("GET"),
    ("PUT", "/v1/orders/{order_id}/shipping-address"): _order_call(
        "PUT", "/shipping-address", json=NEW_ADDRESS
    ),
    ("POST", "/v1/orders/{order_id}/cancel"): _order_call(
        "POST", "/cancel", json={"reason": "Changed my mind"}
    ),
    ("POST", "/v1/orders/{order_id}/shipments"): lambda w, o, c, own: Call(
        "POST",
        f"/v1/orders/{w.order(o)['id']}/shipments",
        json={"tracking_number": w.number(), "carrier": "simulated"},
    ),
    ("PUT", "/v1/shipments/{shipment_id}/tracking-number"): lambda w, o, c, own: Call(
        "PUT",
        f"/v1/shipments/{w.shipment(o)[1]['id']}/tracking-number",
        json={"tracking_number": w.number(), "carrier": "simulated"},
    ),
    ("GET", "/v1/orders/{order_id}/tracking"): _order_call("GET", "/tracking"),
    ("GET", "/v1/track/{tracking_number}"): lambda w, o, c, own: Call(
        "GET", f"/v1/track/{_shipment_of(w, o)['tracking_number']}"
    ),
    ("GET", "/v1/carriers"): _get("/v1/carriers"),
    ("POST", "/v1/carrier-events"): _events,
    ("POST", "/v1/webhooks/inbound/{provider}"): _inbound,
    ("GET", "/v1/shipments/{shipment_id}/raw-payloads"): lambda w, o, c, own: Call(
        "GET", f"/v1/shipments/{_shipment_of(w, o)['id']}/raw-payloads"
    ),
    ("GET", "/v1/notifications"): _get("/v1/notifications"),
    ("POST", "/v1/notifications/{notification_id}/read"): _notification_read("/v1/notifications/"),
    ("GET", "/v1/me/email-preferences"): _get("/v1/me/email-preferences"),
    ("PUT", "/v1/me/email-preferences"): lambda w, o, c, own: Call(
        "PUT", "/v1/me/email-preferences", json={"disabled_types": ["order_shipped"]}
    ),
    ("GET", "/v1/email/unsubscribe"): _unsubscribe("GET"),
    ("POST", "/v1/email/unsubscribe"): _unsubscribe("POST"),
    ("POST", "/v1/webhook-subscriptions"): lambda w, o, c, own: Call(
        "POST", "/v1/webhook-subscriptions", json={"url": "https://hooks.example.com/x", "events": ["*"]}
    ),
    ("GET", "/v1/webhook-subscriptions"): _get("/v1/webhook-subscriptions"),
    ("GET", "/v1/webhook-subscriptions/{subscription_id}"): _subscription_call("GET"),
    ("DELETE", "/v1/webhook-subscriptions/{subscription_id}"): _subscription_call("DELETE"),
    ("POST", "/v1/webhook-subscriptions/{subscription_id}/enable"): _subscription_call("POST", "/enable"),
    ("POST", "/v1/webhook-subscriptions/{subscription_id}/test"): _subscription_call("POST", "/test"),
    ("GET", "/v1/webhook-subscriptions/{subscription_id}/deliveries"): _subscription_call(
        "GET", "/deliveries"
    ),
    ("POST", "/v1/orders/{order_id}/cases"): lambda w, o, c, own: Call(
        "POST",
        f"/v1/orders/{w.delivered(o)[0]['id']}/cases",
        json={"type": "damaged", "description": "Cracked.", "requested_resolution": "refund"},
    ),
    ("GET", "/v1/cases"): _get("/v1/cases"),
    ("GET", "/v1/cases/{case_id}"): _case_call("GET", ""),
    ("POST", "/v1/cases/{case_id}/messages"): _case_call("POST", "/messages", json={"body": "Any news?"}),
    ("POST", "/v1/cases/{case_id}/attachments"): _attachment_post,
    ("GET", "/v1/cases/{case_id}/attachments/{attachment_id}"): _attachment_get,
    ("POST", "/v1/cases/{case_id}/responses"): _case_call(
        "POST", "/responses", json={"action": "reject", "message": "It left intact."}
    ),
    ("POST", "/v1/cases/{case_id}/accept-offer"): _case_call("POST", "/accept-offer", stage="offered"),
    ("POST", "/v1/cases/{case_id}/escalate"): _case_call("POST", "/escalate", stage="rejected", json={}),
    ("POST", "/v1/cases/{case_id}/decision"): _case_call(
        "POST", "/decision", stage="escalated", json={"outcome": "reject", "note": "Intact on the photos."}
    ),
    ("POST", "/v1/cases/{case_id}/withdraw"): _case_call("POST", "/withdraw", json={}),
    ("GET", "/v1/sellers/{seller_id}/performance"): lambda w, o, c, own: Call(
        "GET", f"/v1/sellers/{o[Role.SELLER].id}/performance"
    ),
    # Pages
    ("GET", "/"): _get("/"),
    ("GET", "/login"): _get("/login"),
    ("POST", "/login"): _login_post,
    ("GET", "/login/{token}"): _get("/login/any-token-at-all-0123456789"),
    ("POST", "/login/{token}"): _link_use,
    ("POST", "/logout"): _logout,
    ("GET", "/brand.css"): _get("/brand.css"),
    ("GET", "/track"): _get("/track"),
    ("GET", "/track/{tracking_number}"): lambda w, o, c, own: Call(
        "GET", f"/track/{_shipment_of(w, o)['tracking_number']}"
    ),
    ("GET", "/orders"): _get("/orders"),
    ("GET", "/orders/{order_id}"): _page_order("GET", "/orders/"),
    ("GET", "/orders/{order_id}/events"): _page_order("GET", "/orders/", "/events"),
    ("GET", "/orders/{order_id}/address"): _page_order("GET", "/orders/", "/address"),
    ("POST", "/orders/{order_id}/address"): _page_order("POST", "/orders/", "/address", data=ADDRESS_FORM),
    ("GET", "/inbox"): _get("/inbox"),
    ("POST", "/inbox/{notification_id}/read"): _notification_read("/inbox/"),
    ("GET", "/seller"): _get("/seller"),
    ("GET", "/seller/orders"): _get("/seller/orders"),
    ("GET", "/seller/orders/{order_id}"): _page_order("GET", "/seller/orders/"),
    ("POST", "/seller/orders/{order_id}/shipments"): lambda w, o, c, own: Call(
        "POST",
        f"/seller/orders/{w.order(o)['id']}/shipments",
        data={"tracking_number": w.number(), "carrier": "simulated"},
    ),
    ("POST", "/seller/shipments/{shipment_id}/tracking-number"): lambda w, o, c, own: _correct_tracking(w, o),
    ("GET", "/seller/detect-carrier"): _get(
        "/seller/detect-carrier", params={"number": "1Z5R89390357567127"}
    ),
    ("GET", "/support"): _get("/support"),
    ("GET", "/cases"): _get("/cases"),
    ("GET", "/orders/{order_id}/report"): _page_order("GET", "/orders/", "/report"),
    ("POST", "/orders/{order_id}/report"): lambda w, o, c, own: _report(w, o),
    ("GET", "/cases/{case_id}"): lambda w, o, c, own: _page_case(w, o, "GET", ""),
    ("POST", "/cases/{case_id}/messages"): lambda w, o, c, own: _page_case(
        w, o, "POST", "/messages", data={"body": "Any news?"}
    ),
    ("POST", "/cases/{case_id}/attachments"): lambda w, o, c, own: _page_case(
        w, o, "POST", "/attachments", data={}, files={"file": ("photo.png", tiny_png(), "image/png")}
    ),
    ("GET", "/cases/{case_id}/attachments/{attachment_id}"): lambda w, o, c, own: Call(
        "GET", "/cases/{}/attachments/{}".format(*w.reused("attachment", o, lambda: w.attachment(o)))
    ),
    ("POST", "/cases/{case_id}/escalate"): lambda w, o, c, own: _page_case(
        w, o, "POST", "/escalate", stage="rejected", data={}
    ),
    ("POST", "/cases/{case_id}/accept-offer"): lambda w, o, c, own: _page_case(
        w, o, "POST", "/accept-offer", stage="offered", data={}
    ),
    ("POST", "/cases/{case_id}/withdraw"): lambda w, o, c, own: _page_case(
        w, o, "POST", "/withdraw", data={}
    ),
    ("POST", "/cases/{case_id}/response"): lambda w, o, c, own: _page_case(
        w, o, "POST", "/response", data={"action": "reject", "message": "It left intact."}
    ),
    ("POST", "/cases/{case_id}/decision"): lambda w, o, c, own: _page_case(
        w, o, "POST", "/decision", stage="escalated", data={"outcome": "refund", "note": "Refunded."}
    ),
    ("GET", "/seller/cases"): _get("/seller/cases"),
    ("GET", "/seller/performance"): _get("/seller/performance"),
}


def _page_case(
    w: World, o: dict[Role, Party], method: str, suffix: str, stage: str = "open", **kw: Any
) -> Call:
    case = w.reused("case", o, lambda: w.case(o)) if method == "GET" else w.case(o, stage)
    return Call(method, f"/cases/{case['id']}{suffix}", **kw)


def _report(w: World, o: dict[Role, Party]) -> Call:
    order, _ = w.delivered(o)
    data = {"type": "damaged", "description": "Cracked screen.", "requested_resolution": "refund"}
    return Call("POST", f"/orders/{order['id']}/report", data=data)


def _correct_tracking(w: World, o: dict[Role, Party]) -> Call:
    order, shipment = w.shipment(o)
    data = {"order_id": order["id"], "tracking_number": w.number(), "carrier": "simulated"}
    return Call("POST", f"/seller/shipments/{shipment['id']}/tracking-number", data=data)
