"""Check-digit algorithms, normalisation and the matching rules, on small hand-made specs."""

from __future__ import annotations

from typing import Any

import pytest

from ordertrail.domain import checksums
from ordertrail.domain.carriers import Carrier, CarrierDirectory, SettledBy
from ordertrail.domain.tracking_numbers import (
    NumberMatch,
    NumberProblem,
    ProblemCode,
    TrackingNumberRules,
    normalise,
)

# --- check-digit algorithms (expected values worked out by hand in the comments) ---------------


def test_mod10_weights_the_first_character_with_the_evens_multiplier() -> None:
    # 1*3 + 2*1 + 3*3 = 14 → 10 - 4 = 6
    assert checksums.mod10("123", evens_multiplier=3, odds_multiplier=1) == "6"


def test_mod10_reversed_weights_the_last_character_with_the_evens_multiplier() -> None:
    # reversed "21": 2*3 + 1*1 = 7 → 3 (unreversed: 1*3 + 2 = 5 → 5)
    assert checksums.mod10("12", evens_multiplier=3, odds_multiplier=1, reverse=True) == "3"
    assert checksums.mod10("12", evens_multiplier=3, odds_multiplier=1) == "5"


def test_mod10_gives_zero_when_the_sum_is_a_multiple_of_ten() -> None:
    # 5*1 + 5*1 = 10 → 0, not 10
    assert checksums.mod10("55") == "0"


def test_mod10_maps_letters_the_way_ups_does() -> None:
    # "A" → (65 - 3) % 10 = 2, doubled at an odd position: 0*1 + 2*2 = 4 → 6
    assert checksums.mod10("0A", evens_multiplier=1, odds_multiplier=2) == "6"
    # The UPS test number 1Z5R89390357567127: serial 5R8939035756712, check digit 7.
    assert checksums.mod10("5R8939035756712", evens_multiplier=1, odds_multiplier=2) == "7"


def test_mod7_is_the_serial_modulo_seven() -> None:
    # 1234567 = 7 * 176366 + 5
    assert checksums.mod7("1234567") == "5"


def test_luhn_doubles_every_second_digit_from_the_right() -> None:
    # The textbook example: 7992739871 → 3
    assert checksums.luhn("7992739871") == "3"
    # 18: 8*2 = 16 → 7, + 1 = 8 → 2
    assert checksums.luhn("18") == "2"


def test_s10_uses_weights_8_6_4_2_3_5_9_7_modulo_11() -> None:
    # 8 + 12 + 12 + 8 + 15 + 30 + 63 + 56 = 204; 204 % 11 = 6 → 11 - 6 = 5 (RB123456785GB)
    assert checksums.s10("12345678") == "5"


def test_s10_turns_remainder_zero_into_five_and_remainder_one_into_zero() -> None:
    assert checksums.s10("00000000") == "5"  # total 0
    assert checksums.s10("02000000") == "0"  # total 12, remainder 1


def test_sum_product_applies_both_moduli() -> None:
    weights = (3, 1, 7)
    # 3 + 2 + 21 = 26 → 26 % 11 = 4 → 4 % 10 = 4
    assert (
        checksums.sum_product_with_weightings_and_modulo("123", weightings=weights, modulo1=11, modulo2=10)
        == "4"
    )
    # 9 + 1 + 0 = 10 → 10 % 11 = 10 → 10 % 10 = 0
    assert (
        checksums.sum_product_with_weightings_and_modulo("310", weightings=weights, modulo1=11, modulo2=10)
        == "0"
    )


def test_mod_37_36_can_produce_a_letter() -> None:
    # DPD's published example 0998 0000 0200 33F.
    assert checksums.mod_37_36("09980000020033") == "F"
    # One digit: 36 + 0 = 36 → 72 → 72 - 37 = 35 → 37 - 35 = 2
    assert checksums.mod_37_36("0") == "2"


def test_an_unknown_check_digit_algorithm_fails_when_the_spec_is_loaded() -> None:
    with pytest.raises(ValueError, match="mod97"):
        checksums.check_function({"name": "mod97"})


# --- normalisation -----------------------------------------------------------------------------


def test_normalise_removes_all_whitespace_and_upper_cases() -> None:
    assert normalise(" 1z 5r\t8939\n0357567127 ") == "1Z5R89390357567127"


def test_a_number_with_spaces_and_lower_case_is_accepted() -> None:
    result = _rules().validate("acme", " a 123 4 ")
    assert isinstance(result, NumberMatch)
    assert result.number == "A1234"


# --- rules on hand-made specs ------------------------------------------------------------------


def _spec(name: str, *types: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "courier_code": name.lower(), "tracking_numbers": list(types)}


def _type(name: str, regex: str | list[str], **validation: Any) -> dict[str, Any]:
    return {
        "name": name,
        "regex": regex,
        "validation": validation,
        "test_numbers": {"valid": [], "invalid": []},
    }


# Check digit: the serial's digit sum mod 10 (a mod10 with all multipliers 1 gives 10 - sum % 10).
ACME = _spec(
    "Acme",
    _type(
        "Acme A",
        [r"\s*A\s*(?<SerialNumber>([0-9]\s*){3})", r"(?<CheckDigit>[0-9]\s*)"],
        checksum={"name": "mod10"},
    ),
)
BOLT = _spec("Bolt", _type("Bolt plain", r"(?<SerialNumber>[0-9]{5})"))
S10 = {
    "name": "S10",
    "courier_code": "s10",
    "tracking_numbers": [
        {
            "name": "S10",
            "regex": r"(?<ServiceType>[A-Z]{2})(?<SerialNumber>[0-9]{8})(?<CheckDigit>[0-9])(?<CountryCode>[A-Z]{2})",
            "validation": {"checksum": {"name": "s10"}, "additional": {"exists": ["Courier"]}},
            "additional": [
                {
                    "name": "Service Type",
                    "regex_group_name": "ServiceType",
                    "lookup": [{"matches_regex": "R[A-Z]", "name": "Registered"}],
                },
                {
                    "name": "Courier",
                    "regex_group_name": "CountryCode",
                    "lookup": [
                        {"matches": "GB", "courier": "Royal Mail"},
                        {"matches": "CV", "courier": "Correios de Cabo Verde"},
                    ],
                },
            ],
            "test_numbers": {"valid": ["RB123456785GB"], "invalid": []},
        }
    ],
}


def _rules(**specs: dict[str, Any]) -> TrackingNumberRules:
    return TrackingNumberRules(
        specs or {"acme": ACME, "bolt": BOLT, "s10": S10},
        s10_issuers={"GB": "royal_mail"},
        format_hints={"acme": "A + 4 digits"},
    )


def test_a_number_passing_format_and_check_digit_matches_its_carrier() -> None:
    # 1 + 2 + 3 = 6 → 4
    assert _rules().matches("A1234") == [NumberMatch("acme", "Acme A", "A1234")]


def test_a_wrong_check_digit_is_reported_as_such_with_the_carriers_format() -> None:
    result = _rules().validate("acme", "A1235")
    assert isinstance(result, NumberProblem)
    assert result.code is ProblemCode.INVALID_CHECK_DIGIT
    assert "Acme numbers look like A + 4 digits" in result.message
    assert "check digit" in result.message


def test_a_number_of_the_wrong_shape_is_an_invalid_format() -> None:
    result = _rules().validate("acme", "B1234")
    assert isinstance(result, NumberProblem)
    assert result.code is ProblemCode.INVALID_FORMAT
    assert "B1234 does not" in result.message


def test_an_unknown_carrier_is_reported_with_the_known_ones() -> None:
    result = _rules().validate("zeta", "A1234")
    assert isinstance(result, NumberProblem)
    assert result.code is ProblemCode.UNKNOWN_CARRIER
    assert "acme" in result.message


def test_without_a_hint_the_message_shows_the_data_sets_example() -> None:
    result = _rules().validate("royal_mail", "RB1234")
    assert isinstance(result, NumberProblem)
    assert "RB123456785GB" in result.message


def test_a_format_without_a_checksum_accepts_any_number_of_its_shape() -> None:
    assert [m.carrier for m in _rules().matches("12345")] == ["bolt"]


def test_a_serial_prefix_is_added_before_the_check_digit_is_computed() -> None:
    prefixed = _spec(
        "Pre",
        _type(
            "Pre",
            r"C(?<SerialNumber>[0-9]{2})(?<CheckDigit>[0-9])",
            checksum={"name": "mod10"},
            serial_number_format={"prepend_if": {"matches_regex": "^(?!4).+$", "content": "4"}},
        ),
    )
    rules = _rules(pre=prefixed)
    # serial "12" becomes "412": 4 + 1 + 2 = 7 → 3 (without the prefix it would be 7)
    assert rules.matches("C123") and not rules.matches("C127")


def test_an_s10_number_is_credited_to_the_post_of_its_country() -> None:
    [match] = _rules().matches("RB123456785GB")
    assert match == NumberMatch("royal_mail", "S10", "RB123456785GB", service="Registered", country_code="GB")


def test_an_s10_number_from_a_country_without_a_registered_post_goes_to_the_fallback_post() -> None:
    [match] = _rules().matches("RB123456785CV")
    assert (match.carrier, match.country_code) == ("s10_post", "CV")


def test_an_s10_number_with_an_unknown_country_code_is_refused() -> None:
    rules = _rules()
    assert rules.matches("RB123456785XX") == []
    result = rules.validate("royal_mail", "RB123456785XX")
    assert isinstance(result, NumberProblem)
    assert result.code is ProblemCode.INVALID_FORMAT
    assert "'XX'" in result.message


def test_a_named_post_accepts_an_s10_number_from_another_country() -> None:
    # The destination post tracks an inbound international item under its origin's number.
    result = _rules().validate("royal_mail", "RB123456785CV")
    assert isinstance(result, NumberMatch)
    assert (result.carrier, result.country_code) == ("royal_mail", "CV")


def test_a_carrier_with_several_fitting_formats_is_listed_once_with_the_check_digit_format() -> None:
    loose = _spec(
        "Acme",
        _type("Acme loose", r"A(?<SerialNumber>[0-9]{4})"),
        *ACME["tracking_numbers"],
    )
    assert _rules(acme=loose).matches("A1234") == [NumberMatch("acme", "Acme A", "A1234")]


def test_shape_matches_names_carriers_whose_check_digit_failed() -> None:
    assert _rules().shape_matches("A1235") == ["acme"]


# --- resolving the carrier (CarrierDirectory on hand-made specs) -------------------------------

TWIN_A = _spec("Twin A", _type("Twin A", r"T(?<SerialNumber>[0-9]{4})"))
TWIN_B = _spec("Twin B", _type("Twin B", r"T(?<SerialNumber>[0-9]{4})"))


def _carrier(slug: str, country: str | None) -> Carrier:
    return Carrier(
        slug, slug.title(), f"https://{slug}.example/{{number}}", "UTC", country, frozenset(range(5)), country
    )


def _directory() -> CarrierDirectory:
    carriers = [
        _carrier("twina", "US"),
        _carrier("twinb", "CA"),
        _carrier("acme", "US"),
        _carrier("s10_post", None),
    ]
    return CarrierDirectory({"twina": TWIN_A, "twinb": TWIN_B, "acme": ACME, "s10": S10}, carriers)


def test_a_given_carrier_with_a_bad_check_digit_is_a_problem_on_the_tracking_number() -> None:
    problem = _directory().resolve("A1235", carrier="acme").problem
    assert problem is not None
    assert (problem.field, problem.code) == ("tracking_number", "invalid_check_digit")


def test_an_unknown_given_carrier_is_a_problem_on_the_carrier() -> None:
    problem = _directory().resolve("A1234", carrier="nope").problem
    assert problem is not None
    assert (problem.field, problem.code) == ("carrier", "unknown_carrier")


def test_a_number_no_carrier_accepts_is_undetectable() -> None:
    problem = _directory().resolve("ZZZ").problem
    assert problem is not None
    assert (problem.field, problem.code) == ("carrier", "undetectable_carrier")


def test_an_undetectable_number_that_fits_a_format_says_the_check_digit_failed() -> None:
    problem = _directory().resolve("A1235").problem
    assert problem is not None
    assert "check digit" in problem.message


def test_a_number_only_one_carrier_accepts_is_detected() -> None:
    resolution = _directory().resolve("A1234")
    assert (resolution.carrier, resolution.settled_by) == ("acme", SettledBy.DETECTED)


def test_a_number_valid_for_two_carriers_without_context_is_ambiguous() -> None:
    problem = _directory().resolve("T1234").problem
    assert problem is not None
    assert (problem.field, problem.code, problem.candidates) == (
        "carrier",
        "ambiguous_carrier",
        ("twina", "twinb"),
    )
    assert "Twina (twina)" in problem.message and "Twinb (twinb)" in problem.message


def test_the_carrier_the_seller_has_used_settles_an_ambiguous_number() -> None:
    resolution = _directory().resolve("T1234", seller_carriers=frozenset({"twinb", "acme"}))
    assert (resolution.carrier, resolution.settled_by) == ("twinb", SettledBy.SELLER_HISTORY)


def test_the_destination_country_settles_when_seller_history_does_not() -> None:
    both_used = frozenset({"twina", "twinb"})
    resolution = _directory().resolve("T1234", destination_country="ca", seller_carriers=both_used)
    assert (resolution.carrier, resolution.settled_by) == ("twinb", SettledBy.DESTINATION_COUNTRY)


def test_a_destination_served_by_neither_candidate_leaves_the_number_ambiguous() -> None:
    problem = _directory().resolve("T1234", destination_country="DE").problem
    assert problem is not None
    assert problem.code == "ambiguous_carrier"


def test_registry_and_specs_must_agree() -> None:
    with pytest.raises(ValueError, match="twinb"):
        CarrierDirectory({"twina": TWIN_A, "twinb": TWIN_B}, [_carrier("twina", "US")])
