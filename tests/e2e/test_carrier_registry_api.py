"""`GET /v1/carriers`: the registry as integrators see it."""

from __future__ import annotations

from tests.e2e.conftest import Api


def test_the_registry_lists_delivery_days_calendars_number_formats_and_the_s10_posts(api: Api) -> None:
    r = api.client.get("/v1/carriers", params={"limit": 100})
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


def test_the_registry_is_paged_like_every_list_the_large_carriers_first(api: Api) -> None:
    first = api.client.get("/v1/carriers").json()
    assert len(first["items"]) == 20  # the default page, as for every list
    assert [c["slug"] for c in first["items"][:3]] == ["ups", "usps", "fedex"]
    slugs, cursor = [c["slug"] for c in first["items"]], first["next_cursor"]
    pages = 1
    while cursor is not None:
        page = api.client.get("/v1/carriers", params={"limit": 7, "cursor": cursor}).json()
        assert 1 <= len(page["items"]) <= 7
        slugs += [c["slug"] for c in page["items"]]
        cursor, pages = page["next_cursor"], pages + 1
    everything = api.client.get("/v1/carriers", params={"limit": 100}).json()
    assert everything["next_cursor"] is None
    assert slugs == [c["slug"] for c in everything["items"]]  # each once, in the same order
    assert len(slugs) > 40 and pages == 1 + -(-(len(slugs) - 20) // 7)
    # A page that ends exactly at the last carrier says there is no more.
    exact = api.client.get("/v1/carriers", params={"limit": len(slugs)}).json()
    assert exact["next_cursor"] is None


def test_a_bad_limit_or_cursor_for_the_registry_is_a_field_error(api: Api) -> None:
    for params, field in (
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "Y2Fycmllcnxuby1zdWNoLWNhcnJpZXI"}, "cursor"),  # "carrier|no-such-carrier"
        ({"cursor": "b3JkZXJ8dXBz"}, "cursor"),  # "order|ups": another list's kind of cursor
    ):
        r = api.client.get("/v1/carriers", params=params)
        assert r.status_code == 422, params
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["errors"][0]["field"].endswith(field), r.json()
