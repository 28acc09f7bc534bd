"""A small marketplace for the browser scenarios, set up through the services (as the API would)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ordertrail.bootstrap import Container
from ordertrail.domain.events import Location, ProofOfDelivery
from ordertrail.domain.orders import LineItem, Order
from ordertrail.domain.statuses import ShipmentStatus
from ordertrail.domain.users import User
from ordertrail.services.ingest import EventInput, ingest_events
from ordertrail.services.orders import PlaceOrder, place_order
from ordertrail.services.outbox import drain
from ordertrail.services.shipments import add_shipment
from ordertrail.services.sign_in import issue_link
from ordertrail.services.users import create_user
from tests.conftest import ADDRESS

UPS = "1Z5R89390357567127"
UPS2 = "1Z879E930346834440"
FEDEX = "449044304137821"
MEMPHIS = Location("Memphis", "TN", "38118", "US")
NEWARK = Location("Newark", "NJ", "07114", "US")
MOUNTAIN_VIEW = Location("Mountain View", "CA", "94043", "US")


@dataclass
class Shop:
    container: Container
    buyer: User
    seller: User
    support: User

    @classmethod
    def open(cls, container: Container) -> Shop:
        deps = container.deps
        return cls(
            container,
            create_user(deps, "buyer", "Ana Souza", "ana@buyer.example").user,
            create_user(deps, "seller", "Sunny Gadgets", "shop@sunny.example").user,
            create_user(deps, "support", "Sam Support", "sam@support.example").user,
        )

    def order(self, *items: tuple[str, str, int, int]) -> Order:
        lines = [LineItem(*i) for i in items] or [LineItem("LAMP-RGB", "Sunset projection lamp", 1, 3299)]
        order, _ = place_order(
            self.container.deps,
            self.buyer,
            PlaceOrder(self.seller.id, lines, "USD", 499, dict(ADDRESS), "standard"),
        )
        return order

    def ship(self, order: Order, number: str, carrier: str | None = None) -> None:
        add_shipment(self.container.deps, self.seller, order.id, number, carrier, None)

    def scan(
        self,
        number: str,
        at: str,
        status: ShipmentStatus,
        description: str,
        where: Location | None,
        pod: ProofOfDelivery | None = None,
    ) -> None:
        result = ingest_events(
            self.container.deps,
            [
                (
                    0,
                    EventInput(
                        tracking_number=number,
                        occurred_at=datetime.fromisoformat(at),
                        description=description,
                        status=status,
                        location=where,
                        proof_of_delivery=pod,
                    ),
                )
            ],
        )
        assert result.accepted == 1, result

    def deliver_notifications(self) -> None:
        drain(self.container.deps, self.container.channels)

    def link(self, user: User) -> str:
        """The path of a fresh sign-in link (what `ordertrail users login-link` prints)."""
        link = issue_link(self.container.deps, user.email or "")
        assert link is not None
        return "/login/" + link.url.rsplit("/login/", 1)[1]


def sign_in(person: Any, shop: Shop, user: User) -> None:
    person.goto(shop.link(user))
    person.page.get_by_role("button", name="Sign in").click()
    person.page.wait_for_load_state()
