"""Loads the carrier directory from the tracking-number specs shipped as package data."""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from ordertrail.domain.carrier_table import CARRIERS
from ordertrail.domain.carriers import CarrierDirectory

_DATA_DIR = "tracking_number_data"


def load_tracking_number_specs() -> dict[str, dict[str, Any]]:
    """Each courier's parsed JSON, keyed by its file name, which is the carrier slug."""
    folder = resources.files("ordertrail.adapters.carriers").joinpath(_DATA_DIR)
    files = sorted(
        (entry for entry in folder.iterdir() if entry.name.endswith(".json")), key=lambda e: e.name
    )
    return {
        entry.name.removesuffix(".json"): json.loads(entry.read_text(encoding="utf-8")) for entry in files
    }


@functools.cache
def load_carrier_directory() -> CarrierDirectory:
    # Cached: compiling ~40 formats takes milliseconds, and the directory is read-only afterwards.
    return CarrierDirectory(load_tracking_number_specs(), CARRIERS)
