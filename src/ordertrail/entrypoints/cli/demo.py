"""`ordertrail demo`: a living marketplace to explore, with parcels moving through simulated scans."""

from __future__ import annotations

import os
import secrets
import threading
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import typer

from ordertrail.bootstrap import Container
from ordertrail.domain.events import Location
from ordertrail.domain.orders import LineItem
from ordertrail.services import simulator
from ordertrail.services.context import Deps
from ordertrail.services.orders import PlaceOrder, place_order
from ordertrail.services.outbox import drain
from ordertrail.services.shipments import add_shipment
from ordertrail.services.sign_in import issue_link
from ordertrail.services.users import CreatedUser, create_user, new_key

ADDRESSES = [
    {
        "name": "Ana Souza",
        "street_address": "1600 Amphitheatre Pkwy",
        "city": "Mountain View",
        "country_area": "CA",
        "postal_code": "94043",
        "country_code": "US",
        "phone": "+1 650 253 0000",
    },
    {
        "name": "Ben Carter",
        "street_address": "350 5th Ave",
        "city": "New York",
        "country_area": "NY",
        "postal_code": "10118",
        "country_code": "US",
    },
    {
        "name": "Chloe Kim",
        "street_address": "233 S Wacker Dr",
        "city": "Chicago",
        "country_area": "IL",
        "postal_code": "60606",
        "country_code": "US",
    },
]
PRODUCTS = [
    ("TSHIRT-M", "Logo T-shirt (M)", 1999),
    ("MUG-01", "Enamel camping mug", 1450),
    ("LAMP-RGB", "Sunset projection lamp", 3299),
    ("CASE-IP15", "Glitter phone case", 1299),
    ("SERUM-30", "Vitamin C serum 30 ml", 2450),
]


def _write_keys(data_dir: Path, keys: dict[str, str]) -> Path:
    """The demo's keys as `NAME=value` lines a shell can source, readable by their owner only."""
    path = Path(data_dir) / "demo-keys.env"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.writelines(f"{name}={value}\n" for name, value in keys.items())
    os.chmod(path, 0o600)  # an older file keeps its mode through O_CREAT
    return path


def _sim_number() -> str:
    return "SIM" + "".join(secrets.choice("0123456789") for _ in range(10))


def _demo_user(deps: Deps, role: str, name: str, email: str) -> tuple[CreatedUser, bool]:
    """The demo's user with this e-mail: made now, or (the demo ran before on this data) the one
    made then, with a new key since keys are kept only as hashes. True if it was there already."""
    with deps.read() as uow:
        found = uow.users.by_email(email)
    if found is None:
        return create_user(deps, role, name, email), False
    return new_key(deps, found.id), True


def run_demo(container: Container, serve_after: bool, host: str, port: int, seconds_per_hop: float) -> None:
    deps = container.deps
    now = deps.clock()
    typer.echo("Creating demo users ...", err=True)
    made = {
        role_name: _demo_user(deps, role, name, email)
        for role_name, role, name, email in (
            ("seller", "seller", "Sunny Gadgets", "shop@sunny.example"),
            ("seller2", "seller", "Glow Beauty", "hello@glow.example"),
            *(
                (f"buyer{i}", "buyer", a["name"], f"{a['name'].split()[0].lower()}@buyer.example")
                for i, a in enumerate(ADDRESSES)
            ),
            ("support", "support", "Sam Support", "support@ordertrail.example"),
            ("carrier", "carrier", "Simulated Carrier", "carrier@simulated.example"),
            ("admin", "admin", "Demo Admin", "admin@ordertrail.example"),
        )
    }
    if any(again for _, again in made.values()):
        typer.echo(
            f"The demo ran here before ({container.settings.data_dir}): its users get new keys (the old "
            "ones stop working) and more orders. To start afresh, remove that folder first.",
            err=True,
        )
    seller, seller2, support, carrier, admin = (
        made[k][0] for k in ("seller", "seller2", "support", "carrier", "admin")
    )
    buyers = [made[f"buyer{i}"][0] for i in range(len(ADDRESSES))]

    parcels: list[tuple[str, datetime, Location]] = []
    typer.echo("Placing orders and shipping parcels ...", err=True)
    # The parcels' journeys start up to 9 hops back (below); their orders and labels come before.
    before = replace(deps, clock=lambda: now - timedelta(seconds=seconds_per_hop * 24) - timedelta(hours=1))
    for n in range(9):
        buyer = buyers[n % len(buyers)]
        # The buyer and the seller whose keys are printed share orders; the other shop has some too.
        shop = seller2 if n % 3 == 1 else seller
        sku, title, price = PRODUCTS[n % len(PRODUCTS)]
        order, _ = place_order(
            before,
            buyer.user,
            PlaceOrder(
                seller_id=shop.user.id,
                items=[LineItem(sku, title, 1 + n % 2, price)],
                currency="USD",
                shipping_fee=499,
                shipping_address=ADDRESSES[n % len(ADDRESSES)],
                shipping_service="standard",
            ),
        )
        if n >= 7:
            continue  # left awaiting shipment: the seller's to-ship queue has work
        number = _sim_number()
        add_shipment(before, shop.user, order.id, number, "simulated", None)
        a = ADDRESSES[n % len(ADDRESSES)]
        destination = Location(a["city"], a["country_area"], a["postal_code"], a["country_code"])
        # Stagger the starts so the demo opens with parcels at every stage of their journey.
        parcels.append((number, now - timedelta(seconds=seconds_per_hop * (2 + 2.2 * n)), destination))

    simulator.advance(deps, parcels, deps.clock(), seconds_per_hop)
    drain(deps, container.channels)

    base = container.settings.base_url  # where it serves, unless a public URL is set (cli._links_follow)
    typer.echo("")
    typer.echo("ordertrail demo is ready.")
    typer.echo(f"  buyer   {buyers[0].user.name}: API key {buyers[0].api_key}")
    typer.echo(f"  seller  {seller.user.name}: API key {seller.api_key}")
    typer.echo(f"  support {support.user.name}: API key {support.api_key}")
    typer.echo(f"  carrier {carrier.user.name}: API key {carrier.api_key}")
    typer.echo(f"  admin   {admin.user.name}: API key {admin.api_key}")
    keys = _write_keys(
        container.settings.data_dir,
        {
            "ADMIN": admin.api_key,
            "DEMO_BUYER_KEY": buyers[0].api_key,
            "DEMO_SELLER_KEY": seller.api_key,
            "DEMO_SUPPORT_KEY": support.api_key,
            "DEMO_CARRIER_KEY": carrier.api_key,
        },
    )
    typer.echo(f"  the same as shell variables (the README's walkthrough uses $ADMIN): . {keys}")
    typer.echo("")
    typer.echo("Try:")
    typer.echo(f"  curl -s {base}/v1/orders -H 'Authorization: Bearer {buyers[0].api_key}'")
    typer.echo(f"  curl -s {base}/v1/notifications -H 'Authorization: Bearer {buyers[0].api_key}'")
    typer.echo(f"  curl -s {base}/v1/track/{parcels[0][0]}")
    typer.echo(f"  open {base}/track/{parcels[0][0]}")
    typer.echo("")
    typer.echo("Sign in to the web pages (each link works once, for 15 minutes;")
    typer.echo("`ordertrail users login-link --email E` prints a new one):")
    for label, who in (("buyer  ", buyers[0]), ("seller ", seller), ("support", support)):
        link = issue_link(deps, who.user.email or "")
        if link is not None:
            typer.echo(f"  {label} {who.user.name}: {base}/login/{link.url.rsplit('/login/', 1)[1]}")
    if not serve_after:
        return

    stop = threading.Event()

    def keep_moving() -> None:
        while not stop.wait(min(5.0, seconds_per_hop / 2)):
            try:
                simulator.advance(deps, parcels, deps.clock(), seconds_per_hop)
            except Exception as exc:  # the demo must keep running if one tick fails
                typer.echo(f"simulator tick failed: {exc}", err=True)

    threading.Thread(target=keep_moving, name="carrier-simulator", daemon=True).start()
    import uvicorn

    from ordertrail.entrypoints.web.app import create_app

    typer.echo(f"\nServing on {base} — parcels keep moving every {seconds_per_hop:.0f} s. Ctrl-C stops.")
    try:
        uvicorn.run(create_app(container, run_worker=True), host=host, port=port, log_level="warning")
    finally:
        stop.set()
