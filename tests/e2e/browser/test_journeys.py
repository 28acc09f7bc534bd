"""What buyers, sellers and the public do on the pages, in real Chromium, each page checked by axe-core
and photographed at phone and desktop width into docs/screenshots/."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from ordertrail.bootstrap import Container
from ordertrail.domain.events import ProofOfDelivery
from ordertrail.domain.statuses import ShipmentStatus as S
from tests.conftest import FixedClock
from tests.e2e.browser.conftest import sign_in_link
from tests.e2e.browser.story import MEMPHIS, MOUNTAIN_VIEW, NEWARK, UPS, UPS2, Shop, sign_in

pytestmark = pytest.mark.browser


def in_transit_parcel(shop: Shop, clock: FixedClock) -> Any:
    order = shop.order(
        ("LAMP-RGB", "Sunset projection lamp", 1, 3299), ("MUG-01", "Enamel camping mug", 2, 1450)
    )
    shop.ship(order, UPS)
    clock.advance(days=1)
    shop.scan(UPS, "2026-11-27T09:05:00-05:00", S.INFO_RECEIVED, "Shipment information sent to UPS", NEWARK)
    shop.scan(UPS, "2026-11-27T18:40:00-05:00", S.IN_TRANSIT, "Picked up", NEWARK)
    shop.scan(UPS, "2026-11-28T06:15:00-06:00", S.IN_TRANSIT, "Arrived at facility", MEMPHIS)
    shop.scan(
        UPS, "2026-11-28T09:50:00-06:00", S.DELAYED, "Weather delay: severe storms in the area", MEMPHIS
    )
    return order


def test_a_buyer_signs_in_by_link_and_sees_a_new_carrier_scan_appear_live(
    people: Any, container: Container, clock: FixedClock
) -> None:
    shop = Shop.open(container)
    order = in_transit_parcel(shop, clock)
    delivered = shop.order(("CASE-IP15", "Glitter phone case", 1, 1299))
    shop.ship(delivered, UPS2)
    shop.scan(UPS2, "2026-11-27T08:00:00-05:00", S.IN_TRANSIT, "Picked up", NEWARK)
    shop.scan(
        UPS2,
        "2026-11-28T14:12:00-08:00",
        S.DELIVERED,
        "Delivered, signed for at the front desk",
        MOUNTAIN_VIEW,
        ProofOfDelivery("signature", signed_by="A. SOUZA"),
    )
    waiting = shop.order(("SERUM-30", "Vitamin C serum 30 ml", 1, 2450))
    shop.deliver_notifications()

    ana = people("buyer")
    ana.goto("/login")
    ana.snap("sign-in")
    ana.page.get_by_label("E-mail address").fill("ana@buyer.example")
    ana.page.get_by_role("button", name="E-mail me a sign-in link").click()
    expect(ana.page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    ana.snap("sign-in-link-sent")
    ana.page.goto(sign_in_link(container, "ana@buyer.example"))
    ana.snap("sign-in-confirm")
    ana.page.get_by_role("button", name="Sign in").click()
    expect(ana.page).to_have_url(re.compile(r"/orders$"))
    expect(ana.page.get_by_role("heading", name="Your orders")).to_be_visible()
    ana.snap("buyer-orders")

    ana.page.get_by_role("link", name="Sunset projection lamp and 1 more").click()
    expect(ana.page.get_by_role("heading", name="Sunset projection lamp and 1 more")).to_be_visible()
    expect(ana.page.get_by_text(f"Order {order.id} ·")).to_be_visible()  # the id the seller knows it by
    timeline = ana.page.locator("#tracking")
    expect(timeline.locator(".event-latest .event-desc")).to_have_text(
        "Weather delay: severe storms in the area"
    )
    expect(ana.page.locator(".banner")).to_contain_text("The carrier reports a delay")
    for shown in (
        "Enamel camping mug",
        "$",
        "1600 Amphitheatre Pkwy",
        "Promised delivery",
        "Expected delivery",
    ):
        if shown != "$":
            expect(ana.page.locator("main")).to_contain_text(shown)
    expect(ana.page.locator("main")).to_contain_text("Sat 28 Nov, 09:50 UTC−6")
    ana.snap("buyer-order")

    # The page stays open; two days on, the carrier's next scan arrives through the ingestion path.
    clock.advance(days=2)
    shop.scan(
        UPS, "2026-11-29T07:30:00-08:00", S.IN_TRANSIT, "Arrived at destination facility", MOUNTAIN_VIEW
    )
    expect(timeline.locator(".event-latest .event-desc")).to_have_text("Arrived at destination facility")
    expect(timeline.locator(".event-latest")).to_contain_text("Mountain View, CA, US")
    expect(ana.page.locator("#live-status")).to_contain_text("Arrived at destination facility")
    shop.scan(UPS, "2026-11-30T08:02:00-08:00", S.OUT_FOR_DELIVERY, "On vehicle for delivery", MOUNTAIN_VIEW)
    expect(timeline.locator(".event-latest .event-status")).to_have_text("Out for delivery")
    expect(timeline.locator('[aria-current="step"]')).to_contain_text("Out for delivery")
    assert ana.page.evaluate("performance.getEntriesByType('navigation').length") == 1  # never reloaded

    ana.goto(f"/orders/{delivered.id}")
    expect(ana.page.locator(".proof")).to_contain_text("Signed for by A. SOUZA")
    # Delivered: the day it came, no estimate still pending, no talk of changing the address.
    expect(ana.page.locator("main")).not_to_contain_text("Expected delivery")
    expect(ana.page.locator("main")).not_to_contain_text("can no longer change")
    ana.snap("buyer-order-delivered")

    ana.goto(f"/orders/{waiting.id}")
    ana.page.get_by_role("link", name="Change address").click()
    ana.page.get_by_label("Postal code").fill("10001")
    ana.page.get_by_role("button", name="Save the new address").click()
    expect(ana.page.locator("#f-postal_code-error")).to_contain_text("does not belong to CA")
    expect(ana.page.get_by_label("Postal code")).to_have_attribute("aria-invalid", "true")
    expect(ana.page.get_by_label("Postal code")).to_be_focused()  # the field to fix, in view
    ana.snap("buyer-address-correction")
    ana.page.get_by_label("Street address").fill("1 Infinite Loop")
    ana.page.get_by_label("City").fill("Cupertino")
    ana.page.get_by_label("Postal code").fill("95014")
    ana.page.get_by_role("button", name="Save the new address").click()
    expect(ana.page.get_by_role("status").first).to_contain_text("Your new address is saved")

    ana.page.get_by_role("link", name="Inbox").click()
    expect(ana.page.get_by_role("heading", name=f"Order {order.id} confirmed")).to_be_visible()
    ana.snap("buyer-inbox")


def test_the_seller_adds_tracking_with_the_carrier_detected_as_they_type(
    people: Any, container: Container, clock: FixedClock
) -> None:
    shop = Shop.open(container)
    late = shop.order(("TSHIRT-M", "Logo T-shirt (M)", 2, 1999))
    clock.advance(days=2)
    shop.order(("MUG-01", "Enamel camping mug", 1, 1450))
    shop.order(("LAMP-RGB", "Sunset projection lamp", 1, 3299))
    clock.now = late.ship_by + timedelta(hours=2)

    sunny = people("seller")
    sign_in(sunny, shop, shop.seller)
    expect(sunny.page.get_by_role("heading", name="To ship")).to_be_visible()
    first = sunny.page.locator(".queue-row").first
    expect(first).to_contain_text(late.id)
    expect(first).to_contain_text("Overdue")
    sunny.snap("seller-to-ship")

    first.get_by_role("link", name=re.compile("Add tracking")).click()
    number = sunny.page.get_by_label("Tracking number")
    number.press_sequentially("1Z5R8939035756712")
    expect(sunny.page.locator("#add-detected")).to_contain_text("No carrier we know uses numbers like")
    number.press_sequentially("8")
    expect(sunny.page.locator("#add-detected")).to_contain_text("fails the check digit")
    sunny.page.get_by_role("button", name="Add tracking").click()
    expect(sunny.page.locator("#add-number-error")).to_contain_text("fails the check digit")
    expect(sunny.page.get_by_label("Tracking number")).to_be_focused()  # the number is what to fix
    sunny.snap("seller-tracking-error")

    number = sunny.page.get_by_label("Tracking number")
    number.fill("")
    number.press_sequentially(UPS)
    expect(sunny.page.locator("#add-detected")).to_have_text("Detected carrier: UPS")
    sunny.snap("seller-add-tracking")
    sunny.page.get_by_role("button", name="Add tracking").click()
    expect(sunny.page.get_by_role("status").first).to_contain_text("Tracking added. The buyer has been told.")
    expect(sunny.page.locator(".shipment")).to_contain_text(UPS)
    shop.deliver_notifications()
    from ordertrail.services.outbox import inbox

    shipped = [
        n for n in inbox(container.deps, shop.buyer.id, 20, None).items if n["type"] == "order_shipped"
    ]
    assert len(shipped) == 1 and UPS in shipped[0]["body"]

    sunny.page.get_by_role("link", name="Orders", exact=True).click()  # it left "To ship"; still here
    expect(sunny.page.get_by_role("heading", name="All orders")).to_be_visible()
    expect(sunny.page.locator(".order-row", has_text=UPS)).to_have_count(1)
    sunny.snap("seller-orders")


def test_the_public_tracking_page_shows_the_journey_in_the_shops_colours_and_no_personal_data(
    people: Any, container: Container, clock: FixedClock
) -> None:
    shop = Shop.open(container)
    order = in_transit_parcel(shop, clock)
    visitor = people("visitor")
    visitor.goto("/track")
    visitor.snap("public-track-lookup")
    # By keyboard alone: the skip link comes first and is visible when focused, then the form.
    visitor.page.keyboard.press("Tab")
    skip = visitor.page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    visitor.page.keyboard.press("Enter")
    visitor.page.keyboard.press("Tab")
    expect(visitor.page.get_by_label("Tracking number")).to_be_focused()
    visitor.page.keyboard.type(UPS.lower())
    visitor.page.keyboard.press("Enter")
    expect(visitor.page).to_have_url(re.compile(f"/track/{UPS}$"))
    expect(visitor.page.locator(".event-latest")).to_contain_text("Weather delay")
    expect(visitor.page.locator(".site-header")).to_contain_text("Sunny Market")
    visitor.snap("public-track")
    html = visitor.page.content()
    for personal in (
        "Ana",
        "Souza",
        "Amphitheatre",
        "94043",
        "Sunset projection lamp",
        "32.99",
        order.id,
        "@",
    ):
        assert personal not in html, personal


def damage_photo(path: Path) -> Path:
    """A small real PNG, as a phone would upload it."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (320, 240), "#d9cbb3")
    draw = ImageDraw.Draw(image)
    draw.rectangle((60, 50, 260, 190), fill="#a0784f", outline="#5b4025", width=6)
    draw.line((80, 60, 200, 180), fill="#2b1d10", width=5)
    draw.line((200, 60, 150, 120), fill="#2b1d10", width=4)
    image.save(path)
    return path


def test_a_damaged_item_is_reported_with_a_photo_answered_by_the_seller_and_decided_by_support(
    people: Any, container: Container, clock: FixedClock, tmp_path: Path
) -> None:
    shop = Shop.open(container)
    order = shop.order(("LAMP-RGB", "Sunset projection lamp", 1, 3299))
    shop.ship(order, UPS)
    shop.scan(UPS, "2026-11-27T18:40:00-05:00", S.IN_TRANSIT, "Picked up", NEWARK)
    clock.advance(days=4, hours=8)
    shop.scan(UPS, "2026-11-30T13:05:00-08:00", S.DELIVERED, "Delivered, left at front door", MOUNTAIN_VIEW)

    ana = people("buyer")
    sign_in(ana, shop, shop.buyer)
    ana.goto(f"/orders/{order.id}")
    ana.page.get_by_role("link", name="Report a problem").click()
    expect(ana.page.get_by_role("heading", name="Report a problem")).to_be_visible()
    ana.snap("buyer-report-problem")
    ana.page.get_by_label("It arrived damaged").check()
    ana.page.get_by_label("Tell the seller what happened").fill("The lamp's shade is cracked right across.")
    ana.page.get_by_label("Full refund").check()
    ana.page.get_by_label("Photo of the problem (optional)").set_input_files(
        damage_photo(tmp_path / "damage.png")
    )
    ana.page.get_by_role("button", name="Send to the seller").click()
    expect(ana.page.get_by_role("status").first).to_contain_text("Your problem is reported")
    expect(ana.page.locator(".deadline")).to_contain_text("The seller's answer is due")
    expect(ana.page.locator(".deadline .countdown")).to_have_text("2 days 0 h left")
    photo = ana.page.locator("#evidence img")
    expect(photo).to_have_attribute("alt", re.compile("Buyer's photo damage.png"))
    assert photo.evaluate("img => img.complete && img.naturalWidth") == 320  # served back to the page
    case_url = ana.page.url
    ana.snap("buyer-case")

    clock.advance(hours=5)
    sunny = people("seller")
    sign_in(sunny, shop, shop.seller)
    sunny.page.get_by_role("link", name="Cases").click()
    row = sunny.page.locator(".queue-row").first
    expect(row).to_contain_text("It arrived damaged")
    expect(row.locator(".countdown")).to_have_text("1 day 19 h left")
    sunny.snap("seller-cases")
    row.get_by_role("link", name="It arrived damaged").click()
    expect(sunny.page.locator("#evidence img")).to_be_visible()
    sunny.snap("seller-case-answer")
    sunny.page.get_by_label("Reject the claim").check()
    sunny.page.get_by_role("button", name="Send the answer").click()
    expect(sunny.page.locator("#response-message-error")).to_contain_text("reason")  # a rejection needs one
    sunny.page.get_by_label("Message to the buyer").fill(
        "It left our warehouse intact; please ask the carrier."
    )
    sunny.page.get_by_role("button", name="Send the answer").click()
    expect(sunny.page.get_by_role("status").first).to_contain_text("Your answer is sent to the buyer.")

    ana.page.goto(case_url)
    expect(ana.page.locator("main")).to_contain_text("The seller rejected the claim")
    expect(ana.page.locator("#messages")).to_contain_text("It left our warehouse intact")
    ana.page.get_by_label("Why should support step in? (optional)").fill("The box was crushed on arrival.")
    ana.page.get_by_role("button", name="Ask platform support to decide").click()
    expect(ana.page.get_by_role("status").first).to_contain_text("The case is with platform support now.")

    sam = people("support")
    sign_in(sam, shop, shop.support)
    expect(sam.page.get_by_role("heading", name="Escalations")).to_be_visible()
    expect(sam.page.locator(".queue-row")).to_have_count(1)
    sam.snap("support-queue")
    sam.page.get_by_role("link", name="It arrived damaged").click()
    history = sam.page.locator(".history")
    for step in ("opened the case", "added evidence: damage.png", "rejected the claim", "escalated the case"):
        expect(history).to_contain_text(step)
    expect(sam.page.locator("#evidence img")).to_be_visible()
    expect(sam.page.locator("main")).to_contain_text("Delivered, left at front door")
    sam.snap("support-case")
    sam.page.get_by_label("Full refund").check()
    sam.page.get_by_label("Note to both sides").fill("The photo shows transit damage: a full refund.")
    sam.page.get_by_role("button", name="Record the decision").click()
    expect(sam.page.get_by_role("status").first).to_contain_text("The decision is recorded")
    expect(sam.page.locator("main")).to_contain_text("Resolved: Full refund of 37.98 USD")

    ana.page.goto(case_url)
    expect(ana.page.locator("main")).to_contain_text("Resolved: Full refund of 37.98 USD")
    ana.page.get_by_role("link", name="Cases").click()
    expect(ana.page.locator(".queue")).to_contain_text("Resolved")
    ana.snap("buyer-cases")

    sunny.goto("/seller/performance")
    expect(sunny.page.locator(".figures")).to_contain_text("Cases resolved for the buyer")
    # A rate held to a ceiling (at most 1 % of orders with a case) is over it, not "below target".
    expect(sunny.page.locator(".figure-miss").first).to_contain_text("Over the limit")
    sunny.snap("seller-performance")


def test_times_show_in_the_readers_own_zone_and_follow_live_updates(
    people: Any, container: Container, clock: FixedClock
) -> None:
    """A buyer in California sees when things happened on their own clock: a parcel delivered at
    05:06 UTC on a Friday came on Thursday evening there."""
    shop = Shop.open(container)
    order = in_transit_parcel(shop, clock)
    ana = people("buyer", timezone_id="America/Los_Angeles")
    sign_in(ana, shop, shop.buyer)
    ana.goto(f"/orders/{order.id}")
    placed = ana.page.locator("time[data-utc]").first
    expect(placed).to_have_text(re.compile(r"^\w{3} \d{2} \w{3} 2026, \d{2}:\d{2} PST$"))
    assert placed.get_attribute("datetime") == order.placed_at.isoformat()
    # The tracking section swapped in live after a scan is shown in the reader's zone too.
    shop.scan(UPS, "2026-11-28T05:06:00+00:00", S.DELIVERED, "Delivered, left at front door", MOUNTAIN_VIEW)
    delivered = ana.page.locator("#tracking time[data-utc]").first
    expect(delivered).to_have_text("Fri 27 Nov 2026, 21:06 PST")
