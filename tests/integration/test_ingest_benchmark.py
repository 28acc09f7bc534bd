"""`python -m benchmarks.ingest`, the figure issue 2 asks for, run end to end on a small marketplace."""

from __future__ import annotations

import pytest
from benchmarks.ingest import main

pytestmark = pytest.mark.slow


def test_repeated_runs_each_post_every_event_and_print_their_ratios_and_median(
    capsys: pytest.CaptureFixture[str],
) -> None:
    results = main(
        ["--shipments", "150", "--batch", "100", "--api-processes", "1", "--clients", "2", "--repeat", "2"]
    )
    out = capsys.readouterr().out
    runs = results["sqlite"]["runs"]
    assert len(runs) == 2 and all(r["events"] == 300 for r in runs)  # main stops unless all were stored
    assert all(0 < r["ratio"] < 1 and r["events_per_s"] > 0 and r["ceiling_per_s"] > 0 for r in runs)
    lines = [line for line in out.splitlines() if "events/s over HTTP" in line]
    assert len(lines) == 2
    ratios = sorted(r["ratio"] for r in runs)
    assert results["sqlite"]["median_ratio"] == pytest.approx(sum(ratios) / 2)
    assert f"median ratio {sum(ratios) / 2:.1%} of 2 runs" in out
