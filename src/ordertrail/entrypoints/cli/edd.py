"""`ordertrail edd ...`: fit the delivery-estimate model and evaluate it on the Olist orders."""

from __future__ import annotations

import csv
import json
import sys
import time
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from ordertrail.domain.eta.history import ShipmentHistory
from ordertrail.domain.eta.lanes import LaneContext
from ordertrail.services.edd_evaluation import (
    CHECKOUT,
    HANDOVER,
    MODELS,
    RECALIBRATIONS,
    EvaluationResult,
    Protocol,
    Window,
    evaluate,
    fit_from_records,
)

app = typer.Typer(help="Estimated delivery: fit the model, evaluate it on past orders.", no_args_is_help=True)

METRICS = (
    "on_time_rate",
    "mean_promised_days",
    "mean_slack_days",
    "share_over_3_days_late",
    "p50_mae_days",
    "interval_coverage",
    "mean_interval_width_days",
    "n_orders",
)

# Columns of a CSV export of past shipments (`edd fit --csv`); dates are ISO local dates, empty
# while the shipment had not reached that point.
HISTORY_COLUMNS = (
    "seller_id",
    "origin_country",
    "origin_region",
    "destination_country",
    "destination_region",
    "destination_postal_code",
    "carrier",
    "service",
    "placed_on",
    "handed_over_on",
    "delivered_on",
)


class _Progress:
    """Stage and count on stderr, rewritten in place on a terminal, one line per stage otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.started = time.monotonic()
        self.stage = ""

    def __call__(self, stage: str, done: int, total: int) -> None:
        elapsed = time.monotonic() - self.started
        if self.tty:
            sys.stderr.write(f"\r{stage:<10} {done:>6}/{total:<6} {elapsed:6.1f}s")
            if done >= total:
                sys.stderr.write("\n")
            sys.stderr.flush()
        elif stage != self.stage or done >= total:
            sys.stderr.write(f"{stage:<10} {done:>6}/{total:<6} {elapsed:6.1f}s\n")
            sys.stderr.flush()
        self.stage = stage


def _window(value: str, name: str) -> Window:
    try:
        return Window.parse(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=name) from None


@app.command("evaluate")
def evaluate_command(
    olist: Annotated[Path, typer.Option("--olist", help="Directory of the Olist CSV(.gz) files.")],
    train: Annotated[str, typer.Option("--train", help="Purchase window to fit on, FROM:TO.")],
    calibrate: Annotated[str, typer.Option("--calibrate", help="Purchase window to calibrate on, FROM:TO.")],
    test: Annotated[str, typer.Option("--test", help="Purchase window to score, FROM:TO.")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    recalibrate: Annotated[
        str,
        typer.Option(
            "--recalibrate",
            help="static: everything as of the calibration cut-off. daily: also re-estimate the pace "
            "every night of the test window from calibration-window parcels as known that night.",
        ),
    ] = "static",
) -> None:
    """Score Olist's estimate, the lane-quantile baseline and ordertrail on the test window."""
    if recalibrate not in RECALIBRATIONS:
        raise typer.BadParameter(f"one of {', '.join(RECALIBRATIONS)}", param_hint="--recalibrate")
    from ordertrail.adapters.calendars import HolidayCalendars
    from ordertrail.adapters.olist import OlistDataError, load_orders

    try:
        protocol = Protocol(
            _window(train, "--train"), _window(calibrate, "--calibrate"), _window(test, "--test")
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    progress = _Progress()
    started = time.monotonic()
    progress("load", 0, 1)
    try:
        # Orders outside the three windows are not even parsed.
        loaded = load_orders(olist, purchased_from=protocol.train.start, purchased_to=protocol.test.end)
    except (OlistDataError, OSError) as exc:
        typer.echo(f"Cannot read the Olist data: {exc}", err=True)
        raise typer.Exit(2) from None
    progress("load", 1, 1)
    result = evaluate(loaded, protocol, HolidayCalendars(), progress=progress, recalibrate=recalibrate)
    runtime = time.monotonic() - started
    empty = [name for name in ("train_orders", "test_orders") if not result.counts.get(name)]
    if empty:  # a table of nothing would read as a result
        typer.echo(
            f"No orders fall in the {' and '.join(n.split('_')[0] for n in empty)} window(s) of this data; "
            "choose --train, --calibrate and --test inside the dates it covers (Olist: 2016-09 to 2018-10).",
            err=True,
        )
        raise typer.Exit(1)
    if as_json:
        typer.echo(json.dumps(_as_json(result, runtime), indent=2))
    else:
        typer.echo(_table(result, runtime))


def _as_json(result: EvaluationResult, runtime: float) -> dict[str, object]:
    return {
        "protocol": {
            "train": str(result.protocol.train),
            "calibrate": str(result.protocol.calibrate),
            "test": str(result.protocol.test),
        },
        "counts": result.counts,
        "settings": result.settings,
        "models": {
            model: {checkpoint: asdict(metrics) for checkpoint, metrics in checkpoints.items()}
            for model, checkpoints in result.models.items()
        },
        "runtime_seconds": round(runtime, 1),
    }


def _table(result: EvaluationResult, runtime: float) -> str:
    p = result.protocol
    lines = [f"train {p.train}  calibrate {p.calibrate}  test {p.test}", ""]
    headers = (
        "model",
        "checkpoint",
        "on-time",
        "promise d",
        "slack d",
        ">3d late",
        "P50 MAE",
        "cover",
        "width d",
        "n",
    )
    rows: list[tuple[str, ...]] = []
    for model in MODELS:
        for checkpoint in (CHECKOUT, HANDOVER):
            m = result.models.get(model, {}).get(checkpoint)
            if m is None:
                continue
            rows.append(
                (
                    model,
                    checkpoint,
                    _pct(m.on_time_rate),
                    _num(m.mean_promised_days),
                    _num(m.mean_slack_days),
                    _pct(m.share_over_3_days_late),
                    _num(m.p50_mae_days),
                    _pct(m.interval_coverage),
                    _num(m.mean_interval_width_days),
                    str(m.n_orders),
                )
            )
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    lines.append(
        "  ".join(
            h.ljust(w) if i < 2 else h.rjust(w) for i, (h, w) in enumerate(zip(headers, widths, strict=True))
        )
    )
    for row in rows:
        lines.append(
            "  ".join(
                c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    counts = ", ".join(f"{k} {v}" for k, v in result.counts.items())
    lines += ["", counts, f"runtime {runtime:.1f}s"]
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def read_history_csv(path: Path) -> list[ShipmentHistory]:
    """Past shipments from a CSV export with the `HISTORY_COLUMNS` header."""
    records: list[ShipmentHistory] = []
    with path.open(encoding="utf-8-sig", newline="") as stream:
        reader = csv.DictReader(stream)
        missing = [c for c in HISTORY_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise ValueError(f"{path}: missing columns {', '.join(missing)}")
        for line, row in enumerate(reader, start=2):
            try:
                ctx = LaneContext(
                    seller_id=row["seller_id"],
                    origin_country=row["origin_country"],
                    origin_region=row["origin_region"],
                    destination_country=row["destination_country"],
                    destination_region=row["destination_region"],
                    destination_postal_code=row["destination_postal_code"],
                    carrier=row["carrier"],
                    service=row["service"],
                )
                records.append(
                    ShipmentHistory(
                        ctx,
                        date.fromisoformat(row["placed_on"]),
                        date.fromisoformat(row["handed_over_on"]) if row["handed_over_on"] else None,
                        date.fromisoformat(row["delivered_on"]) if row["delivered_on"] else None,
                    )
                )
            except ValueError as exc:
                raise ValueError(f"{path}:{line}: {exc}") from None
    return records


@app.command("fit")
def fit_command(
    csv_path: Annotated[
        Path | None, typer.Option("--csv", help="CSV export of past shipments (see docs/edd.md).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write the model JSON here instead of storing it (with --csv: offline)."),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Date the export describes (offline fits; default: its latest)."),
    ] = None,
) -> None:
    """Refit the delivery estimates from the service's own shipments (and an export), and store them.

    Learns from delivered shipments and those still moving, plus a CSV export of past orders when
    given; running services switch to the stored model. With --csv and --out the export alone is
    fitted and written to a file, without a database."""
    from ordertrail.adapters.calendars import HolidayCalendars

    records: list[ShipmentHistory] = []
    if csv_path is not None:
        try:
            records = read_history_csv(csv_path)
        except (OSError, ValueError) as exc:
            typer.echo(f"Cannot read {csv_path}: {exc}", err=True)
            raise typer.Exit(2) from None
    if csv_path is not None and out is not None:
        if not records:
            typer.echo("No shipments in the export; nothing to fit.", err=True)
            raise typer.Exit(1)
        latest = max(
            d for r in records for d in (r.placed_on, r.handed_over_on, r.delivered_on) if d is not None
        )
        try:
            cutoff = date.fromisoformat(as_of) if as_of else latest
        except ValueError:
            raise typer.BadParameter(
                f"{as_of!r} is not a date like 2026-11-27", param_hint="--as-of"
            ) from None
        records = [k for r in records if (k := r.as_known_on(cutoff)) is not None]
        _write_model(fit_from_records(records, cutoff, HolidayCalendars()).to_dict(), out)
        typer.echo(f"Fitted on {len(records)} shipments as of {cutoff.isoformat()}; wrote {out}")
        return
    if as_of is not None:
        raise typer.BadParameter(
            "only for an offline fit of an export (--csv with --out)", param_hint="--as-of"
        )
    _fit_service_history(records, out)


def _fit_service_history(exported: list[ShipmentHistory], out: Path | None) -> None:
    """Fit on the service's shipments: stored and in use, or with `out` only written there."""
    from ordertrail.entrypoints.cli import _container
    from ordertrail.services.eta_learning import learn, refit

    container = _container()
    try:
        deps = container.deps
        if out is None:
            report = refit(deps, deps.clock(), exported)
        else:
            learned = learn(deps, deps.clock(), exported)
            report = learned[1] if learned else None
            if learned is not None:
                _write_model(learned[0], out)
    finally:
        container.close()
    if report is None:
        typer.echo("No shipments to learn from yet; the configured defaults stay in use.", err=True)
        raise typer.Exit(1)
    fitted = (
        f"Fitted on {report.shipments} shipments ({report.delivered} delivered, {report.from_export} from "
        f"the export) as of {report.as_of.isoformat()}"
    )
    if out is None:
        typer.echo(f"{fitted}; model {report.model_id} is in use")
    else:
        typer.echo(f"{fitted}; wrote {out} (the service's model is unchanged)")


def _write_model(data: dict[str, object], out: Path) -> None:
    if out.is_dir():
        raise typer.BadParameter(
            f"{out} is a directory; give a file name such as {out / 'model.json'}", param_hint="--out"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(json.dumps(data, separators=(",", ":")))
    tmp.replace(out)  # a reader never sees a half-written model
