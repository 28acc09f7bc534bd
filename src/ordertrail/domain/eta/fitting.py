"""Learning an `EtaModel` from shipment history, as it was known on one day.

Both `fit` and `calibrate` take an `as_of` date and refuse any record carrying a date after it: the
caller hands over what was known at the end of a window, with later hand-overs and deliveries
already blanked out (`ShipmentHistory.as_known_on`). A parcel still moving at `as_of` is a censored
observation, not a missing one. This is what makes it impossible for an evaluation to let the test
period leak into the model: nothing dated after the calibration cut-off can even be passed in.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from ordertrail.domain.eta.calendar import CalendarSource
from ordertrail.domain.eta.calibration import Calibration, LevelMap, ScoreSet, level_map
from ordertrail.domain.eta.estimator import EtaModel
from ordertrail.domain.eta.history import LeakageError, ShipmentHistory
from ordertrail.domain.eta.lanes import (
    HANDLING_LEVELS,
    MAX_DAYS,
    TRANSIT_LEVELS,
    StageModel,
    StageParams,
    destination_group,
    prior_hazard,
    recency_weights,
)
from ordertrail.domain.eta.pace import paces_as_of
from ordertrail.domain.eta.windows import DateDistribution, Milestone, PromisePolicy


@dataclass(frozen=True, slots=True)
class Defaults:
    """What a fresh install assumes before it has history (business days, medians)."""

    handling_days: float = 2.0
    transit_days: float = 5.0
    transit_days_by_service: Mapping[str, float] = field(default_factory=dict)  # "carrier/service" -> days
    pseudo_parcels: float = 20.0  # how many parcels' worth of belief each configured default carries
    # Log-scale spreads of the default distributions (see lanes.prior_hazard).
    handling_spread: float = 0.45
    transit_spread: float = 0.45
    transit_spread_by_service: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def from_ranges(
        cls,
        handling: tuple[int, int],
        transit_by_service: Mapping[str, tuple[int, int]],
        default_service: str | None = None,
        pseudo_parcels: float = 100.0,
    ) -> Defaults:
        """Defaults whose 10% and 90% quantiles are configured ranges of business days, e.g. handling
        (0, 1) for "ships within two business days" and {"/standard": (2, 5)}: a fresh install's
        re-estimates then agree with the promise those ranges make. The configured ranges are
        deliberate, so they carry more pseudo-parcels than a bare median would."""
        h_median, h_spread = range_prior(*handling)
        medians, spreads = {}, {}
        for service, (low, high) in transit_by_service.items():
            medians[service], spreads[service] = range_prior(low, high)
        key = default_service if default_service in medians else next(iter(medians), None)
        t_median, t_spread = (medians[key], spreads[key]) if key is not None else (5.0, 0.45)
        return cls(
            handling_days=h_median,
            transit_days=t_median,
            transit_days_by_service=medians,
            handling_spread=h_spread,
            transit_spread=t_spread,
            transit_spread_by_service=spreads,
            pseudo_parcels=pseudo_parcels,
        )


_Z80 = 1.2815515655446004  # the standard normal's 90% quantile


def range_prior(low: int, high: int) -> tuple[float, float]:
    """(median, spread) of the discretised log-normal (lanes.prior_hazard) with its 10% quantile on
    `low` and its 90% quantile on `high` business days (exactly so for ranges up to 15 days wide;
    wider ones lose a day or two of their upper end to the discretisation)."""
    if low < 0 or high < low:
        raise ValueError(f"need 0 <= low <= high, got {low}..{high}")
    a, b = math.log(low + 1.0), math.log(high + 1.0)
    return math.exp((a + b) / 2) - 1.0, max((b - a) / (2 * _Z80), 0.01)


@dataclass(frozen=True, slots=True)
class FitConfig:
    # Handling is a seller habit and changes slowly; transit follows the network and can change in
    # weeks, hence the shorter half-life.
    handling_half_life_days: float = 120.0
    transit_half_life_days: float = 45.0
    # Shrinkage strengths k, most specific level first, the last one pulling the global level to
    # the prior. Tuned on the 2017 -> 2018-01/02 Olist split (docs/edd.md).
    handling_strengths: tuple[float, ...] = (6.0, 50.0, 5.0)
    transit_strengths: tuple[float, ...] = (15.0, 30.0, 40.0, 60.0, 100.0, 5.0)
    scale_strength: float = 30.0  # parcels at which a key's own time scale counts half (lanes.py)
    calibration_half_life_days: float = 21.0
    recalibration_days: int = 42
    pace_half_life_days: float = 10.0
    pace_strength: float = 50.0  # delivery events at which a region's own pace counts half  # production refits calibrate on the most recent six weeks
    destination_strength: float = 300.0  # calibration weight at which a region's own map counts half
    defaults: Defaults = field(default_factory=Defaults)
    policy: PromisePolicy = field(default_factory=PromisePolicy)


def fit(
    records: Iterable[ShipmentHistory],
    as_of: date | None,
    calendars: CalendarSource,
    config: FitConfig | None = None,
) -> EtaModel:
    """Stage distributions from `records` as known at the end of `as_of` (None: no records)."""
    config = config or FitConfig()
    if len(config.handling_strengths) != HANDLING_LEVELS or len(config.transit_strengths) != TRANSIT_LEVELS:
        raise ValueError(f"need {HANDLING_LEVELS} handling and {TRANSIT_LEVELS} transit strengths")
    defaults = config.defaults
    handling = StageModel(
        StageParams(
            config.handling_strengths,
            tuple(prior_hazard(defaults.handling_days, defaults.handling_spread)),
            config.scale_strength,
        )
    )
    transit = StageModel(
        StageParams(
            config.transit_strengths,
            tuple(prior_hazard(defaults.transit_days, defaults.transit_spread)),
            config.scale_strength,
        )
    )
    _add_service_defaults(transit, defaults)
    as_of_ordinal = as_of.toordinal() if as_of is not None else 0
    for record in records:
        if as_of is None:
            raise LeakageError("records need an as-of date")
        record.check_known_on(as_of)
        ctx = record.ctx
        hcal = calendars.handling(ctx)
        if record.handed_over_on is not None:
            days, done = max(0, hcal.business_days_between(record.placed_on, record.handed_over_on)), True
        else:
            days, done = max(0, hcal.business_days_between(record.placed_on, as_of)), False
        days = min(days, MAX_DAYS)
        offsets = hcal.business_day_offsets(record.placed_on, days)
        start = record.placed_on.toordinal()
        weights = recency_weights([start + o for o in offsets], as_of_ordinal, config.handling_half_life_days)
        handling.add(ctx.handling_path(), days, done, weights)
        if record.handed_over_on is None:
            continue
        tcal = calendars.transit(ctx)
        end = record.delivered_on if record.delivered_on is not None else as_of
        days = min(MAX_DAYS, max(0, tcal.business_days_between(record.handed_over_on, end)))
        offsets = tcal.business_day_offsets(record.handed_over_on, days)
        start = record.handed_over_on.toordinal()
        weights = recency_weights([start + o for o in offsets], as_of_ordinal, config.transit_half_life_days)
        transit.add(ctx.transit_path(), days, record.delivered_on is not None, weights)
    handling.compact()
    transit.compact()
    return EtaModel(handling, transit, calendars, config.policy, fitted_as_of=as_of)


def default_model(
    calendars: CalendarSource, defaults: Defaults | None = None, policy: PromisePolicy | None = None
) -> EtaModel:
    """A model for a fresh install: configured defaults only, until history exists."""
    config = FitConfig(defaults=defaults or Defaults(), policy=policy or PromisePolicy())
    return fit((), None, calendars, config)


def _add_service_defaults(transit: StageModel, defaults: Defaults) -> None:
    # A configured "3 business days for correios/sedex" becomes pseudo-parcels at the carrier level,
    # so real parcels of that service outweigh it as they accumulate.
    for service, days in defaults.transit_days_by_service.items():
        spread = defaults.transit_spread_by_service.get(service, defaults.transit_spread)
        pmf_hazard = prior_hazard(days, spread)
        remaining = defaults.pseudo_parcels
        for d, h in enumerate(pmf_hazard):
            if remaining < 1e-3:
                break
            weights = [0.0] * d + [remaining * h]
            at_risk = [0.0] * d + [remaining]
            transit.add_counts(f"carrier:{service}", d, weights[d], at_risk[d])
            remaining *= 1.0 - h


def calibrate(
    model: EtaModel, records: Iterable[ShipmentHistory], as_of: date, config: FitConfig | None = None
) -> EtaModel:
    """Recalibrate on a window the model was not fitted on: first the pace of each stage per
    region (from the most recent days), then conformal level maps on the paced model."""
    config = config or FitConfig()
    if model.fitted_as_of is not None and model.fitted_as_of > as_of:
        raise LeakageError("calibration must use a window after the fit's")
    records = list(records)
    for record in records:
        record.check_known_on(as_of)
        if model.fitted_as_of is not None and record.placed_on <= model.fitted_as_of:
            raise LeakageError("calibration records must be placed after the fit's as-of date")
    handling_pace, transit_pace = paces_as_of(
        model, records, as_of, config.pace_half_life_days, config.pace_strength
    )
    paced_model = model.with_calibration(Calibration(transit_pace=transit_pace, handling_pace=handling_pace))
    scores: dict[tuple[Milestone, str], ScoreSet] = {}
    as_of_ordinal = as_of.toordinal()
    for i, record in enumerate(records):
        # A low-discrepancy sequence rather than random draws: calibration stays deterministic.
        jitter = (i * 0.6180339887498949) % 1.0
        weight = recency_weights(
            [record.placed_on.toordinal()], as_of_ordinal, config.calibration_half_life_days
        )[0]
        group = destination_group(record.ctx)
        dist = paced_model.distribution(record.ctx, Milestone.AWAITING_HANDOVER, record.placed_on)
        _score(
            scores.setdefault((Milestone.AWAITING_HANDOVER, group), ScoreSet()),
            dist,
            record.delivered_on,
            as_of,
            weight,
            jitter,
        )
        if record.handed_over_on is not None:
            dist = paced_model.distribution(record.ctx, Milestone.IN_TRANSIT, record.handed_over_on)
            _score(
                scores.setdefault((Milestone.IN_TRANSIT, group), ScoreSet()),
                dist,
                record.delivered_on,
                as_of,
                weight,
                jitter,
            )
    by_milestone: dict[Milestone, LevelMap] = {}
    by_destination: dict[tuple[Milestone, str], LevelMap] = {}
    for milestone in (Milestone.AWAITING_HANDOVER, Milestone.IN_TRANSIT):
        everything = ScoreSet()
        for (m, _), group_scores in scores.items():
            if m is milestone:
                everything.extend(group_scores)
        if not everything.upper:
            continue
        overall = level_map(everything)
        by_milestone[milestone] = overall
        for (m, group), group_scores in scores.items():
            if m is milestone:
                by_destination[(m, group)] = level_map(group_scores).blend(
                    overall, config.destination_strength
                )
    paces = paced_model.calibration
    return model.with_calibration(
        Calibration(by_milestone, by_destination, paces.transit_pace, paces.handling_pace)
    )


def _score(
    scores: ScoreSet,
    dist: DateDistribution,
    delivered_on: date | None,
    as_of: date,
    weight: float,
    jitter: float,
) -> None:
    cdf = dist.cdf()
    if delivered_on is not None:
        below = dist.cdf_before(delivered_on, cdf)
        scores.add(below, dist.cdf_before(delivered_on + timedelta(days=1), cdf), jitter, weight)
    else:
        # Still moving at the cut-off: it will come after as_of, so every score is at least F(as_of).
        scores.add(dist.cdf_before(as_of + timedelta(days=1), cdf), 1.0, jitter, weight, censored=True)
