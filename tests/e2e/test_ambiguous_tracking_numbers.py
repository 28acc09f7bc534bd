"""Every test number that two couriers accept, through `POST /v1/orders/{id}/shipments`.

Without a carrier and without context that settles it, the answer is a 422 `ambiguous_carrier` that
names both candidates, and no shipment is stored; the seller's carrier history then settles it.
"""

from __future__ import annotations

import pytest

from tests.conftest import ADDRESS, Party
from tests.e2e.conftest import Api
from tests.integration.test_tracking_number_data import EVERY_AMBIGUOUS

# No candidate courier is at home in France, so the destination settles none of them.
PARIS = {
    **ADDRESS,
    "street_address": "5 Avenue Anatole France",
    "city": "Paris",
    "country_area": "",
    "postal_code": "75007",
    "country_code": "FR",
}


@pytest.mark.parametrize("number", sorted(EVERY_AMBIGUOUS))
def test_a_number_two_couriers_accept_is_422_ambiguous_naming_both_until_the_sellers_history_settles_it(
    api: Api, buyer: Party, seller: Party, number: str
) -> None:
    candidates, _ = EVERY_AMBIGUOUS[number]
    order = api.order(buyer, seller, shipping_address=PARIS)
    url = f"/v1/orders/{order['id']}/shipments"
    r = api.client.post(url, json={"tracking_number": number}, headers=seller.auth)
    assert r.status_code == 422, r.text
    error = r.json()["errors"][0]
    assert (error["field"], error["code"]) == ("carrier", "ambiguous_carrier")
    assert all(f"({slug})" in error["message"] for slug in candidates)
    assert api.client.get(f"/v1/orders/{order['id']}", headers=buyer.auth).json()["shipments"] == []

    # Once the seller has shipped with one of the candidates, that one is chosen.
    chosen = sorted(candidates)[0]
    earlier = api.order(buyer, seller, shipping_address=PARIS)
    example = {"fedex": "986578788855", "dhl": "3318810025"}  # valid numbers of each
    api.ship(earlier["id"], seller, example[chosen], carrier=chosen)
    settled = api.client.post(url, json={"tracking_number": number}, headers=seller.auth)
    assert settled.status_code == 201, settled.text
    assert settled.json()["carrier"] == chosen
