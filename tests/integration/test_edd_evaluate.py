"""`edd evaluate` on slices of the real Olist orders, and the guard that keeps the test window out of
everything learned."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ordertrail.adapters.calendars import HolidayCalendars
from ordertrail.adapters.olist import load_orders
from ordertrail.domain.eta import EtaModel, LaneContext, LeakageError, Milestone, calibrate, fit
from ordertrail.entrypoints.cli.edd import METRICS, app
from ordertrail.services.edd_evaluation import Loaded, Protocol, Window, learn, split

OLIST = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "olist"
TRAIN, CALIBRATE, TEST = "2017-11-01:2017-11-30", "2017-12-01:2017-12-10", "2017-12-11:2017-12-17"
PROTOCOL = Protocol(Window.parse(TRAIN), Window.parse(CALIBRATE), Window.parse(TEST))

pytestmark = pytest.mark.skipif(not OLIST.is_dir(), reason="the Olist data is not beside the repository")


@pytest.fixture(scope="module")
def loaded() -> Loaded:
    return load_orders(OLIST, purchased_from=PROTOCOL.train.start, purchased_to=PROTOCOL.test.end)


@pytest.fixture(scope="module")
def learned(loaded: Loaded) -> dict[str, object]:
    return _learned(loaded)


def _learned(loaded: Loaded) -> dict[str, object]:
    model, baseline = learn(split(loaded.orders, PROTOCOL), PROTOCOL, HolidayCalendars())
    probe = loaded.orders[0].context()
    windows = [
        baseline.window(probe, checkpoint, date(2018, 1, 2)) for checkpoint in ("checkout", "handover")
    ]
    return {"model": model.to_dict(), "baseline": windows}


def test_nothing_about_test_window_orders_or_later_outcomes_changes_what_is_learned(
    loaded: Loaded, learned: dict[str, object]
) -> None:
    cutoff = PROTOCOL.calibrate.end
    test_ids = {o.order_id for o in loaded.orders if o.placed_on in PROTOCOL.test}
    late = {o.order_id for o in loaded.orders if o.placed_on <= cutoff < o.delivered_on}
    assert len(test_ids) > 1000 and late
    # Sentinels: every test order a year late, from a seller and to a lane never seen; every order
    # still moving at the calibration cut-off delivered three months later than it was.
    poisoned = Loaded(
        tuple(
            replace(
                o,
                delivered_on=o.delivered_on + timedelta(days=365),
                seller_id="sentinel",
                customer_state="AC",
            )
            if o.order_id in test_ids
            else replace(o, delivered_on=o.delivered_on + timedelta(days=90))
            if o.order_id in late
            else o
            for o in loaded.orders
        )
    )
    assert _learned(poisoned) == learned
    assert _learned(Loaded(tuple(o for o in loaded.orders if o.order_id not in test_ids))) == learned


def test_fit_and_calibrate_refuse_a_test_window_order_passed_by_mistake(loaded: Loaded) -> None:
    parts = split(loaded.orders, PROTOCOL)
    sentinel = parts.test[0].history()
    assert all(
        h.placed_on <= PROTOCOL.calibrate.end for h in (*parts.train, *parts.calibration, *parts.baseline)
    )
    with pytest.raises(LeakageError):
        fit([*parts.train, sentinel], PROTOCOL.train.end, HolidayCalendars())
    model = fit(parts.train, PROTOCOL.train.end, HolidayCalendars())
    with pytest.raises(LeakageError):
        calibrate(model, [*parts.calibration, sentinel], PROTOCOL.calibrate.end)


def test_evaluate_prints_every_metric_for_every_model_and_checkpoint() -> None:
    result = CliRunner().invoke(
        app,
        ["evaluate", "--olist", str(OLIST), "--train", TRAIN, "--calibrate", CALIBRATE, "--test", TEST, "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    expected = {
        "olist": {"checkout"},
        "baseline": {"checkout", "handover"},
        "ordertrail": {"checkout", "handover"},
    }
    assert {m: set(c) for m, c in report["models"].items()} == expected
    for checkpoints in report["models"].values():
        for metrics in checkpoints.values():
            assert set(METRICS) <= set(metrics)
            assert metrics["n_orders"] == report["counts"]["test_orders"] > 1000
            assert 0.0 <= metrics["on_time_rate"] <= 1.0
    ours = report["models"]["ordertrail"]["checkout"]
    assert 0.5 <= ours["interval_coverage"] <= 1.0 and ours["mean_interval_width_days"] > 0


def test_evaluate_with_nightly_recalibration_shows_a_readable_table_and_progress() -> None:
    result = CliRunner().invoke(
        app,
        ["evaluate", "--olist", str(OLIST), "--train", "2017-12-01:2017-12-10", "--calibrate", "2017-12-11:2017-12-20",
         "--test", "2017-12-21:2017-12-22", "--recalibrate", "daily"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "ordertrail  handover" in result.stdout
    for stage in ("load", "fit", "calibrate", "pace", "score"):
        assert stage in result.stderr


def test_evaluate_refuses_windows_that_overlap() -> None:
    result = CliRunner().invoke(
        app,
        ["evaluate", "--olist", str(OLIST), "--train", "2017-01-01:2017-12-31", "--calibrate", "2017-12-01:2018-01-31",
         "--test", "2018-02-01:2018-02-28"],
    )  # fmt: skip
    assert result.exit_code != 0
    assert "calibration window must start after the train window" in result.output


def test_fit_from_a_csv_export_writes_a_model_the_service_can_load(tmp_path: Path) -> None:
    export = tmp_path / "history.csv"
    rows = ["seller_id,origin_country,origin_region,destination_country,destination_region,destination_postal_code,"
            "carrier,service,placed_on,handed_over_on,delivered_on"]  # fmt: skip
    start = date(2018, 1, 1)
    for i in range(120):
        placed = start + timedelta(days=i % 50)
        delivered = "" if i % 10 == 0 else (placed + timedelta(days=9)).isoformat()
        rows.append(
            f"s{i % 4},BR,SP,BR,RJ,2004{i % 10},correios,pac,{placed},{placed + timedelta(days=2)},{delivered}"
        )
    export.write_text("\n".join(rows) + "\n")
    out = tmp_path / "eta_model.json"
    result = CliRunner().invoke(app, ["fit", "--csv", str(export), "--out", str(out)])
    assert result.exit_code == 0, result.output
    model = EtaModel.from_dict(json.loads(out.read_text()), HolidayCalendars())
    ctx = LaneContext("s1", "BR", "SP", "BR", "RJ", "20041", "correios", "pac")
    handover = date(2018, 3, 5)  # a Monday
    window = model.reestimate(ctx, Milestone.IN_TRANSIT, handover, handover)
    # Learned from the export: a week from hand-over (placed + 2 -> placed + 9), not the default.
    assert window.point == handover + timedelta(days=7)


def test_evaluate_refuses_windows_outside_the_data_instead_of_printing_an_empty_table() -> None:
    result = CliRunner().invoke(
        app,
        ["evaluate", "--olist", str(OLIST), "--train", "2021-01-01:2021-01-31", "--calibrate", "2021-02-01:2021-02-10",
         "--test", "2021-02-11:2021-02-20"],
    )  # fmt: skip
    assert result.exit_code == 1
    assert (
        "No orders fall in the train and test window(s)" in result.output
        and "ordertrail  " not in result.output
    )
