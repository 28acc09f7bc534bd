"""Who may call what: one declared rule per route, in one table.

The table is used three ways. The `gate` dependency enforces its first layer on every API route
before the handler runs (no key: 401; a role the rule refuses outright, which is every role it does
not name: 403), so a handler that forgets a role check is still closed. The OpenAPI document declares, from the same rule, the refusals each
operation can answer. And `tests/security/test_authorization_matrix.py` walks the app's route table
and calls every route as every role, as the resource's own party and as a stranger, expecting
exactly what the rule says; a route that has no rule here fails that test.

Ownership (`OWN`) is the services' business: they answer 404 alike for a missing resource and
another party's, and the matrix test proves that they do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from fastapi import Request

from ordertrail.domain.errors import Forbidden
from ordertrail.domain.statuses import Role
from ordertrail.entrypoints.web.deps import actor


class Gate(StrEnum):
    PUBLIC = "public"  # no credentials
    API_KEY = "api_key"  # Authorization: Bearer <key>; 401 without a valid one
    SESSION = "session"  # a signed-in page session; sent to /login without one
    SECRET = "secret"  # a secret of its own (provider signature, signed link); roles play no part


class Reach(StrEnum):
    """What a role gets, as the resource's own party and as a stranger to it."""

    ANY = "any"  # 2xx either way (or there is no resource)
    OWN = "own"  # 2xx on its own; someone else's answers 404, as a missing one does
    PARTY = "party"  # sees its own (403: not for its side) but not others' (404)
    DENY = "deny"  # refused for its role, before any resource is looked up: 403 either way


@dataclass(frozen=True)
class Rule:
    gate: Gate
    allow: Mapping[Role, Reach] = field(default_factory=dict)
    refused: int = 401  # a SECRET route's answer to a wrong or missing secret

    def reach(self, role: Role) -> Reach:
        return self.allow.get(role, Reach.DENY)


ANY, OWN, PARTY = Reach.ANY, Reach.OWN, Reach.PARTY

PUBLIC = Rule(Gate.PUBLIC)


def _allow(allow: dict[str, Reach]) -> Mapping[Role, Reach]:
    return MappingProxyType({Role(r): reach for r, reach in allow.items()})


def key(**allow: Reach) -> Rule:
    """An API route; roles not named are refused with 403 by the gate."""
    return Rule(Gate.API_KEY, _allow(allow))


def session(**allow: Reach) -> Rule:
    """A page for a signed-in user; roles not named are refused with 403."""
    return Rule(Gate.SESSION, _allow(allow))


EVERYONE = key(buyer=ANY, seller=ANY, support=ANY, admin=ANY, carrier=ANY)
PEOPLE = key(buyer=ANY, seller=ANY, support=ANY, admin=ANY)
PARTIES_AND_STAFF = key(buyer=OWN, seller=OWN, support=ANY, admin=ANY)
SELLER_ACTS = key(seller=OWN, admin=ANY, buyer=PARTY)
CASE_PARTIES = key(buyer=OWN, seller=OWN, support=ANY, admin=ANY)
SUBSCRIPTION = key(seller=OWN, admin=ANY)
PAGE_PEOPLE = session(buyer=ANY, seller=ANY, support=ANY, admin=ANY)

RULES: Mapping[tuple[str, str], Rule] = MappingProxyType(
    {
        # Framework and operations
        ("GET", "/openapi.json"): PUBLIC,
        ("GET", "/docs"): PUBLIC,
        ("GET", "/docs/oauth2-redirect"): PUBLIC,
        ("GET", "/redoc"): PUBLIC,
        ("GET", "/healthz"): PUBLIC,
        ("GET", "/readyz"): PUBLIC,
        ("GET", "/metrics"): PUBLIC,
        ("GET", "/static"): PUBLIC,
        # Users
        ("POST", "/v1/users"): key(admin=ANY),
        # Orders and shipments
        ("POST", "/v1/orders"): key(buyer=ANY, admin=ANY),
        ("GET", "/v1/orders"): PEOPLE,
        ("GET", "/v1/orders/{order_id}"): PARTIES_AND_STAFF,
        ("PUT", "/v1/orders/{order_id}/shipping-address"): key(buyer=OWN, seller=PARTY),
        ("POST", "/v1/orders/{order_id}/cancel"): key(buyer=OWN, seller=OWN),
        ("POST", "/v1/orders/{order_id}/shipments"): SELLER_ACTS,
        ("PUT", "/v1/shipments/{shipment_id}/tracking-number"): SELLER_ACTS,
        ("GET", "/v1/orders/{order_id}/tracking"): PARTIES_AND_STAFF,
        ("GET", "/v1/track/{tracking_number}"): PUBLIC,
        ("GET", "/v1/carriers"): PUBLIC,
        # Carrier events
        ("POST", "/v1/carrier-events"): key(carrier=ANY, admin=ANY),
        ("POST", "/v1/webhooks/inbound/{provider}"): Rule(Gate.SECRET, refused=401),
        ("GET", "/v1/shipments/{shipment_id}/raw-payloads"): key(support=ANY, admin=ANY),
        # Notifications
        ("GET", "/v1/notifications"): EVERYONE,
        ("POST", "/v1/notifications/{notification_id}/read"): key(
            buyer=OWN, seller=OWN, support=OWN, admin=OWN, carrier=OWN
        ),
        ("GET", "/v1/me/email-preferences"): EVERYONE,
        ("PUT", "/v1/me/email-preferences"): EVERYONE,
        ("GET", "/v1/email/unsubscribe"): Rule(Gate.SECRET, refused=404),
        ("POST", "/v1/email/unsubscribe"): Rule(Gate.SECRET, refused=404),
        ("POST", "/v1/webhook-subscriptions"): key(seller=ANY, admin=ANY),
        ("GET", "/v1/webhook-subscriptions"): key(seller=ANY, admin=ANY),
        ("GET", "/v1/webhook-subscriptions/{subscription_id}"): SUBSCRIPTION,
        ("DELETE", "/v1/webhook-subscriptions/{subscription_id}"): SUBSCRIPTION,
        ("POST", "/v1/webhook-subscriptions/{subscription_id}/enable"): SUBSCRIPTION,
        ("POST", "/v1/webhook-subscriptions/{subscription_id}/test"): SUBSCRIPTION,
        ("GET", "/v1/webhook-subscriptions/{subscription_id}/deliveries"): SUBSCRIPTION,
        # Cases: a party sees its own case (others' answer 404); the domain says which side may act
        ("POST", "/v1/orders/{order_id}/cases"): key(buyer=OWN, seller=PARTY),
        ("GET", "/v1/cases"): PEOPLE,
        ("GET", "/v1/cases/{case_id}"): CASE_PARTIES,
        ("POST", "/v1/cases/{case_id}/messages"): CASE_PARTIES,
        ("POST", "/v1/cases/{case_id}/attachments"): CASE_PARTIES,
        ("GET", "/v1/cases/{case_id}/attachments/{attachment_id}"): CASE_PARTIES,
        ("POST", "/v1/cases/{case_id}/responses"): key(seller=OWN, buyer=PARTY),
        ("POST", "/v1/cases/{case_id}/accept-offer"): key(buyer=OWN, seller=PARTY),
        ("POST", "/v1/cases/{case_id}/escalate"): key(buyer=OWN, seller=OWN),
        ("POST", "/v1/cases/{case_id}/decision"): key(support=ANY, admin=ANY, buyer=PARTY, seller=PARTY),
        ("POST", "/v1/cases/{case_id}/withdraw"): key(buyer=OWN, seller=PARTY),
        ("GET", "/v1/sellers/{seller_id}/performance"): key(seller=OWN, support=ANY, admin=ANY),
        # Web pages
        ("GET", "/"): PUBLIC,
        ("GET", "/login"): PUBLIC,
        ("POST", "/login"): PUBLIC,
        ("GET", "/login/{token}"): PUBLIC,
        ("POST", "/login/{token}"): Rule(Gate.SECRET, refused=400),
        ("POST", "/logout"): PAGE_PEOPLE,
        ("GET", "/brand.css"): PUBLIC,
        ("GET", "/track"): PUBLIC,
        ("GET", "/track/{tracking_number}"): PUBLIC,
        ("GET", "/orders"): PAGE_PEOPLE,
        ("GET", "/orders/{order_id}"): session(buyer=OWN, seller=OWN, support=ANY, admin=ANY),
        ("GET", "/orders/{order_id}/events"): session(buyer=OWN, seller=OWN, support=ANY, admin=ANY),
        ("GET", "/orders/{order_id}/address"): session(buyer=OWN, seller=PARTY),
        ("POST", "/orders/{order_id}/address"): session(buyer=OWN, seller=PARTY),
        ("GET", "/inbox"): PAGE_PEOPLE,
        ("POST", "/inbox/{notification_id}/read"): session(buyer=OWN, seller=OWN, support=OWN, admin=OWN),
        ("GET", "/seller"): session(seller=ANY),
        ("GET", "/seller/orders"): session(seller=ANY),
        ("GET", "/seller/orders/{order_id}"): session(seller=OWN),
        ("POST", "/seller/orders/{order_id}/shipments"): session(seller=OWN),
        ("POST", "/seller/shipments/{shipment_id}/tracking-number"): session(seller=OWN),
        ("GET", "/seller/detect-carrier"): session(seller=ANY),
        ("GET", "/support"): session(support=ANY, admin=ANY),
        ("GET", "/cases"): session(buyer=ANY),
        ("GET", "/orders/{order_id}/report"): session(buyer=OWN),
        ("POST", "/orders/{order_id}/report"): session(buyer=OWN),
        ("GET", "/cases/{case_id}"): session(buyer=OWN, seller=OWN, support=ANY, admin=ANY),
        ("POST", "/cases/{case_id}/messages"): session(buyer=OWN, seller=OWN, support=ANY, admin=ANY),
        ("POST", "/cases/{case_id}/attachments"): session(buyer=OWN, seller=OWN, support=ANY, admin=ANY),
        ("GET", "/cases/{case_id}/attachments/{attachment_id}"): session(
            buyer=OWN, seller=OWN, support=ANY, admin=ANY
        ),
        ("POST", "/cases/{case_id}/escalate"): session(buyer=OWN, seller=OWN),
        ("POST", "/cases/{case_id}/accept-offer"): session(buyer=OWN),
        ("POST", "/cases/{case_id}/withdraw"): session(buyer=OWN),
        ("POST", "/cases/{case_id}/response"): session(seller=OWN),
        ("POST", "/cases/{case_id}/decision"): session(support=ANY, admin=ANY),
        ("GET", "/seller/cases"): session(seller=ANY),
        ("GET", "/seller/performance"): session(seller=ANY),
    }
)


def rule_for(method: str, path: str) -> Rule | None:
    return RULES.get(("GET" if method == "HEAD" else method, path))


async def gate(request: Request) -> None:
    """The table's first layer for API routes: who is calling, and may their role call this at all.

    Async, so that a public route or a known caller costs no worker thread (see deps.actor)."""
    route = request.scope.get("route")
    rule = rule_for(request.method, getattr(route, "path", ""))
    if rule is None or rule.gate is not Gate.API_KEY:
        return
    user = await actor(request)
    if rule.reach(user.role) is Reach.DENY:
        allowed = ", ".join(sorted(r.value for r, reach in rule.allow.items() if reach is not Reach.DENY))
        raise Forbidden(f"This needs one of the roles: {allowed}.")
