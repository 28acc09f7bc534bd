"""Typed amounts on the pages (domain.money.parse_amount)."""

from __future__ import annotations

import pytest

from ordertrail.domain.money import parse_amount


@pytest.mark.parametrize(("text", "minor"), [("12.5", 1250), ("12.50", 1250), (" 7 ", 700), ("0.01", 1)])
def test_amounts_in_major_units_become_minor_units(text: str, minor: int) -> None:
    assert parse_amount(text, "USD") == minor


@pytest.mark.parametrize("text", ["²", "1²", "①", "１２", "12.5①", "12.345", "-1", "1e3", "", "9" * 13])
def test_anything_but_plain_ascii_digits_is_not_an_amount(text: str) -> None:
    """'²' and '①' pass isdigit(), and int() refused them with a ValueError: a 500 on three forms."""
    assert parse_amount(text, "USD") is None
