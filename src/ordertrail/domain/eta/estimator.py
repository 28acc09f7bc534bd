"""Delivery-date estimation: a promise at checkout, and a fresh estimate after every scan.

The delivery date is modelled as handling (placement -> carrier acceptance, in the seller's
business days) followed by transit (acceptance -> delivery, in the carrier's business days), each a
learned distribution per lane (see `lanes`). Their convolution, mapped through the two calendars,
is a distribution over calendar dates; conformal level maps learned on a recent calibration window
(see `calibration`) then say which of its quantiles to show:

* `point` — the calibrated median, the single most useful date;
* `earliest`/`latest` — the calibrated `policy.interval` quantiles (5% and 85%: an 80% window);
* `promised` — the calibrated `policy.promise_on_time` quantile, the date we commit to at checkout.

Re-estimation conditions on what is known now: the current milestone, the business days already
spent at it, and that the parcel has not been delivered before today. A parcel that has sat in
transit for 6 days is given the remaining-time distribution of parcels that took at least 6 days,
not "1 day away" again, and no estimate is ever a date that has already passed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta

from ordertrail.domain.eta.calendar import BusinessCalendar, CalendarSource
from ordertrail.domain.eta.calibration import Calibration, LevelMap
from ordertrail.domain.eta.lanes import (
    LaneContext,
    StageModel,
    destination_group,
    hazard_from_pmf,
    origin_group,
    paced,
    pmf_from_hazard,
)
from ordertrail.domain.eta.windows import DateDistribution, DeliveryWindow, Milestone, PromisePolicy

_MASS_EPSILON = 1e-4
# Windows kept for reuse: a day's lanes and milestone dates; few enough not to weigh on the collector.
_WINDOWS_KEPT = 4096


class EtaModel:
    """Fitted stage distributions + calibration + policy. Immutable in use; cheap to share."""

    def __init__(
        self,
        handling: StageModel,
        transit: StageModel,
        calendars: CalendarSource,
        policy: PromisePolicy | None = None,
        calibration: Calibration | None = None,
        last_mile: tuple[float, ...] = (0.85, 0.1, 0.05),
        fitted_as_of: date | None = None,
    ) -> None:
        self.handling = handling
        self.transit = transit
        self.calendars = calendars
        self.policy = policy or PromisePolicy()
        self.calibration = calibration or Calibration()
        self.last_mile = last_mile  # P(delivered 0, 1, 2 business days after out-for-delivery)
        self.fitted_as_of = fitted_as_of
        self._hazards: dict[tuple[str, tuple[str, ...], float], list[float]] = {}
        self._windows: dict[tuple[object, ...], DeliveryWindow] = {}

    def transit_hazard(self, ctx: LaneContext) -> list[float]:
        path = ctx.transit_path()
        return self._paced(
            "t",
            self.transit,
            path,
            self.calibration.pace(self.calibration.transit_pace, destination_group(ctx)),
        )

    def handling_hazard(self, ctx: LaneContext) -> list[float]:
        path = ctx.handling_path()
        return self._paced(
            "h", self.handling, path, self.calibration.pace(self.calibration.handling_pace, origin_group(ctx))
        )

    def _paced(self, stage: str, model: StageModel, path: tuple[str, ...], theta: float) -> list[float]:
        key = (stage, model.specific(path), theta)
        hazard = self._hazards.get(key)
        if hazard is None:
            hazard = paced(model.hazard(path), theta)
            if len(self._hazards) > 100_000:
                self._hazards.clear()
            self._hazards[key] = hazard
        return hazard

    def with_calibration(self, calibration: Calibration) -> EtaModel:
        return EtaModel(
            self.handling,
            self.transit,
            self.calendars,
            self.policy,
            calibration,
            self.last_mile,
            self.fitted_as_of,
        )

    def with_policy(self, policy: PromisePolicy) -> EtaModel:
        return EtaModel(
            self.handling,
            self.transit,
            self.calendars,
            policy,
            self.calibration,
            self.last_mile,
            self.fitted_as_of,
        )

    # -- distributions -------------------------------------------------------------------------

    def handling_start(self, placed_at_local: date | datetime) -> date:
        if isinstance(placed_at_local, datetime):
            day = placed_at_local.date()
            if placed_at_local.hour >= self.policy.cutoff_hour:
                day += timedelta(days=1)
            return day
        return placed_at_local

    def distribution(
        self, ctx: LaneContext, milestone: Milestone, since: date, today: date | None = None
    ) -> DateDistribution:
        """Delivery-date distribution given the current `milestone`, reached on `since`, and (when
        `today` is given) that the parcel was not delivered before `today`."""
        floor = today if today is not None else since
        if milestone is Milestone.DELIVERED:
            return DateDistribution(since, (1.0,))
        if milestone is Milestone.OUT_FOR_DELIVERY:
            stage = _hazard_stage(self.last_mile)
            return self._stage_dates(stage, self.calendars.transit(ctx), since, floor)
        if milestone is Milestone.IN_TRANSIT:
            hazard = self.transit_hazard(ctx)
            return self._stage_dates(hazard, self.calendars.transit(ctx), since, floor)
        return self._checkout_dates(ctx, since, floor)

    def _stage_dates(
        self, hazard: Sequence[float], calendar: BusinessCalendar, since: date, floor: date
    ) -> DateDistribution:
        elapsed = _elapsed(calendar, since, floor)
        pmf = _pmf(hazard, elapsed)
        offsets = calendar.business_day_offsets(since, len(pmf) - 1)
        out = [0.0] * (offsets[-1] + 1)
        for d, p in enumerate(pmf):
            if p > 0.0:
                out[offsets[d]] += p
        return _floored(DateDistribution(since, tuple(out)), floor)

    def _checkout_dates(self, ctx: LaneContext, placed: date, floor: date) -> DateDistribution:
        hcal, tcal = self.calendars.handling(ctx), self.calendars.transit(ctx)
        handling = _pmf(self.handling_hazard(ctx), _elapsed(hcal, placed, floor))
        transit = _pmf(self.transit_hazard(ctx), 0)
        h_offsets = hcal.business_day_offsets(placed, len(handling) - 1)
        t_len = len(transit) - 1
        t_mass = [(t, pt) for t, pt in enumerate(transit) if pt > 0.0]
        out = [0.0] * (h_offsets[-1] + 7 * t_len + 8)
        for h, ph in enumerate(handling):
            if ph <= _MASS_EPSILON:
                continue
            handover = h_offsets[h]
            t_offsets = tcal.business_day_offsets(placed + timedelta(days=handover), t_len)
            if handover + t_offsets[-1] >= len(out):
                out.extend([0.0] * (handover + t_offsets[-1] + 1 - len(out)))
            for t, pt in t_mass:
                out[handover + t_offsets[t]] += ph * pt
        end = len(out)
        while end > 1 and out[end - 1] == 0.0:
            end -= 1
        del out[end:]
        return _floored(DateDistribution(placed, tuple(out)), floor)

    # -- windows -------------------------------------------------------------------------------

    def window(
        self, dist: DateDistribution, ctx: LaneContext, checkpoint: Milestone, basis: str
    ) -> DeliveryWindow:
        levels = self.calibration.level_map(checkpoint, ctx)
        lo, hi = self.policy.interval
        cdf = dist.cdf()
        return DeliveryWindow(
            earliest=dist.quantile(levels.lower_level(lo), cdf),
            point=dist.quantile(levels.middle_level(0.5), cdf),
            latest=dist.quantile(levels.upper_level(hi), cdf),
            promised=dist.quantile(levels.upper_level(self.policy.promise_on_time), cdf),
            basis=basis,
        )

    def promise(self, ctx: LaneContext, placed_at_local: date | datetime) -> DeliveryWindow:
        """The window to promise at checkout; store it and never overwrite it."""
        start = self.handling_start(placed_at_local)
        dist = self._checkout_dates(ctx, start, start)
        known = "lane history" if self.transit.known(ctx.transit_path()[2]) > 0 else "defaults"
        return self.window(dist, ctx, Milestone.AWAITING_HANDOVER, f"checkout estimate from {known}")

    def reestimate(
        self,
        ctx: LaneContext,
        milestone: Milestone,
        milestone_since: date,
        today: date,
        carrier_estimate: date | None = None,
    ) -> DeliveryWindow:
        """The current window given the milestone reached on `milestone_since` (for
        AWAITING_HANDOVER: the handling start date) and that it is now `today`, undelivered."""
        if milestone is Milestone.DELIVERED:
            d = milestone_since
            return DeliveryWindow(d, d, d, d, "delivered")
        # Parcels of one batch or sweep mostly share a lane's learnt statistics and their dates: the
        # window is worked out once for them. The key holds everything the window depends on.
        key = (
            ctx.origin_country,
            ctx.origin_region,
            ctx.destination_country,
            ctx.destination_region,
            ctx.carrier,
            ctx.service,
            self.transit.specific(ctx.transit_path()),
            self.handling.specific(ctx.handling_path()),
            milestone,
            milestone_since,
            today,
            carrier_estimate,
        )
        window = self._windows.get(key)
        if window is None:
            if len(self._windows) >= _WINDOWS_KEPT:
                self._windows.clear()
            window = self._windows[key] = self._reestimate(
                ctx, milestone, milestone_since, today, carrier_estimate
            )
        return window

    def _reestimate(
        self,
        ctx: LaneContext,
        milestone: Milestone,
        milestone_since: date,
        today: date,
        carrier_estimate: date | None,
    ) -> DeliveryWindow:
        dist = self.distribution(ctx, milestone, milestone_since, today)
        checkpoint = Milestone.IN_TRANSIT if milestone is Milestone.OUT_FOR_DELIVERY else milestone
        waited = _elapsed(self._calendar_for(ctx, milestone), milestone_since, today)
        basis = (
            f"{milestone.value.replace('_', ' ')} since {milestone_since.isoformat()}: "
            f"{waited} business day{'' if waited == 1 else 's'}"
        )
        typical = self._typical_days(ctx, milestone)
        if typical is not None:
            # The reason a delay notice can quote: "7 business days in transit, usually 3".
            basis += f", usually {typical}"
        window = self.window(dist, ctx, checkpoint, basis)
        if milestone is Milestone.OUT_FOR_DELIVERY:
            window = replace(
                window, earliest=dist.quantile(0.0), latest=max(window.latest, dist.quantile(0.95))
            )
        if carrier_estimate is not None and carrier_estimate >= today:
            window = _blend_carrier(window, carrier_estimate, self.policy.carrier_weight)
        return window

    def probability_late(
        self, ctx: LaneContext, milestone: Milestone, milestone_since: date, today: date, promised: date
    ) -> float:
        """P(delivery after `promised`) given the current state (uncalibrated)."""
        if milestone is Milestone.DELIVERED:
            return 1.0 if milestone_since > promised else 0.0
        dist = self.distribution(ctx, milestone, milestone_since, today)
        return 1.0 - dist.cdf_before(promised + timedelta(days=1))

    def _typical_days(self, ctx: LaneContext, milestone: Milestone) -> int | None:
        """Median business days of the current stage (before calibration), for explanations."""
        if milestone is Milestone.AWAITING_HANDOVER:
            hazard = self.handling_hazard(ctx)
        elif milestone is Milestone.IN_TRANSIT:
            hazard = self.transit_hazard(ctx)
        else:
            return None
        total = 0.0
        for d, p in enumerate(pmf_from_hazard(hazard)):
            total += p
            if total >= 0.5:
                return d
        return None

    def _calendar_for(self, ctx: LaneContext, milestone: Milestone) -> BusinessCalendar:
        return (
            self.calendars.handling(ctx)
            if milestone is Milestone.AWAITING_HANDOVER
            else self.calendars.transit(ctx)
        )

    # -- persistence ---------------------------------------------------------------------------

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-able data. Floats are kept exact (JSON round-trips them): a calibrated level can
        sit exactly on a CDF value, and a reloaded model must give the very same dates."""
        cal = self.calibration
        return {
            "format": "ordertrail.eta/1",
            "fitted_as_of": self.fitted_as_of.isoformat() if self.fitted_as_of else None,
            "policy": {
                "promise_on_time": self.policy.promise_on_time,
                "interval": list(self.policy.interval),
                "carrier_weight": self.policy.carrier_weight,
                "cutoff_hour": self.policy.cutoff_hour,
            },
            "last_mile": list(self.last_mile),
            "handling": self.handling.to_dict(),
            "transit": self.transit.to_dict(),
            "calibration": {
                "by_milestone": {m.value: lm.to_dict() for m, lm in cal.by_milestone.items()},
                "by_destination": {
                    f"{m.value}|{g}": lm.to_dict() for (m, g), lm in cal.by_destination.items()
                },
                "transit_pace": dict(cal.transit_pace),
                "handling_pace": dict(cal.handling_pace),
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, object], calendars: CalendarSource) -> EtaModel:
        if data.get("format") != "ordertrail.eta/1":
            raise ValueError(f"unknown model format {data.get('format')!r}")
        policy_raw = _as_dict(data["policy"])
        interval = policy_raw["interval"]
        if not isinstance(interval, list) or len(interval) != 2:
            raise ValueError("policy.interval must be a pair")
        policy = PromisePolicy(
            promise_on_time=float(str(policy_raw["promise_on_time"])),
            interval=(float(interval[0]), float(interval[1])),
            carrier_weight=float(str(policy_raw["carrier_weight"])),
            cutoff_hour=int(str(policy_raw["cutoff_hour"])),
        )
        cal_raw = _as_dict(data["calibration"])
        by_milestone = {
            Milestone(k): LevelMap.from_dict(_as_dict(v))
            for k, v in _as_dict(cal_raw["by_milestone"]).items()
        }
        by_destination: dict[tuple[Milestone, str], LevelMap] = {}
        for key, value in _as_dict(cal_raw["by_destination"]).items():
            milestone, group = key.split("|", 1)
            by_destination[(Milestone(milestone), group)] = LevelMap.from_dict(_as_dict(value))
        as_of = data.get("fitted_as_of")
        last_mile = data["last_mile"]
        if not isinstance(last_mile, list):
            raise ValueError("last_mile must be a list")
        return cls(
            StageModel.from_dict(_as_dict(data["handling"])),
            StageModel.from_dict(_as_dict(data["transit"])),
            calendars,
            policy,
            Calibration(
                by_milestone,
                by_destination,
                {str(g): float(str(t)) for g, t in _as_dict(cal_raw.get("transit_pace", {})).items()},
                {str(g): float(str(t)) for g, t in _as_dict(cal_raw.get("handling_pace", {})).items()},
            ),
            tuple(float(x) for x in last_mile),
            date.fromisoformat(as_of) if isinstance(as_of, str) else None,
        )


def _as_dict(value: object) -> dict[str, object]:
    if not isinstance(value, dict):
        raise ValueError(f"expected an object, got {type(value).__name__}")
    return value


def _elapsed(calendar: BusinessCalendar, since: date, today: date) -> int:
    """Business days certainly spent at the milestone without completing it, as of `today`.

    The parcel can still complete the stage today, so today's count is possible; on a non-working
    day it is not (nothing moves), hence the +1.
    """
    if today <= since:
        return 0
    spent = calendar.business_days_between(since, today)
    return spent if calendar.is_business_day(today) else spent + 1


def _pmf(hazard: Sequence[float], elapsed: int) -> list[float]:
    pmf = pmf_from_hazard(hazard, elapsed)
    end = len(pmf)
    while end > 1 and pmf[end - 1] == 0.0:
        end -= 1
    return pmf[:end]


def _hazard_stage(pmf: Sequence[float]) -> list[float]:
    return hazard_from_pmf([*pmf, 0.0])


def _floored(dist: DateDistribution, floor: date) -> DateDistribution:
    """Move any mass on dates before `floor` onto `floor`: a parcel is never delivered in the past."""
    cut = (floor - dist.start).days
    if cut <= 0:
        return dist
    pmf = dist.pmf
    if cut >= len(pmf):
        return DateDistribution(floor, (1.0,))
    head = sum(pmf[: cut + 1])
    return DateDistribution(floor, (head, *pmf[cut + 1 :]))


def _blend_carrier(window: DeliveryWindow, carrier_estimate: date, weight: float) -> DeliveryWindow:
    offset = (carrier_estimate - window.point).days
    point = window.point + timedelta(days=round(weight * offset))
    return DeliveryWindow(
        earliest=min(window.earliest, point),
        point=point,
        latest=max(window.latest, point),
        promised=max(window.promised, point),
        basis=f"{window.basis}; carrier estimate {carrier_estimate.isoformat()}",
    )
