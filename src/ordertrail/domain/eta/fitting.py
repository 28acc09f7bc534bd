"""Learning an `EtaModel` from shipment history, as it was known on one day.

Both `fit` and `calibrate` take an `as_of` date and refuse any record carrying a date after it: the
caller hands over what was known at the end of a window, with later hand-overs and deliveries
already blanked out (`ShipmentHistory.as_known_on`). A parcel still moving at `as_of` is a censored
observation, not a missing one. This is what makes it impossible for an evaluation to let the test
period leak into the model: nothing dated after the calibration cut-off can even be passed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from ordertrail.domain.eta.calendar import BusinessCalendar
from ordertrail.domain.eta.calibration import LevelMap, PaceEstimator, ScoreSet, level_map
from ordertrail.domain.eta.estimator import CalendarSource, Calibration, EtaModel
from ordertrail.domain.eta.lanes import (
    HANDLING_LEVELS,
    MAX_DAYS,
    TRANSIT_LEVELS,
    LaneContext,
    StageModel,
    StageParams,
    destination_group,
    origin_group,
    prior_hazard,
    recency_weights,
)
from ordertrail.domain.eta.windows import DateDistribution, Milestone, PromisePolicy


class LeakageError(ValueError):
    """A record carries information from after the as-of date it is being learned at."""


@dataclass(frozen=True, slots=True)
class ShipmentHistory:
    """One past shipment: when handling started (local date, after the cut-off), and when the
    carrier accepted it and delivered it, if it had by the time the record describes."""

    ctx: LaneContext
    placed_on: date
    handed_over_on: date | None = None
    delivered_on: date | None = None

    def as_known_on(self, as_of: date) -> ShipmentHistory | None:
        """This record as it looked at the end of `as_of`; None if it had not been placed yet."""
        if self.placed_on > as_of:
            return None
        handed = (
            self.handed_over_on if self.handed_over_on is not None and self.handed_over_on <= as_of else None
        )
        delivered = (
            self.delivered_on
            if handed is not None and self.delivered_on is not None and self.delivered_on <= as_of
            else None
        )
        if handed is self.handed_over_on and delivered is self.delivered_on:
            return self
        return ShipmentHistory(self.ctx, self.placed_on, handed, delivered)

    def check_known_on(self, as_of: date) -> None:
        for label, day in (
            ("placed", self.placed_on),
            ("handed over", self.handed_over_on),
            ("delivered", self.delivered_on),
        ):
            if day is not None and day > as_of:
                raise LeakageError(
                    f"a record {label} on {day.isoformat()} cannot be learned from as of {as_of.isoformat()}"
                )


@dataclass(frozen=True, slots=True)
class Defaults:
    """What a fresh install assumes before it has history (business days, medians)."""

    handling_days: float = 2.0
    transit_days: float = 5.0
    transit_days_by_service: Mapping[str, float] = field(default_factory=dict)  # "carrier/service" -> days
    pseudo_parcels: float = 20.0  # how many parcels' worth of belief each configured default carries


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
            config.handling_strengths, tuple(prior_hazard(defaults.handling_days)), config.scale_strength
        )
    )
    transit = StageModel(
        StageParams(
            config.transit_strengths, tuple(prior_hazard(defaults.transit_days)), config.scale_strength
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
        pmf_hazard = prior_hazard(days)
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
    paced_model = model.with_calibration(_paces(model, records, as_of, config))
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


def _paces(model: EtaModel, records: list[ShipmentHistory], as_of: date, config: FitConfig) -> Calibration:
    transit, handling = PaceEstimator(), PaceEstimator()
    as_of_ordinal = as_of.toordinal()
    half_life = config.pace_half_life_days
    for record in records:
        ctx = record.ctx
        hcal = model.calendars.handling(ctx)
        _add_days(
            handling,
            origin_group(ctx),
            model.handling.hazard(ctx.handling_path()),
            hcal,
            record.placed_on,
            record.handed_over_on,
            as_of,
            as_of_ordinal,
            half_life,
        )
        if record.handed_over_on is not None:
            tcal = model.calendars.transit(ctx)
            _add_days(
                transit,
                destination_group(ctx),
                model.transit.hazard(ctx.transit_path()),
                tcal,
                record.handed_over_on,
                record.delivered_on,
                as_of,
                as_of_ordinal,
                half_life,
            )
    transit_pace = _thetas(transit, config.pace_strength)
    handling_pace = _thetas(handling, config.pace_strength)
    return Calibration(transit_pace=transit_pace, handling_pace=handling_pace)


def _add_days(
    estimator: PaceEstimator,
    group: str,
    hazard: list[float],
    calendar: BusinessCalendar,
    start: date,
    end: date | None,
    as_of: date,
    as_of_ordinal: int,
    half_life: float,
) -> None:
    done = end is not None
    days = min(
        len(hazard) - 2, max(0, calendar.business_days_between(start, end if end is not None else as_of))
    )
    offsets = calendar.business_day_offsets(start, days)
    start_ordinal = start.toordinal()
    weights = recency_weights([start_ordinal + o for o in offsets], as_of_ordinal, half_life)
    for d in range(days + 1):
        event = done and d == days
        estimator.add(group, hazard[d], event, weights[d])
        estimator.add("*", hazard[d], event, weights[d])


def _thetas(estimator: PaceEstimator, strength: float) -> dict[str, float]:
    overall = estimator.theta("*")
    out = {"*": overall}
    for group in estimator.groups():
        if group != "*":
            out[group] = estimator.theta(group, overall, strength)
    return out


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


def repace(
    model: EtaModel, records: Iterable[ShipmentHistory], as_of: date, config: FitConfig | None = None
) -> EtaModel:
    """Update only the pace exponents to what is known at `as_of`, keeping the level maps."""
    config = config or FitConfig()
    records = list(records)
    for record in records:
        record.check_known_on(as_of)
    paces = _paces(model, records, as_of, config)
    cal = model.calibration
    return model.with_calibration(
        Calibration(cal.by_milestone, cal.by_destination, paces.transit_pace, paces.handling_pace)
    )
