"""`GET /v1/carriers`: the registry as integrators see it."""

from __future__ import annotations

from tests.e2e.conftest import Api


def test_the_registry_lists_delivery_days_calendars_number_formats_and_the_s10_posts(api: Api) -> None:
    r = api.client.get("/v1/carriers")
    assert r.status_code == 200
    carriers = {c["slug"]: c for c in r.json()["items"]}
    ups = carriers["ups"]
    assert ups["delivery_weekdays"] == ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]
    assert (ups["holiday_country"], ups["home_timezone"], ups["s10"]) == ("US", "America/New_York", None)
    assert "1Z" in ups["number_format"]
    assert "{number}" in ups["tracking_url_template"]
    # An S10 number (RB123456785GB) belongs to the national post of its country suffix.
    assert carriers["royal_mail"]["s10"] == {"national_post_of": "GB"}
    assert carriers["usps"]["s10"] == {"national_post_of": "US"}
    assert carriers["s10_post"]["s10"] == {"national_post_of": "*"}
    assert carriers["correios"]["delivery_weekdays"][-1] == "friday"  # no Saturday rounds
    assert carriers["royal_mail"]["delivery_weekdays"][-1] == "saturday"
