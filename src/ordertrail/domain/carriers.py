"""The carrier registry, and how a shipment's carrier is settled from its tracking number.

`CarrierDirectory.resolve` implements the rule of API.md ("Shipments"):

1. Carrier given: the number must pass one of that carrier's formats and its check digit. An
   unknown slug is a problem on field `carrier` (`unknown_carrier`); a number that does not fit is a
   problem on field `tracking_number` (`invalid_format` or `invalid_check_digit`).
2. Carrier omitted: the carrier is detected from the number. No carrier fits → `undetectable_carrier`
   on field `carrier`, unless the number has a carrier's format and fails only its check digit: a
   mistyped number, `invalid_check_digit` on field `tracking_number`. Exactly one fits → that one.
3. Several fit (the same digits are legitimately valid for more than one carrier, e.g. a 12-digit
   number that passes both FedEx's and Purolator's check digit), the order's context settles it:
   a. keep the candidates the seller has shipped with before (`seller_carriers`); if exactly one
      remains, it wins. If none remains, all candidates go on to the next step;
   b. of those, keep the candidates whose home country is the destination country (a national
      post's country for an S10 number is the number's country suffix); if exactly one remains,
      it wins;
   c. otherwise → `ambiguous_carrier` on field `carrier`, naming the candidates still in play.
   The context only ever chooses between carriers the number is valid for; it never overrides the
   number.
4. Tracked by an aggregator (`resolve_tracked`): the seller says that EasyPost, AfterShip, 17TRACK or
   Shippo already follows this number for the shop, so its webhooks are what will feed the shipment.
   The carrier must then be given and known; a number that passes the carrier's check is taken as
   usual, and one that does not is still accepted (normalised, letters and digits only), settled
   by `aggregator`. Why: the aggregator registered the number with that carrier and will push what
   the carrier says about it, and aggregators hand out numbers our specs refuse (EasyPost's test
   codes such as EZ1000000001, vendor sample numbers with a wrong check digit). A typo then shows
   up as a shipment with no first scan, which the monitoring sweep reports, instead of a refusal.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from ordertrail.domain.tracking_numbers import (
    NumberMatch,
    NumberProblem,
    ProblemCode,
    TrackingNumberRules,
    normalise,
)


@dataclass(frozen=True, slots=True)
class Carrier:
    slug: str
    name: str
    tracking_url_template: str  # contains "{number}"
    home_timezone: str  # IANA name; the offset assumed for carrier times that come without one
    country_code: str | None  # ISO 3166-1 alpha-2 of the country it delivers in; None: varies
    delivery_weekdays: frozenset[int]  # Monday = 0
    holiday_country: str | None  # whose public holidays pause its deliveries
    upu_post: bool = False  # the national post of `country_code`: issues and tracks S10 numbers
    number_format: str | None = None  # what its numbers look like, for error messages
    # The tracking-number spec (tracking_number_data's JSON shape) of a carrier that data set lacks.
    number_spec: Mapping[str, Any] | None = dataclasses.field(default=None, compare=False, repr=False)


class SettledBy(StrEnum):
    GIVEN = "given"
    DETECTED = "detected"
    SELLER_HISTORY = "seller_history"
    DESTINATION_COUNTRY = "destination_country"
    AGGREGATOR = "aggregator"


@dataclass(frozen=True, slots=True)
class ResolutionProblem:
    field: str  # "carrier" | "tracking_number"
    code: str  # unknown_carrier, invalid_format, invalid_check_digit, undetectable_carrier, ambiguous_carrier
    message: str
    candidates: tuple[str, ...] = ()  # carrier slugs, for ambiguous_carrier


@dataclass(frozen=True, slots=True)
class Resolution:
    """Either a match (and which step of the rule settled it) or the problem to report."""

    match: NumberMatch | None = None
    problem: ResolutionProblem | None = None
    settled_by: SettledBy | None = None

    @property
    def carrier(self) -> str | None:
        return self.match.carrier if self.match else None


def _settled(match: NumberMatch, by: SettledBy) -> Resolution:
    return Resolution(match=match, settled_by=by)


def _problem(field: str, code: str, message: str, candidates: tuple[str, ...] = ()) -> Resolution:
    return Resolution(problem=ResolutionProblem(field, code, message, candidates))


# What a shipment can store, after spaces are taken out: carriers' numbers are at most 34 characters.
MAX_NUMBER_LENGTH = 64
TOO_LONG = f"A tracking number has at most {MAX_NUMBER_LENGTH} letters and digits."
UNDETECTABLE_CARRIER = "undetectable_carrier"
AMBIGUOUS_CARRIER = "ambiguous_carrier"


class CarrierDirectory:
    """The carriers ordertrail knows, with the tracking-number rules of each; built once, read-only.

    `specs` maps a courier's slug to its parsed tracking_number_data JSON (the `s10` spec included);
    `carriers` is the registry (`carrier_table.CARRIERS`). A carrier missing from the data set brings
    its own spec (`Carrier.number_spec`).
    """

    def __init__(self, specs: Mapping[str, Mapping[str, Any]], carriers: Iterable[Carrier]) -> None:
        self._carriers = {carrier.slug: carrier for carrier in carriers}
        all_specs = dict(specs)
        all_specs.update({c.slug: c.number_spec for c in self._carriers.values() if c.number_spec})
        self._rules = TrackingNumberRules(
            all_specs,
            s10_issuers={
                c.country_code: c.slug for c in self._carriers.values() if c.upu_post and c.country_code
            },
            names={c.slug: c.name for c in self._carriers.values()},
            format_hints={c.slug: c.number_format for c in self._carriers.values() if c.number_format},
        )
        # Both directions, so a new courier file or a registry typo fails at start-up, not per request.
        missing = self._rules.carriers ^ self._carriers.keys()
        if missing:
            raise ValueError(f"carriers and tracking-number specs disagree about: {sorted(missing)}")

    @property
    def rules(self) -> TrackingNumberRules:
        return self._rules

    def get(self, slug: str) -> Carrier | None:
        return self._carriers.get(_slug(slug))

    def all(self) -> tuple[Carrier, ...]:
        return tuple(self._carriers.values())

    def page(self, after: str | None, limit: int) -> tuple[tuple[Carrier, ...], str | None]:
        """Up to `limit` carriers in the directory's order (the large ones first), following the one
        called `after`; with the slug to go on after, or None on the last page. KeyError if `after`
        is no carrier's slug."""
        carriers = self.all()
        start = 0
        if after is not None:
            slugs = [c.slug for c in carriers]
            if after not in slugs:
                raise KeyError(after)
            start = slugs.index(after) + 1
        chunk = carriers[start : start + limit]
        return chunk, chunk[-1].slug if start + limit < len(carriers) else None

    def detect(self, number: str) -> list[NumberMatch]:
        return self._rules.matches(number)

    def validate(self, slug: str, number: str) -> NumberMatch | NumberProblem:
        return self._rules.validate(_slug(slug), number)

    def tracking_url(self, slug: str, number: str) -> str | None:
        carrier = self.get(slug)
        if carrier is None:
            return None
        return carrier.tracking_url_template.replace("{number}", quote(normalise(number), safe=""))

    def resolve(
        self,
        number: str,
        carrier: str | None = None,
        destination_country: str | None = None,
        seller_carriers: frozenset[str] = frozenset(),
    ) -> Resolution:
        if len(normalise(number)) > MAX_NUMBER_LENGTH:
            return _problem("tracking_number", "too_long", TOO_LONG)
        if carrier is not None and carrier.strip():
            result = self.validate(carrier, number)
            if isinstance(result, NumberMatch):
                return _settled(result, SettledBy.GIVEN)
            field = "carrier" if result.code is ProblemCode.UNKNOWN_CARRIER else "tracking_number"
            return _problem(field, result.code, result.message)
        if not normalise(number):
            return _problem("tracking_number", ProblemCode.INVALID_FORMAT, "The tracking number is empty.")
        candidates = self.detect(number)
        if not candidates:
            near = self._rules.shape_matches(number)
            if near:  # a carrier's number with a mistyped character: the number is what is wrong
                return _problem(
                    "tracking_number", ProblemCode.INVALID_CHECK_DIGIT, self._mistyped(number, near)
                )
            return _problem(
                "carrier",
                UNDETECTABLE_CARRIER,
                f"No carrier we know uses numbers like {normalise(number)}; say which carrier shipped it.",
            )
        if len(candidates) == 1:
            return _settled(candidates[0], SettledBy.DETECTED)
        return self._settle(candidates, destination_country, seller_carriers)

    def resolve_tracked(self, number: str, carrier: str | None) -> Resolution:
        """Rule 4 of the module docstring: a number an aggregator already tracks with `carrier`."""
        if carrier is None or not carrier.strip():
            return _problem(
                "carrier", "required", "Say which carrier shipped it when an aggregator tracks the number."
            )
        if len(normalise(number)) > MAX_NUMBER_LENGTH:
            return _problem("tracking_number", "too_long", TOO_LONG)
        checked = self.resolve(number, carrier=carrier)
        if checked.match is not None or (checked.problem and checked.problem.field == "carrier"):
            return checked
        normal = normalise(number)
        if not normal or not normal.isalnum() or not normal.isascii():
            return _problem(
                "tracking_number",
                ProblemCode.INVALID_FORMAT,
                "A tracking number is made of letters and digits only.",
            )
        return _settled(
            NumberMatch(carrier=_slug(carrier), type_name="aggregator", number=normal), SettledBy.AGGREGATOR
        )

    def _settle(
        self, candidates: list[NumberMatch], destination_country: str | None, seller_carriers: frozenset[str]
    ) -> Resolution:
        used = {_slug(slug) for slug in seller_carriers}
        pool = [m for m in candidates if m.carrier in used]
        if len(pool) == 1:
            return _settled(pool[0], SettledBy.SELLER_HISTORY)
        pool = pool or candidates
        if destination_country:
            country = destination_country.strip().upper()
            local = [m for m in pool if self._country_of(m) == country]
            if len(local) == 1:
                return _settled(local[0], SettledBy.DESTINATION_COUNTRY)
        names = [f"{self._rules.name(m.carrier)} ({m.carrier})" for m in pool]
        listed = ", ".join(names[:-1]) + f" and {names[-1]}"
        return _problem(
            "carrier",
            AMBIGUOUS_CARRIER,
            f"{normalise(pool[0].number)} is a valid number for {listed}; say which carrier shipped it.",
            tuple(m.carrier for m in pool),
        )

    def _country_of(self, match: NumberMatch) -> str | None:
        # An S10 number names its post's country; a fallback post has no country of its own.
        if match.country_code is not None:
            return match.country_code
        carrier = self._carriers.get(match.carrier)
        return carrier.country_code if carrier else None

    def _mistyped(self, number: str, near: Iterable[str]) -> str:
        names = " or ".join(self._rules.name(slug) for slug in near)
        return (
            f"{normalise(number)} fits the format of {names} numbers but fails the check digit, so a "
            f"character was probably mistyped; check it against the label, or choose the carrier if "
            f"it was not {names}."
        )


def _slug(slug: str) -> str:
    return slug.strip().lower()
