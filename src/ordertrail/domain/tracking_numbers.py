"""Tracking-number formats: matching a number to the carriers that could have issued it.

The formats come from jkeen/tracking_number_data (one spec per courier, passed in already parsed;
reading the files is the adapters' job). A number is valid for a format when its normalised form
(whitespace removed, upper-cased) matches the whole regex, the serial number passes the format's
check-digit algorithm, and every lookup the format marks as required (`validation.additional.exists`)
finds an entry.

The UPU S10 format (two letters, eight digits, a check digit, an ISO country code: RB123456785GB)
is not one carrier's: every national post issues it. Such a format carries a `Courier` lookup keyed
by the country code; a match is credited to the post registered for that country (`s10_issuers`),
or to a generic fallback post that keeps the country code. Any post accepts any valid S10 number
when it is named explicitly, because an international item is tracked under the same number by the
post of origin and the post of destination.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ordertrail.domain.checksums import CheckFunction, check_function

_WHITESPACE = re.compile(r"\s+")
# Ruby/Onigmo named groups `(?<Name>` become Python's `(?P<Name>`; lookbehinds `(?<=`/`(?<!` stay.
_RUBY_NAMED_GROUP = re.compile(r"\(\?<(?=[A-Za-z_])")

SERVICE_LOOKUP = "Service Type"
ISSUER_LOOKUP = "Courier"  # the S10 lookup of national posts by country code
DEFAULT_S10_FALLBACK = "s10_post"


def normalise(number: str) -> str:
    """The canonical form of a number: what carriers print with spaces removed, upper-cased."""
    return _WHITESPACE.sub("", number).upper()


@dataclass(frozen=True, slots=True)
class NumberMatch:
    carrier: str  # carrier slug
    type_name: str  # the format's name in the data set, e.g. "FedEx Express (12)"
    number: str  # normalised
    service: str | None = None
    service_description: str | None = None
    country_code: str | None = None  # for S10: the issuing country (the suffix)


class ProblemCode(StrEnum):
    UNKNOWN_CARRIER = "unknown_carrier"
    INVALID_FORMAT = "invalid_format"
    INVALID_CHECK_DIGIT = "invalid_check_digit"


@dataclass(frozen=True, slots=True)
class NumberProblem:
    code: ProblemCode
    message: str
    carrier: str | None = None


@dataclass(frozen=True, slots=True)
class _LookupEntry:
    exact: str | None
    pattern: re.Pattern[str] | None
    name: str | None
    description: str | None

    def fits(self, value: str) -> bool:
        if self.exact is not None:
            return value == self.exact
        return self.pattern is not None and self.pattern.fullmatch(value) is not None


@dataclass(frozen=True, slots=True)
class _Lookup:
    name: str
    group: str
    entries: tuple[_LookupEntry, ...]

    def find(self, match: re.Match[str]) -> _LookupEntry | None:
        value = match.group(self.group)
        if value is None:
            return None
        return next((entry for entry in self.entries if entry.fits(value)), None)


class _Outcome(StrEnum):
    VALID = "valid"
    NO_MATCH = "no_match"
    BAD_CHECK_DIGIT = "bad_check_digit"
    UNKNOWN_ISSUER = "unknown_issuer"  # e.g. an S10 suffix that is no UPU member's country code


@dataclass(frozen=True, slots=True)
class _Format:
    courier: str  # spec key
    name: str
    pattern: re.Pattern[str]
    check: CheckFunction | None
    prepend_if: tuple[re.Pattern[str], str] | None
    lookups: tuple[_Lookup, ...]
    required: frozenset[str]
    issuer_lookup: _Lookup | None
    service_lookup: _Lookup | None
    example: str | None

    def judge(self, match: re.Match[str]) -> _Outcome:
        """Check digit and required lookups of a number that matched `pattern`."""
        if self.check is not None:
            serial = match.group("SerialNumber") or ""
            if self.prepend_if is not None and self.prepend_if[0].search(serial):
                # Some carriers compute the check digit over a serial with an implied prefix.
                serial = self.prepend_if[1] + serial
            if self.check(serial) != match.group("CheckDigit"):
                return _Outcome.BAD_CHECK_DIGIT
        for lookup in self.lookups:
            if lookup.name in self.required and lookup.find(match) is None:
                return _Outcome.UNKNOWN_ISSUER
        return _Outcome.VALID


def _compile_lookup(spec: Mapping[str, Any]) -> _Lookup:
    entries = tuple(
        _LookupEntry(
            exact=entry.get("matches"),
            pattern=re.compile(entry["matches_regex"]) if "matches_regex" in entry else None,
            name=entry.get("name") or entry.get("courier"),
            description=entry.get("description"),
        )
        for entry in spec.get("lookup", ())
    )
    return _Lookup(name=str(spec["name"]), group=str(spec["regex_group_name"]), entries=entries)


def _compile_format(courier: str, spec: Mapping[str, Any]) -> _Format:
    regex = spec["regex"]
    source = "".join(regex) if isinstance(regex, list) else str(regex)
    validation: Mapping[str, Any] = spec.get("validation") or {}
    checksum = validation.get("checksum")
    prepend = (validation.get("serial_number_format") or {}).get("prepend_if")
    additional = validation.get("additional") or {}
    valid_examples = (spec.get("test_numbers") or {}).get("valid") or []
    lookups = tuple(_compile_lookup(item) for item in spec.get("additional") or ())
    return _Format(
        courier=courier,
        name=str(spec["name"]),
        # Numbers are matched after whitespace is removed, so the specs' `\s*` (which let their
        # regexes search free text) can only match the empty string; dropping them makes matching
        # a USPS number several times faster.
        pattern=re.compile(_RUBY_NAMED_GROUP.sub("(?P<", source).replace("\\s*", "")),
        check=check_function(checksum) if checksum else None,
        prepend_if=(re.compile(prepend["matches_regex"]), str(prepend["content"])) if prepend else None,
        lookups=lookups,
        required=frozenset(additional.get("exists") or ()),
        issuer_lookup=next((lookup for lookup in lookups if lookup.name == ISSUER_LOOKUP), None),
        service_lookup=next((lookup for lookup in lookups if lookup.name == SERVICE_LOOKUP), None),
        example=normalise(valid_examples[0]) if valid_examples else None,
    )


class TrackingNumberRules:
    """Compiled tracking-number formats of all couriers; built once, then read-only.

    `specs` maps a carrier slug to its parsed courier JSON. `s10_issuers` maps an ISO country code
    to the slug of that country's post; `names` and `format_hints` (slug → text) make the messages
    read well ("UPS numbers look like <hint>"); without a hint, the data set's examples are shown.
    """

    def __init__(
        self,
        specs: Mapping[str, Mapping[str, Any]],
        *,
        s10_issuers: Mapping[str, str] | None = None,
        s10_fallback: str = DEFAULT_S10_FALLBACK,
        names: Mapping[str, str] | None = None,
        format_hints: Mapping[str, str] | None = None,
    ) -> None:
        compiled = [
            _compile_format(courier, type_spec)
            for courier, spec in specs.items()
            for type_spec in spec.get("tracking_numbers", ())
        ]
        # Formats with a check digit go first: when a carrier has several formats that fit a number,
        # the one backed by a check digit is the stronger evidence and is the one reported.
        self._formats = tuple(sorted(compiled, key=lambda f: f.check is None))
        self._issuer_formats = tuple(f for f in self._formats if f.issuer_lookup is not None)
        multi_issuer = {f.courier for f in self._issuer_formats}
        self._s10_issuers = dict(s10_issuers or {})
        self._s10_fallback = s10_fallback
        self._posts = (
            (frozenset(self._s10_issuers.values()) | {s10_fallback}) if multi_issuer else frozenset()
        )
        self._by_carrier: dict[str, tuple[_Format, ...]] = {}
        for courier in specs:
            if courier not in multi_issuer:
                self._by_carrier[courier] = tuple(f for f in self._formats if f.courier == courier)
        for post in self._posts:
            self._by_carrier[post] = self._by_carrier.get(post, ()) + self._issuer_formats
        self._names = {slug: str(spec.get("name", slug)) for slug, spec in specs.items()}
        self._names.update(names or {})
        self._hints = dict(format_hints or {})

    @property
    def carriers(self) -> frozenset[str]:
        """Every slug a number can be validated against."""
        return frozenset(self._by_carrier)

    def matches(self, number: str) -> list[NumberMatch]:
        """Every carrier for which the number passes a format and its check digit, one match each."""
        normalised = normalise(number)
        found: dict[str, NumberMatch] = {}
        for fmt in self._formats:
            match = fmt.pattern.fullmatch(normalised)
            if match is not None and fmt.judge(match) is _Outcome.VALID:
                result = self._to_match(fmt, match, normalised, carrier=None)
                found.setdefault(result.carrier, result)
        return list(found.values())

    def shape_matches(self, number: str) -> list[str]:
        """Carriers whose format the number fits even though it fails their check digit."""
        normalised = normalise(number)
        carriers: list[str] = []
        for fmt in self._formats:
            match = fmt.pattern.fullmatch(normalised)
            if match is not None and fmt.judge(match) is _Outcome.BAD_CHECK_DIGIT:
                carrier = self._carrier_of(fmt, match)
                if carrier not in carriers:
                    carriers.append(carrier)
        return carriers

    def validate(self, carrier: str, number: str) -> NumberMatch | NumberProblem:
        formats = self._by_carrier.get(carrier)
        if formats is None:
            known = ", ".join(sorted(self._by_carrier))
            return NumberProblem(
                ProblemCode.UNKNOWN_CARRIER,
                f"'{carrier}' is not a carrier we know. Known carriers: {known}.",
            )
        normalised = normalise(number)
        name = self.name(carrier)
        if not normalised:
            return NumberProblem(ProblemCode.INVALID_FORMAT, "The tracking number is empty.", carrier)
        worst = _Outcome.NO_MATCH
        unknown_issuer: str | None = None
        for fmt in formats:
            match = fmt.pattern.fullmatch(normalised)
            if match is None:
                continue
            outcome = fmt.judge(match)
            if outcome is _Outcome.VALID:
                return self._to_match(fmt, match, normalised, carrier=carrier)
            if outcome is _Outcome.BAD_CHECK_DIGIT:
                worst = outcome
            elif outcome is _Outcome.UNKNOWN_ISSUER and worst is _Outcome.NO_MATCH:
                worst = outcome
                unknown_issuer = match.group("CountryCode")
        looks_like = f"{name} numbers look like {self.format_hint(carrier)}"
        if worst is _Outcome.BAD_CHECK_DIGIT:
            return NumberProblem(
                ProblemCode.INVALID_CHECK_DIGIT,
                f"{looks_like}; {normalised} has that shape but fails the check digit, "
                "so a character was probably mistyped.",
                carrier,
            )
        if worst is _Outcome.UNKNOWN_ISSUER:
            return NumberProblem(
                ProblemCode.INVALID_FORMAT,
                f"{normalised} has the shape of an international postal (UPU S10) number, but "
                f"'{unknown_issuer}' is not the country code of a postal service.",
                carrier,
            )
        return NumberProblem(ProblemCode.INVALID_FORMAT, f"{looks_like}; {normalised} does not.", carrier)

    def name(self, carrier: str) -> str:
        return self._names.get(carrier, carrier)

    def format_hint(self, carrier: str) -> str:
        hint = self._hints.get(carrier)
        if hint:
            return hint
        examples = _unique(f.example for f in self._by_carrier.get(carrier, ()) if f.example)
        return " or ".join(examples) if examples else "something else"

    def _carrier_of(self, fmt: _Format, match: re.Match[str]) -> str:
        if fmt.issuer_lookup is None:
            return fmt.courier
        return self._s10_issuers.get(match.group("CountryCode") or "", self._s10_fallback)

    def _to_match(self, fmt: _Format, match: re.Match[str], number: str, carrier: str | None) -> NumberMatch:
        service = fmt.service_lookup.find(match) if fmt.service_lookup else None
        return NumberMatch(
            carrier=carrier or self._carrier_of(fmt, match),
            type_name=fmt.name,
            number=number,
            service=service.name if service else None,
            service_description=(service.description or None) if service else None,
            country_code=match.group("CountryCode") if fmt.issuer_lookup is not None else None,
        )


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
