"""Learned distributions of integer business days per lane, with hierarchical back-off.

A stage (seller handling, or carrier transit) is described by its discrete *hazard*: h(d), the
probability that the parcel completes the stage on business day d given that it had not completed it
before d. Working with hazards rather than with histograms buys three things at once:

* Right-censoring. A parcel still in transit when the history was cut (the fit's as-of date) says
  "more than c days" and nothing else. It adds to the at-risk count for d <= c and to no event,
  which is the Kaplan-Meier estimator. Dropping such parcels would keep only the fast ones of the
  most recent weeks, exactly when a slow-down has to be noticed.
* Recency weighting by *when the day happened*. Each at-risk day d of a parcel is weighted by how
  recent the calendar date of that day is (a period life table rather than a cohort one). A carrier
  slow-down lowers the hazards of the days it touches at once, without waiting for the slow
  parcels to finish.
* Back-off by shrinkage. Each level's hazard is shrunk towards its parent's, day by day:
  h_child(d) = (events(d) + k * h_parent(d)) / (at_risk(d) + k). A lane with 500 parcels keeps its
  own head and borrows its tail (few parcels are still at risk after 20 days) from the region pair;
  a lane never seen is its parent. The chain is lane -> region pair -> ... -> global -> prior,
  and the prior is what a fresh install configured.

Paths are tuples of keys from the most specific level to the least; a key must name its level
(e.g. "pair:SP>RJ") so that keys of different levels never collide.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

MAX_DAYS = 80
_TAIL_EPSILON = 1e-3


@dataclass(frozen=True, slots=True)
class LaneContext:
    """What is known about a shipment's route at checkout. Regions are state/province codes
    (ISO 3166-2 suffixes, e.g. "SP"); carrier and service may be empty until a label exists."""

    seller_id: str
    origin_country: str
    origin_region: str
    destination_country: str
    destination_region: str
    destination_postal_code: str = ""
    carrier: str = ""
    service: str = ""

    def handling_path(self) -> tuple[str, ...]:
        return (f"seller:{self.seller_id}", f"origin:{self.origin_country}-{self.origin_region}")

    def transit_path(self) -> tuple[str, ...]:
        cs = f"{self.carrier}/{self.service}"
        pair = (
            f"{self.origin_country}-{self.origin_region}>{self.destination_country}-{self.destination_region}"
        )
        prefix = self.destination_postal_code[:3]
        return (
            f"seller-dest:{self.seller_id}>{self.destination_country}-{self.destination_region}",
            f"lane:{cs}|{pair}|{prefix}",
            f"pair:{cs}|{pair}",
            f"dest:{cs}|{self.destination_country}-{self.destination_region}",
            f"carrier:{cs}",
        )


TRANSIT_LEVELS = 6  # len(transit_path()) + the global level
HANDLING_LEVELS = 3


def destination_group(ctx: LaneContext) -> str:
    return f"{ctx.destination_country}-{ctx.destination_region}"


def origin_group(ctx: LaneContext) -> str:
    return f"{ctx.origin_country}-{ctx.origin_region}"


def prior_hazard(median_days: float, spread: float = 0.45, max_days: int = MAX_DAYS) -> list[float]:
    """Hazard of a discretised log-normal with the given median, as the uninformed default.

    `spread` is the log-scale standard deviation; 0.45 puts the 90th percentile near twice the
    median, close to what carriers' "3-7 business days" style standards imply.
    """
    centre = math.log(median_days + 1.0)
    weights = [
        math.exp(-((math.log(d + 1.0) - centre) ** 2) / (2 * spread * spread)) / (d + 1.0)
        for d in range(max_days + 1)
    ]
    total = sum(weights)
    return hazard_from_pmf([w / total for w in weights])


def hazard_from_pmf(pmf: Sequence[float]) -> list[float]:
    hazard: list[float] = []
    remaining = 1.0
    for p in pmf:
        hazard.append(min(1.0, p / remaining) if remaining > 1e-12 else 1.0)
        remaining -= p
    hazard[-1] = 1.0
    return hazard


def paced(hazard: Sequence[float], theta: float) -> list[float]:
    if theta == 1.0:
        return list(hazard)
    out = [1.0 - (1.0 - h) ** theta if h < 1.0 else 1.0 for h in hazard]
    return out


def pmf_from_hazard(hazard: Sequence[float], elapsed: int = 0) -> list[float]:
    """P(duration = d | duration >= elapsed) for d = 0..len(hazard)-1 (zeros before `elapsed`)."""
    last = len(hazard) - 1
    elapsed = min(max(elapsed, 0), last)
    pmf = [0.0] * len(hazard)
    surviving = 1.0
    for d in range(elapsed, last + 1):
        p = surviving * (hazard[d] if d < last else 1.0)
        pmf[d] = p
        surviving -= p
        if surviving < _TAIL_EPSILON:
            pmf[d] += surviving
            break
    return pmf


@dataclass(slots=True)
class _Counts:
    events: list[float] = field(default_factory=list)
    at_risk: list[float] = field(default_factory=list)

    def grow(self, size: int) -> None:
        if len(self.events) < size:
            extra = size - len(self.events)
            self.events.extend([0.0] * extra)
            self.at_risk.extend([0.0] * extra)


@dataclass(frozen=True, slots=True)
class StageParams:
    """How strongly each level leans on its parent: `strengths[i]` is k for path depth i (0 = most
    specific); the last entry is the global level's pull towards the prior."""

    strengths: tuple[float, ...]
    prior: tuple[float, ...]
    # Parcels at which a key's own time scale counts half when rescaling its parent (0: off).
    scale_strength: float = 0.0


class StageModel:
    """Hazards of one stage (handling or transit) for every key seen, shrunk along the path."""

    def __init__(self, params: StageParams, counts: dict[str, _Counts] | None = None) -> None:
        self.params = params
        self._counts: dict[str, _Counts] = counts if counts is not None else {}
        self._cache: dict[tuple[str, ...], list[float]] = {}

    @property
    def max_days(self) -> int:
        return len(self.params.prior) - 1

    def add(self, path: Sequence[str], days: int, delivered: bool, day_weights: Sequence[float]) -> None:
        """Record one parcel's stage: completed on business day `days`, or still open after it.

        `day_weights[d]` is the recency weight of the parcel's d-th day (len >= days + 1).
        """
        days = min(max(days, 0), self.max_days)
        size = days + 1
        for key in (*path, "*"):
            counts = self._counts.get(key)
            if counts is None:
                counts = self._counts[key] = _Counts()
            counts.grow(size)
            at_risk = counts.at_risk
            for d in range(size):
                at_risk[d] += day_weights[d]
            if delivered:
                counts.events[days] += day_weights[days]
        self._cache.clear()

    def add_counts(self, key: str, day: int, events: float, at_risk: float) -> None:
        """Add pseudo-counts at one key and day (configured defaults expressed as parcels)."""
        counts = self._counts.get(key)
        if counts is None:
            counts = self._counts[key] = _Counts()
        counts.grow(day + 1)
        counts.events[day] += events
        counts.at_risk[day] += at_risk
        self._cache.clear()

    def compact(self, min_weight: float = 1e-3) -> None:
        """Drop keys whose recency-weighted parcels no longer matter and keep 6 significant digits,
        so a stored fit stays small (a few MB for 60,000 parcels) and reloads to the same model."""
        for key in [k for k, c in self._counts.items() if not c.at_risk or c.at_risk[0] < min_weight]:
            del self._counts[key]
        for counts in self._counts.values():
            counts.events[:] = [float(f"{x:.6g}") for x in counts.events]
            counts.at_risk[:] = [float(f"{x:.6g}") for x in counts.at_risk]
        self._cache.clear()

    def known(self, key: str) -> float:
        """Weighted number of parcels that started the stage under `key` (0 for an unseen key)."""
        counts = self._counts.get(key)
        return counts.at_risk[0] if counts and counts.at_risk else 0.0

    def hazard(self, path: Sequence[str]) -> list[float]:
        """Hazards for a path (most specific key first; the global level is implied). The list is
        shared with the cache: read it, don't change it."""
        if len(path) + 1 != len(self.params.strengths):
            raise ValueError(f"path {path!r} needs {len(self.params.strengths) - 1} levels")
        return self._chain_hazard((*self.specific(path), "*"))

    def specific(self, path: Sequence[str]) -> tuple[str, ...]:
        """The path from its first key with parcels on: the keys before it change nothing, and
        leaving them out keeps the caches as small as what was learnt (one entry per seller and
        postal prefix would grow with every new lane the service ever sees)."""
        for i, key in enumerate(path):
            if key in self._counts:
                return tuple(path[i:])
        return ()

    def _chain_hazard(self, chain: tuple[str, ...]) -> list[float]:
        # Each tail of a chain is cached too: thousands of lanes share a region pair and above.
        cached = self._cache.get(chain)
        if cached is not None:
            return cached
        parent = self._chain_hazard(chain[1:]) if len(chain) > 1 else list(self.params.prior)
        counts = self._counts.get(chain[0])
        if counts is None:
            hazard = parent
        else:
            k = self.params.strengths[len(self.params.strengths) - len(chain)]
            if self.params.scale_strength > 0 and len(chain) > 1:
                parent = _rescaled_towards(parent, counts, self.params.scale_strength)
            hazard = list(parent)
            events, at_risk = counts.events, counts.at_risk
            for d in range(min(len(events), len(hazard) - 1)):
                hazard[d] = (events[d] + k * parent[d]) / (at_risk[d] + k)
            hazard[-1] = 1.0
        self._cache[chain] = hazard
        return hazard

    def pmf(self, path: Sequence[str], elapsed: int = 0) -> list[float]:
        return pmf_from_hazard(self.hazard(path), elapsed)

    def to_dict(self) -> dict[str, object]:
        return {
            "strengths": list(self.params.strengths),
            "prior": list(self.params.prior),
            "scale_strength": self.params.scale_strength,
            "counts": {key: [_trim(c.events), list(c.at_risk)] for key, c in sorted(self._counts.items())},
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> StageModel:
        strengths = tuple(_floats(data["strengths"]))
        prior = tuple(_floats(data["prior"]))
        scale_strength = data.get("scale_strength", 0.0)
        if not isinstance(scale_strength, int | float):
            raise ValueError("scale_strength must be a number")
        raw_counts = data["counts"]
        if not isinstance(raw_counts, dict):
            raise ValueError("counts must be an object")
        counts: dict[str, _Counts] = {}
        for key, pair in raw_counts.items():
            if not isinstance(pair, list) or len(pair) != 2:
                raise ValueError(f"counts of {key!r} must be [events, at_risk]")
            events, at_risk = _floats(pair[0]), _floats(pair[1])
            events.extend([0.0] * (len(at_risk) - len(events)))
            counts[str(key)] = _Counts(events, at_risk)
        return cls(StageParams(strengths, prior, float(scale_strength)), counts)


def _floats(value: object) -> list[float]:
    if not isinstance(value, list) or not all(isinstance(x, int | float) for x in value):
        raise ValueError("expected a list of numbers")
    return [float(x) for x in value]


def _median(cdf_at: Sequence[float]) -> float | None:
    """Median of a discrete duration read as uniform within each day; None if never reached."""
    previous = 0.0
    for d, c in enumerate(cdf_at):
        if c >= 0.5:
            return d + (0.5 - previous) / max(c - previous, 1e-12)
        previous = c
    return None


def _cdf_from_hazard(hazard: Sequence[float]) -> list[float]:
    out, surviving = [], 1.0
    for h in hazard:
        surviving *= 1.0 - h
        out.append(1.0 - surviving)
    return out


def _rescaled_towards(parent: list[float], counts: _Counts, strength: float) -> list[float]:
    """The parent's distribution stretched to the child's own time scale (accelerated failure time).

    A parcel on a long-haul lane at day 12 is on schedule; the global population at day 12 is the
    stuck few. Shrinking a lane towards its parent's *raw* hazards would hand long lanes the tail
    of stuck parcels, so the parent is first stretched by the ratio of medians (itself shrunk
    towards 1 by parcels / (parcels + strength))."""
    n = counts.at_risk[0] if counts.at_risk else 0.0
    if n * 3.0 / (n + strength) < 0.02:  # even a 20x faster or slower key would not move it
        return parent
    own: list[float] = []
    surviving = 1.0
    for e, r in zip(counts.events, counts.at_risk, strict=False):
        if r < 1.0:
            break
        surviving *= 1.0 - e / r
        own.append(1.0 - surviving)
    child_median = _median(own)
    parent_cdf = _cdf_from_hazard(parent)
    parent_median = _median(parent_cdf)
    if child_median is None or parent_median is None or child_median <= 0 or parent_median <= 0:
        return parent
    log_scale = math.log(child_median / parent_median) * n / (n + strength)
    scale = math.exp(log_scale)
    if abs(log_scale) < 0.02:
        return parent
    size = len(parent)
    stretched: list[float] = []
    for d in range(size):
        x = (d + 1) / scale  # continuous CDF G(x), G(d + 1) = F(d), linear within a day
        i = int(x)
        if i <= 0:
            value = parent_cdf[0] * x
        elif i >= size:
            value = 1.0
        else:
            value = parent_cdf[i - 1] + (parent_cdf[i] - parent_cdf[i - 1]) * (x - i)
        stretched.append(value)
    stretched[-1] = 1.0
    pmf = [stretched[0]] + [max(0.0, stretched[d] - stretched[d - 1]) for d in range(1, size)]
    return hazard_from_pmf(pmf)


def _trim(values: list[float]) -> list[float]:
    end = len(values)
    while end and values[end - 1] == 0.0:
        end -= 1
    return values[:end]


def recency_weights(day_ordinals: Sequence[int], as_of_ordinal: int, half_life_days: float) -> list[float]:
    """0.5 ** (age / half_life) for each day; days after `as_of` weigh as `as_of` itself."""
    if half_life_days <= 0:
        return [1.0] * len(day_ordinals)
    rate = math.log(2.0) / half_life_days
    return [math.exp(-rate * max(0, as_of_ordinal - o)) for o in day_ordinals]
