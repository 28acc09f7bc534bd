"""Conformal calibration of predicted delivery-date distributions.

The conformity score of a delivered parcel is where its actual date fell in the distribution the
model predicted for it (its probability integral transform, PIT). On a calibration window the model
never saw, the quantiles of those scores say which *levels* of the predicted distribution really
hold 10%, 50%, 90% of parcels: if the network has slowed, actual dates sit high in the predicted
distributions and the calibrated 90% level becomes, say, the 97% one. This is distributional
conformal prediction (Chernozhukov, Wuthrich & Zhu 2021); it corrects location and spread at once
with no refit of the lane statistics.

Dates are discrete, so a parcel has two scores: F(y-1) (the largest level whose quantile date is
still before y) and F(y). Upper endpoints are calibrated on the former (y <= q(m) iff F(y-1) < m)
and lower endpoints on the latter (y >= q(m) iff F(y) >= m); that keeps interval coverage at the
nominal rate instead of drifting up by half a day per endpoint.

Two departures from textbook split conformal, both because the calibration window is the most
recent past and the network drifts:
* scores are weighted by recency (half-life in days) so the latest weeks dominate;
* parcels not yet delivered at the calibration cut-off are right-censored scores ("above F(c)")
  and enter a weighted Kaplan-Meier estimate instead of being dropped, which would hide slow
  parcels exactly when the network slows down.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ordertrail.domain.eta.lanes import LaneContext, destination_group
from ordertrail.domain.eta.windows import Milestone

# Levels at which each calibration map is tabulated; other levels are interpolated.
GRID: tuple[float, ...] = tuple(round(0.01 * i, 2) for i in range(1, 100))


@dataclass(frozen=True, slots=True)
class Score:
    value: float  # the score, or its lower bound when censored
    weight: float
    censored: bool = False


def weighted_km_quantiles(scores: Iterable[Score], levels: Sequence[float]) -> list[float]:
    """Quantiles of the score distribution at `levels`, by weighted Kaplan-Meier.

    The returned value q for level t is the smallest score whose estimated CDF reaches t, nudged up
    by a hair so that `score < q` holds for that score itself. Mass left undetermined by censoring
    at the top is spread uniformly between the last observed score and 1, which keeps the map
    monotone and ends it at 1.
    """
    items = sorted(scores, key=lambda s: (s.value, s.censored))
    total = sum(s.weight for s in items)
    if total <= 0:
        return list(levels)
    points: list[tuple[float, float]] = []  # (score, CDF after it)
    at_risk = total
    surviving = 1.0
    i = 0
    n = len(items)
    while i < n:
        value = items[i].value
        events = 0.0
        leaving = 0.0
        while i < n and items[i].value == value:
            if not items[i].censored:
                events += items[i].weight
            leaving += items[i].weight
            i += 1
        if events > 0 and at_risk > 0:
            surviving *= 1.0 - events / at_risk
            points.append((value, 1.0 - surviving))
        at_risk -= leaving
    out: list[float] = []
    last_value = points[-1][0] if points else 0.0
    last_cdf = points[-1][1] if points else 0.0
    j = 0
    for level in sorted(levels):
        while j < len(points) and points[j][1] < level - 1e-12:
            j += 1
        if j < len(points):
            out.append(min(1.0, points[j][0] + 1e-9))
        else:
            # Beyond what the uncensored scores determine: uniform between the last score and 1.
            share = (level - last_cdf) / (1.0 - last_cdf) if last_cdf < 1.0 else 1.0
            out.append(min(1.0, last_value + share * (1.0 - last_value)))
    order = sorted(range(len(levels)), key=lambda k: levels[k])
    result = [0.0] * len(levels)
    for rank, k in enumerate(order):
        result[k] = out[rank]
    return result


@dataclass(frozen=True, slots=True)
class ScoreSet:
    """The three conformity scores of each calibration parcel (see the module docstring)."""

    upper: list[Score] = field(default_factory=list)  # F(y-1): for upper endpoints and the promise
    lower: list[Score] = field(default_factory=list)  # F(y): for lower endpoints
    middle: list[Score] = field(default_factory=list)  # randomised PIT: for the point estimate

    def add(self, below: float, at: float, jitter: float, weight: float, censored: bool = False) -> None:
        """A parcel delivered on a date with P(before) = below and P(on or before) = at; when
        `censored`, it was still moving and `below` is P(before the first date it could still come)."""
        if censored:
            for scores in (self.upper, self.lower, self.middle):
                scores.append(Score(below - 1e-12, weight, censored=True))
            return
        self.upper.append(Score(below, weight))
        self.lower.append(Score(at, weight))
        self.middle.append(Score(below + jitter * (at - below), weight))

    def extend(self, other: ScoreSet) -> None:
        self.upper.extend(other.upper)
        self.lower.extend(other.lower)
        self.middle.extend(other.middle)


@dataclass(frozen=True, slots=True)
class LevelMap:
    """Calibrated level for each nominal level in GRID.

    `upper[i]`: the level whose quantile date is on or after the actual date for a share GRID[i] of
    calibration parcels. `lower[i]`: the level whose date is on or before it for a share 1 - GRID[i].
    `middle[i]`: the same from randomised scores, which stay well-behaved when a predicted
    distribution has nearly all its mass on one day (the point estimate uses these).
    """

    upper: tuple[float, ...]
    lower: tuple[float, ...]
    middle: tuple[float, ...]
    weight: float = 0.0  # effective calibration weight behind the map (0 for the identity)

    @classmethod
    def identity(cls) -> LevelMap:
        return cls(GRID, GRID, GRID, 0.0)

    def upper_level(self, nominal: float) -> float:
        return _interpolate(self.upper, nominal)

    def lower_level(self, nominal: float) -> float:
        return _interpolate(self.lower, nominal)

    def middle_level(self, nominal: float) -> float:
        return _interpolate(self.middle, nominal)

    def blend(self, parent: LevelMap, strength: float) -> LevelMap:
        """Shrink towards `parent` by weight/(weight + strength), for groups with few parcels."""
        if strength <= 0:
            return self
        w = self.weight / (self.weight + strength) if self.weight > 0 else 0.0

        def mix(a: tuple[float, ...], b: tuple[float, ...]) -> tuple[float, ...]:
            return tuple(w * x + (1 - w) * y for x, y in zip(a, b, strict=True))

        return LevelMap(
            mix(self.upper, parent.upper),
            mix(self.lower, parent.lower),
            mix(self.middle, parent.middle),
            self.weight,
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "upper": list(self.upper),
            "lower": list(self.lower),
            "middle": list(self.middle),
            "weight": self.weight,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> LevelMap:
        tables = []
        for name in ("upper", "lower", "middle"):
            table = data.get(name)
            if (
                not isinstance(table, list)
                or len(table) != len(GRID)
                or not all(isinstance(x, int | float) for x in table)
            ):
                raise ValueError(f"a level map needs a '{name}' list of {len(GRID)} numbers")
            tables.append(tuple(float(x) for x in table))
        weight = data.get("weight", 0.0)
        if not isinstance(weight, int | float):
            raise ValueError("a level map's weight must be a number")
        return cls(tables[0], tables[1], tables[2], float(weight))


def level_map(scores: ScoreSet) -> LevelMap:
    weights = [s.weight for s in scores.upper]
    # Kish's effective sample size: recency weights make 5,000 parcels worth far fewer.
    ess = (sum(weights) ** 2 / sum(w * w for w in weights)) if weights else 0.0
    return LevelMap(
        _monotone(weighted_km_quantiles(scores.upper, GRID)),
        _monotone(weighted_km_quantiles(scores.lower, GRID)),
        _monotone(weighted_km_quantiles(scores.middle, GRID)),
        ess,
    )


def _monotone(values: Sequence[float]) -> tuple[float, ...]:
    out: list[float] = []
    high = 0.0
    for v in values:
        high = max(high, min(1.0, v))
        out.append(high)
    return tuple(out)


def _interpolate(table: Sequence[float], nominal: float) -> float:
    if nominal <= GRID[0]:
        return table[0] * nominal / GRID[0]
    if nominal >= GRID[-1]:
        return table[-1] + (1.0 - table[-1]) * (nominal - GRID[-1]) / (1.0 - GRID[-1])
    position = (nominal - GRID[0]) / 0.01
    i = min(math.floor(position), len(GRID) - 2)
    frac = position - i
    return table[i] * (1 - frac) + table[i + 1] * frac


@dataclass(frozen=True, slots=True)
class Calibration:
    """Level maps per checkpoint milestone, globally and per destination region."""

    by_milestone: dict[Milestone, LevelMap] = field(default_factory=dict)
    by_destination: dict[tuple[Milestone, str], LevelMap] = field(default_factory=dict)
    # Pace exponents (see pace.PaceEstimator) by destination group ("*" for all).
    transit_pace: dict[str, float] = field(default_factory=dict)
    handling_pace: dict[str, float] = field(default_factory=dict)

    def pace(self, table: dict[str, float], group: str) -> float:
        return table.get(group, table.get("*", 1.0))

    def level_map(self, milestone: Milestone, ctx: LaneContext) -> LevelMap:
        group = self.by_destination.get((milestone, destination_group(ctx)))
        if group is not None:
            return group
        return self.by_milestone.get(milestone) or LevelMap.identity()
