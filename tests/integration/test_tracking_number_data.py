"""Every test number shipped with jkeen/tracking_number_data, through the packaged carrier directory."""

from __future__ import annotations

from collections import Counter
from urllib.parse import urlsplit

import pytest

from ordertrail.adapters.carriers.registry import load_carrier_directory, load_tracking_number_specs
from ordertrail.domain.carriers import SettledBy
from ordertrail.domain.tracking_numbers import NumberMatch, NumberProblem, normalise

SPECS = load_tracking_number_specs()
DIRECTORY = load_carrier_directory()

# S10 test numbers belong to the post of their country suffix (the fallback post for countries
# without a registered post).
S10_POSTS = {"GB": "royal_mail", "US": "usps", "CV": "s10_post", "CF": "s10_post"}

# Valid for two couriers at once: the candidates, and a destination country that settles each
# (None: both candidates deliver in the same country, so only the seller's history can settle it).
AMBIGUOUS: dict[str, tuple[frozenset[str], dict[str, str] | None]] = {
    "78045768393": (frozenset({"dhl", "old_dominion"}), {"US": "old_dominion", "DE": "dhl"}),
    "287809468872": (frozenset({"fedex", "purolator"}), {"CA": "purolator", "US": "fedex"}),
    "320610804900": (frozenset({"fedex", "purolator"}), {"CA": "purolator", "US": "fedex"}),
    "JFV247545960": (frozenset({"dhl", "purolator"}), {"CA": "purolator", "DE": "dhl"}),
    "4201028200009261290113185417468510": (frozenset({"fedex", "usps"}), None),
}

# Listed as *invalid* for Amazon, yet twelve zeros pass both FedEx's and Purolator's 12-digit check:
# the count of seven two-courier numbers is the six valid-list entries above plus this one.
AMBIGUOUS_IN_INVALID_LISTS: dict[str, tuple[frozenset[str], dict[str, str] | None]] = {
    "000000000000": (frozenset({"fedex", "purolator"}), {"CA": "purolator", "US": "fedex"}),
}
EVERY_AMBIGUOUS = {**AMBIGUOUS, **AMBIGUOUS_IN_INVALID_LISTS}

# Invalid for the format it is listed under, valid under another format of the same courier.
VALID_UNDER_ANOTHER_FORMAT = {("purolator", "331426749957"): "Purolator (12)"}


def _cases(kind: str) -> list[tuple[str, str, str]]:
    return [
        (slug, type_spec["name"], number)
        for slug, spec in SPECS.items()
        for type_spec in spec["tracking_numbers"]
        for number in type_spec["test_numbers"][kind]
    ]


VALID = _cases("valid")
INVALID = _cases("invalid")


def _expected_carrier(slug: str, number: str) -> str:
    return S10_POSTS[normalise(number)[-2:]] if slug == "s10" else slug


def test_the_data_set_has_the_documented_size() -> None:
    types = [t for spec in SPECS.values() for t in spec["tracking_numbers"]]
    print(
        f"{len(SPECS)} couriers, {len(types)} types, {len(VALID)} valid, {len(INVALID)} invalid test numbers"
    )
    assert (len(SPECS), len(types), len(VALID), len(INVALID)) == (18, 39, 192, 88)


@pytest.mark.parametrize(("slug", "type_name", "number"), VALID, ids=[f"{s}:{n}" for s, _, n in VALID])
def test_every_valid_number_is_accepted_for_its_courier(slug: str, type_name: str, number: str) -> None:
    carrier = _expected_carrier(slug, number)
    result = DIRECTORY.validate(carrier, number)
    assert isinstance(result, NumberMatch), result
    assert (result.carrier, result.type_name, result.number) == (carrier, type_name, normalise(number))


@pytest.mark.parametrize(("slug", "type_name", "number"), VALID, ids=[f"{s}:{n}" for s, _, n in VALID])
def test_every_valid_number_is_detected_as_its_courier_unless_two_couriers_accept_it(
    slug: str, type_name: str, number: str
) -> None:
    carrier = _expected_carrier(slug, number)
    detected = {match.carrier for match in DIRECTORY.detect(number)}
    if normalise(number) in AMBIGUOUS:
        assert detected == AMBIGUOUS[normalise(number)][0]
    else:
        assert detected == {carrier}
        resolution = DIRECTORY.resolve(number)
        assert (resolution.carrier, resolution.settled_by) == (carrier, SettledBy.DETECTED)


def test_exactly_the_known_numbers_are_valid_for_two_couriers() -> None:
    ambiguous = Counter(normalise(n) for _, _, n in VALID if len(DIRECTORY.detect(n)) > 1)
    print(
        f"{sum(ambiguous.values())} valid test entries ({len(ambiguous)} distinct numbers) fit two couriers"
    )
    assert set(ambiguous) == set(AMBIGUOUS)
    # One of them is listed twice, once spaced out.
    assert sum(ambiguous.values()) == 6


def test_seven_test_entries_fit_two_couriers_counting_one_from_an_invalid_list() -> None:
    entries = [normalise(n) for _, _, n in VALID + INVALID if len(DIRECTORY.detect(n)) > 1]
    print(f"{len(entries)} test entries ({len(set(entries))} distinct numbers) fit two couriers")
    assert len(entries) == 7
    assert set(entries) == set(EVERY_AMBIGUOUS)


@pytest.mark.parametrize("number", sorted(EVERY_AMBIGUOUS))
def test_without_context_an_ambiguous_number_names_both_candidates(number: str) -> None:
    candidates, _ = EVERY_AMBIGUOUS[number]
    problem = DIRECTORY.resolve(number).problem
    assert problem is not None
    assert (problem.field, problem.code) == ("carrier", "ambiguous_carrier")
    assert set(problem.candidates) == candidates
    for slug in candidates:
        assert f"({slug})" in problem.message


@pytest.mark.parametrize("number", sorted(EVERY_AMBIGUOUS))
def test_the_sellers_carrier_history_settles_an_ambiguous_number(number: str) -> None:
    for slug in EVERY_AMBIGUOUS[number][0]:
        resolution = DIRECTORY.resolve(number, seller_carriers=frozenset({slug, "ups"}))
        assert (resolution.carrier, resolution.settled_by) == (slug, SettledBy.SELLER_HISTORY)


@pytest.mark.parametrize("number", sorted(EVERY_AMBIGUOUS))
def test_the_destination_country_settles_an_ambiguous_number_when_the_candidates_differ(number: str) -> None:
    _, by_destination = EVERY_AMBIGUOUS[number]
    if by_destination is None:
        problem = DIRECTORY.resolve(number, destination_country="US").problem
        assert problem is not None and problem.code == "ambiguous_carrier"
        return
    for country, slug in by_destination.items():
        resolution = DIRECTORY.resolve(number, destination_country=country)
        assert (resolution.carrier, resolution.settled_by) == (slug, SettledBy.DESTINATION_COUNTRY)


@pytest.mark.parametrize(("slug", "type_name", "number"), INVALID, ids=[f"{s}:{n}" for s, _, n in INVALID])
def test_every_invalid_number_is_refused_for_its_courier(slug: str, type_name: str, number: str) -> None:
    carrier = S10_POSTS.get(normalise(number)[-2:], "s10_post") if slug == "s10" else slug
    result = DIRECTORY.validate(carrier, number)
    if (slug, normalise(number)) in VALID_UNDER_ANOTHER_FORMAT:
        assert isinstance(result, NumberMatch)
        assert result.type_name == VALID_UNDER_ANOTHER_FORMAT[slug, normalise(number)] != type_name
        return
    assert isinstance(result, NumberProblem), result
    assert result.code in {"invalid_format", "invalid_check_digit"}
    resolution = DIRECTORY.resolve(number, carrier=carrier)
    assert resolution.problem is not None and resolution.problem.field == "tracking_number"


def test_only_one_invalid_number_is_valid_under_another_format_of_its_courier() -> None:
    accepted = {
        (slug, normalise(number))
        for slug, _, number in INVALID
        if slug != "s10" and isinstance(DIRECTORY.validate(slug, number), NumberMatch)
    }
    assert accepted == set(VALID_UNDER_ANOTHER_FORMAT)


# --- S10 mapping ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "post"),
    [
        ("US", "usps"),
        ("GB", "royal_mail"),
        ("CN", "china_post"),
        ("DE", "deutsche_post"),
        ("BR", "correios"),
        ("CA", "canadapost"),
        ("FR", "la_poste"),
        ("JP", "japan_post"),
        ("AU", "australia_post"),
    ],
)
def test_an_s10_number_is_detected_as_the_post_of_its_country(country: str, post: str) -> None:
    [match] = DIRECTORY.detect(f"EA123456785{country}")
    assert (match.carrier, match.country_code, match.service) == (post, country, "EMS")


def test_an_s10_number_from_a_country_without_a_listed_post_keeps_its_country() -> None:
    [match] = DIRECTORY.detect("RB123456785CV")
    assert (match.carrier, match.country_code) == ("s10_post", "CV")
    assert DIRECTORY.get("s10_post") is not None


def test_the_destination_post_accepts_an_inbound_s10_number() -> None:
    result = DIRECTORY.validate("usps", "LX123456785CN")
    assert isinstance(result, NumberMatch)
    assert (result.carrier, result.country_code) == ("usps", "CN")


def test_an_s10_number_with_a_wrong_check_digit_is_refused_by_its_post() -> None:
    problem = DIRECTORY.resolve("RB123456786GB", carrier="royal_mail").problem
    assert problem is not None
    assert (problem.field, problem.code) == ("tracking_number", "invalid_check_digit")


# --- tracking URLs and the registry ------------------------------------------------------------


def test_tracking_url_inserts_the_normalised_number() -> None:
    url = DIRECTORY.tracking_url("UPS", " 1z5r 8939 0357567127")
    assert url == "https://www.ups.com/track?tracknum=1Z5R89390357567127"


def test_the_simulated_carrier_links_to_the_local_public_tracking_page() -> None:
    assert DIRECTORY.tracking_url("simulated", "SIM0123456789") == "/track/SIM0123456789"
    [match] = DIRECTORY.detect("SIM0123456789")
    assert match.carrier == "simulated"


def test_tracking_url_of_an_unknown_carrier_is_none() -> None:
    assert DIRECTORY.tracking_url("nope", "1Z5R89390357567127") is None


def test_every_carrier_has_an_https_tracking_url_with_the_number_in_it() -> None:
    for carrier in DIRECTORY.all():
        url = DIRECTORY.tracking_url(carrier.slug, "AB123")
        assert url is not None and "AB123" in url
        if carrier.slug != "simulated":
            assert urlsplit(url).scheme == "https", carrier.slug


def test_the_registry_lists_the_couriers_of_the_api_with_lower_case_slugs() -> None:
    slugs = {carrier.slug for carrier in DIRECTORY.all()}
    assert {"ups", "usps", "fedex", "dhl", "amazon", "canadapost", "simulated", "s10_post"} <= slugs
    assert set(SPECS) - {"s10"} <= slugs
    assert all(slug == slug.lower() for slug in slugs)


def test_usps_ups_and_fedex_deliver_on_saturdays() -> None:
    for slug in ("usps", "ups", "fedex"):
        carrier = DIRECTORY.get(slug)
        assert carrier is not None and 5 in carrier.delivery_weekdays


def test_the_directory_is_loaded_once() -> None:
    assert load_carrier_directory() is DIRECTORY


def test_every_carrier_home_timezone_is_an_iana_zone() -> None:
    from zoneinfo import ZoneInfo

    for carrier in DIRECTORY.all():
        ZoneInfo(carrier.home_timezone)
