"""Use case: score delivery-date estimators on past orders with a strict time split (issue 9).

Three models on the same test orders: the marketplace's own estimate (`olist`), per-lane empirical
quantiles (`baseline`), and the learned estimator (`ordertrail`), at checkout and, for the last
two, at carrier hand-over.

How the test window is kept out of everything learned:
1. `Protocol` requires train < calibration < test, with no overlap.
2. `split` filters by purchase date *before* any model object exists and turns each training and
   calibration order into a `ShipmentHistory` *as known at the end of its window*: hand-overs and
   deliveries dated later are blanked (the parcel is then a censored observation). Nothing dated
   after the calibration window's last day survives into `SplitOrders.train`/`.calibration`/
   `.baseline`.
3. `fit` and `calibrate` refuse (LeakageError) any record placed, handed over or delivered after
   their as-of date, so a test order cannot be passed to them even by mistake.
4. Test orders are only ever read by `_score`.

The as-of choice for *training* data is the train window's end, not the calibration's: a December
order delivered in January would otherwise tell the fit about January, the calibration window, and
calibration would look better than the model really is. The baseline is given every train-window
outcome known by the calibration cut-off (a slightly stronger baseline than the strict rule).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from ordertrail.domain.eta.calendar import CalendarSource
from ordertrail.domain.eta.calibration import Calibration
from ordertrail.domain.eta.estimator import EtaModel
from ordertrail.domain.eta.fitting import FitConfig, calibrate, fit
from ordertrail.domain.eta.history import ShipmentHistory
from ordertrail.domain.eta.lanes import LaneContext
from ordertrail.domain.eta.pace import PaceTracker
from ordertrail.domain.eta.windows import DeliveryWindow, Milestone

Progress = Callable[[str, int, int], None]
CHECKOUT, HANDOVER = "checkout", "handover"
MODELS = ("olist", "baseline", "ordertrail")


@dataclass(frozen=True, slots=True)
class EvaluationOrder:
    order_id: str
    purchased_at: datetime
    placed_on: date
    handed_over_on: date
    delivered_on: date
    marketplace_estimate: date | None
    seller_id: str
    seller_state: str
    seller_postal_code: str
    customer_state: str
    customer_postal_code: str
    payment_method: str = ""
    item_count: int = 1
    multi_seller: bool = False
    price: float = 0.0
    freight: float = 0.0
    country: str = "BR"

    def context(self) -> LaneContext:
        return LaneContext(
            seller_id=self.seller_id,
            origin_country=self.country,
            origin_region=self.seller_state,
            destination_country=self.country,
            destination_region=self.customer_state,
            destination_postal_code=self.customer_postal_code,
        )

    def history(self) -> ShipmentHistory:
        return ShipmentHistory(self.context(), self.placed_on, self.handed_over_on, self.delivered_on)


@dataclass(frozen=True, slots=True)
class Loaded:
    orders: tuple[EvaluationOrder, ...]
    dropped: int = 0  # rows with impossible dates or missing joins


@dataclass(frozen=True, slots=True)
class Window:
    start: date
    end: date

    @classmethod
    def parse(cls, text: str) -> Window:
        try:
            start, end = (date.fromisoformat(part.strip()) for part in text.split(":"))
        except ValueError:
            raise ValueError(f"expected FROM:TO as YYYY-MM-DD:YYYY-MM-DD, got {text!r}") from None
        if end < start:
            raise ValueError(f"window {text!r} ends before it starts")
        return cls(start, end)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    def __str__(self) -> str:
        return f"{self.start.isoformat()}:{self.end.isoformat()}"


@dataclass(frozen=True, slots=True)
class Protocol:
    train: Window
    calibrate: Window
    test: Window

    def __post_init__(self) -> None:
        if not self.train.end < self.calibrate.start:
            raise ValueError("the calibration window must start after the train window ends")
        if not self.calibrate.end < self.test.start:
            raise ValueError("the test window must start after the calibration window ends")


@dataclass(frozen=True, slots=True)
class SplitOrders:
    train: tuple[ShipmentHistory, ...]  # as known at train.end
    calibration: tuple[ShipmentHistory, ...]  # as known at calibrate.end
    baseline: tuple[ShipmentHistory, ...]  # train orders as known at calibrate.end
    test: tuple[EvaluationOrder, ...]
    # Calibration orders with their whole story, for `--recalibrate daily` only: they go into a
    # PaceTracker, which answers "as of day D" from events dated on or before D and nothing else.
    calibration_timeline: tuple[ShipmentHistory, ...] = ()


def split(orders: Iterable[EvaluationOrder], protocol: Protocol) -> SplitOrders:
    train: list[ShipmentHistory] = []
    calibration: list[ShipmentHistory] = []
    baseline: list[ShipmentHistory] = []
    test: list[EvaluationOrder] = []
    timeline: list[ShipmentHistory] = []
    for order in orders:
        if order.placed_on in protocol.train:
            history = order.history()
            known = history.as_known_on(protocol.train.end)
            if known is not None:
                train.append(known)
            known = history.as_known_on(protocol.calibrate.end)
            if known is not None:
                baseline.append(known)
        elif order.placed_on in protocol.calibrate:
            known = order.history().as_known_on(protocol.calibrate.end)
            if known is not None:
                calibration.append(known)
            timeline.append(order.history())
        elif order.placed_on in protocol.test:
            test.append(order)
    cutoff = protocol.calibrate.end
    # The guard the whole evaluation rests on; cheap enough to check every time.
    for history in (*train, *calibration, *baseline):
        for day in (history.placed_on, history.handed_over_on, history.delivered_on):
            if day is not None and day > cutoff:
                raise AssertionError("an order's future reached the learning data")
    return SplitOrders(tuple(train), tuple(calibration), tuple(baseline), tuple(test), tuple(timeline))


class LaneQuantileBaseline:
    """Empirical calendar-day quantiles per seller state -> customer state, global when unseen."""

    def __init__(self, histories: Iterable[ShipmentHistory]) -> None:
        total: dict[str, list[int]] = {}
        transit: dict[str, list[int]] = {}
        for h in histories:
            if h.delivered_on is None or h.handed_over_on is None:
                continue  # a plain empirical table only knows finished orders
            lane = f"{h.ctx.origin_region}>{h.ctx.destination_region}"
            for table, days in (
                (total, (h.delivered_on - h.placed_on).days),
                (transit, (h.delivered_on - h.handed_over_on).days),
            ):
                table.setdefault(lane, []).append(days)
                table.setdefault("*", []).append(days)
        for table in (total, transit):
            for values in table.values():
                values.sort()
        self._tables = {CHECKOUT: total, HANDOVER: transit}

    def window(self, ctx: LaneContext, checkpoint: str, start: date) -> DeliveryWindow:
        table = self._tables[checkpoint]
        values = table.get(f"{ctx.origin_region}>{ctx.destination_region}") or table["*"]

        def at(q: float) -> date:
            return start + timedelta(days=values[max(0, math.ceil(q * len(values)) - 1)])

        return DeliveryWindow(at(0.10), at(0.50), at(0.90), at(0.93), "baseline")


@dataclass(frozen=True, slots=True)
class CheckpointMetrics:
    n_orders: int
    on_time_rate: float
    mean_promised_days: float
    mean_slack_days: float | None
    share_over_3_days_late: float
    p50_mae_days: float
    interval_coverage: float | None
    mean_interval_width_days: float | None


@dataclass(frozen=True, slots=True)
class EvaluationResult:
    protocol: Protocol
    models: dict[str, dict[str, CheckpointMetrics]]
    counts: dict[str, int]
    settings: dict[str, object] = field(default_factory=dict)


@dataclass(slots=True)
class _Tally:
    n: int = 0
    on_time: int = 0
    promised: int = 0
    slack: int = 0
    late3: int = 0
    abs_error: int = 0
    covered: int = 0
    width: int = 0
    has_interval: bool = True

    def add(
        self, order: EvaluationOrder, promise: date, point: date, interval: tuple[date, date] | None
    ) -> None:
        delivered = order.delivered_on
        self.n += 1
        self.promised += (promise - order.placed_on).days
        if delivered <= promise:
            self.on_time += 1
            self.slack += (promise - delivered).days
        elif (delivered - promise).days > 3:
            self.late3 += 1
        self.abs_error += abs((point - delivered).days)
        if interval is None:
            self.has_interval = False
        else:
            self.covered += interval[0] <= delivered <= interval[1]
            self.width += (interval[1] - interval[0]).days

    def metrics(self) -> CheckpointMetrics:
        n = max(self.n, 1)
        return CheckpointMetrics(
            n_orders=self.n,
            on_time_rate=self.on_time / n,
            mean_promised_days=self.promised / n,
            mean_slack_days=self.slack / self.on_time if self.on_time else None,
            share_over_3_days_late=self.late3 / n,
            p50_mae_days=self.abs_error / n,
            interval_coverage=self.covered / n if self.has_interval else None,
            mean_interval_width_days=self.width / n if self.has_interval else None,
        )


def fit_from_records(
    histories: Sequence[ShipmentHistory],
    as_of: date,
    calendars: CalendarSource,
    config: FitConfig | None = None,
) -> EtaModel:
    """Fit on all but the most recent weeks, calibrate on those weeks: the production recipe for
    `edd fit` (the service's history or a CSV export). Records must be as known at `as_of`."""
    config = config or FitConfig()
    cut = as_of - timedelta(days=config.recalibration_days)
    fit_part = [k for h in histories if (k := h.as_known_on(cut)) is not None]
    recent = [h for h in histories if h.placed_on > cut]
    model = fit(fit_part, cut, calendars, config)
    return calibrate(model, recent, as_of, config) if recent else model


def learn(
    parts: SplitOrders,
    protocol: Protocol,
    calendars: CalendarSource,
    config: FitConfig | None = None,
    progress: Progress | None = None,
) -> tuple[EtaModel, LaneQuantileBaseline]:
    """The two learned models, from the train and calibration parts only (never `parts.test`)."""
    config = config or FitConfig()
    report = progress or (lambda stage, done, total: None)
    report("fit", 0, 1)
    model = fit(parts.train, protocol.train.end, calendars, config)
    report("fit", 1, 1)
    report("calibrate", 0, 1)
    model = calibrate(model, parts.calibration, protocol.calibrate.end, config)
    report("calibrate", 1, 1)
    return model, LaneQuantileBaseline(parts.baseline)


RECALIBRATIONS = ("static", "daily")


class _DailyPace:
    """The calibrated model with its pace exponents brought up to the day before each checkpoint,
    as a nightly `edd fit` would: from calibration-window parcels only, as known that night."""

    def __init__(self, model: EtaModel, parts: SplitOrders, protocol: Protocol, config: FitConfig) -> None:
        self.model = model
        self.cutoff = protocol.calibrate.end
        self.tracker = PaceTracker(model, config.pace_half_life_days, config.pace_strength)
        for history in parts.calibration_timeline:
            self.tracker.add(history, _last_day(history))
        self._models: dict[date, EtaModel] = {}

    def prepare(self, checkpoints: Iterable[date]) -> None:
        # The tracker is incremental in date order, so visit the needed nights in order once.
        for night in sorted({max(self.cutoff, day - timedelta(days=1)) for day in checkpoints}):
            self.at(night + timedelta(days=1))

    def at(self, checkpoint: date) -> EtaModel:
        night = max(self.cutoff, checkpoint - timedelta(days=1))
        model = self._models.get(night)
        if model is None:
            if night == self.cutoff:
                model = self.model
            else:
                handling, transit = self.tracker.paces_as_of(night)
                cal = self.model.calibration
                model = self.model.with_calibration(
                    Calibration(cal.by_milestone, cal.by_destination, transit, handling)
                )
            self._models[night] = model
        return model


def _last_day(history: ShipmentHistory) -> date:
    return max(d for d in (history.placed_on, history.handed_over_on, history.delivered_on) if d is not None)


def evaluate(
    loaded: Loaded,
    protocol: Protocol,
    calendars: CalendarSource,
    config: FitConfig | None = None,
    progress: Progress | None = None,
    recalibrate: str = "static",
) -> EvaluationResult:
    """Score the three models. `recalibrate="daily"` re-estimates the pace exponents every night of
    the test window from calibration-window parcels as known that night (test-window orders still
    never reach learning); "static" keeps everything as of the calibration cut-off."""
    if recalibrate not in RECALIBRATIONS:
        raise ValueError(f"recalibrate must be one of {RECALIBRATIONS}")
    config = config or FitConfig()
    report = progress or (lambda stage, done, total: None)
    report("split", 0, 1)
    parts = split(loaded.orders, protocol)
    report("split", 1, 1)
    model, baseline = learn(parts, protocol, calendars, config, report)
    daily = None
    if recalibrate == "daily":
        report("pace", 0, 1)
        daily = _DailyPace(model, parts, protocol, config)
        daily.prepare(d for o in parts.test for d in (o.placed_on, o.handed_over_on))
        report("pace", 1, 1)
    tallies = {(m, c): _Tally() for m in MODELS for c in (CHECKOUT, HANDOVER)}
    total = len(parts.test)
    for i, order in enumerate(parts.test):
        at_checkout = daily.at(order.placed_on) if daily else model
        at_handover = daily.at(order.handed_over_on) if daily else model
        _score(order, at_checkout, at_handover, baseline, tallies)
        if i % 500 == 0:
            report("score", i, total)
    report("score", total, total)
    models = {
        m: {c: tallies[(m, c)].metrics() for c in (CHECKOUT, HANDOVER) if tallies[(m, c)].n} for m in MODELS
    }
    counts = {
        "train_orders": len(parts.train),
        "train_open_at_cutoff": sum(1 for h in parts.train if h.delivered_on is None),
        "calibration_orders": len(parts.calibration),
        "calibration_open_at_cutoff": sum(1 for h in parts.calibration if h.delivered_on is None),
        "test_orders": total,
        "dropped_rows": loaded.dropped,
    }
    settings: dict[str, object] = {
        "promise_on_time_target": config.policy.promise_on_time,
        "interval": list(config.policy.interval),
        "fit_as_of": protocol.train.end.isoformat(),
        "calibration_as_of": protocol.calibrate.end.isoformat(),
        "recalibrate": recalibrate,
    }
    return EvaluationResult(protocol, models, counts, settings)


def _score(
    order: EvaluationOrder,
    at_checkout: EtaModel,
    at_handover: EtaModel,
    baseline: LaneQuantileBaseline,
    tallies: dict[tuple[str, str], _Tally],
) -> None:
    ctx = order.context()
    if order.marketplace_estimate is not None:
        est = order.marketplace_estimate
        tallies[("olist", CHECKOUT)].add(order, est, est, None)
    for checkpoint, start in ((CHECKOUT, order.placed_on), (HANDOVER, order.handed_over_on)):
        w = baseline.window(ctx, checkpoint, start)
        tallies[("baseline", checkpoint)].add(order, w.promised, w.point, (w.earliest, w.latest))
    w = at_checkout.promise(ctx, order.placed_on)
    tallies[("ordertrail", CHECKOUT)].add(order, w.promised, w.point, (w.earliest, w.latest))
    w = at_handover.reestimate(ctx, Milestone.IN_TRANSIT, order.handed_over_on, order.handed_over_on)
    tallies[("ordertrail", HANDOVER)].add(order, w.promised, w.point, (w.earliest, w.latest))
