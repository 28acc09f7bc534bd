"""Check-digit algorithms used by carrier tracking numbers.

Each function computes the check character a serial number *should* carry, so a caller compares it
with the one printed on the label. The algorithms follow CHECKSUM_ALGORITHMS.md of
jkeen/tracking_number_data (the reference Ruby implementation), quirks included, because the test
vectors in that data set were generated with exactly these rules:

- `mod10` maps a letter to `(ord(letter) - 3) % 10` (UPS serials contain letters) and counts
  positions from 0, so `evens_multiplier` applies to the first, third, ... character (after the
  optional reversal).
- `s10` turns remainder 0 into 5 and remainder 1 into 0, as the UPU S10 standard specifies.
- `mod_37_36` is ISO 7064 MOD 37,36 as DPD uses it: the check character may be a letter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

_ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


def _digit_value(char: str) -> int:
    if char.isdigit():
        return int(char)
    # Not a base-10 value: UPS's own mapping of letters onto digits (A→2, B→3, ... J→1, K→2).
    return (ord(char) - 3) % 10


def mod10(serial: str, *, evens_multiplier: int = 1, odds_multiplier: int = 1, reverse: bool = False) -> str:
    chars = serial[::-1] if reverse else serial
    total = 0
    for index, char in enumerate(chars):
        total += _digit_value(char) * (evens_multiplier if index % 2 == 0 else odds_multiplier)
    return str((10 - total % 10) % 10)


def mod7(serial: str) -> str:
    return str(int(serial) % 7)


def luhn(serial: str) -> str:
    total = 0
    # The digit next to the check digit is doubled, so count from the right.
    for index, char in enumerate(reversed(serial)):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


def s10(serial: str, *, weightings: Sequence[int] = _S10_WEIGHTS, modulo: int = 11) -> str:
    total = sum(int(char) * weight for char, weight in zip(serial, weightings, strict=False))
    remainder = total % modulo
    if remainder == 0:
        return "5"
    if remainder == 1:
        return "0"
    return str(modulo - remainder)


def sum_product_with_weightings_and_modulo(
    serial: str, *, weightings: Sequence[int], modulo1: int, modulo2: int
) -> str:
    # Like the reference, weights are paired with the leading characters; the formats that use this
    # algorithm have exactly as many weights as serial digits.
    total = sum(int(char) * weight for char, weight in zip(serial, weightings, strict=False))
    return str(total % modulo1 % modulo2)


def mod_37_36(serial: str, *, modulo: int = 36, alphabet: str = _ALPHANUMERIC) -> str:
    check = modulo
    for char in serial:
        check += alphabet.index(char)
        if check > modulo:
            check -= modulo
        check *= 2
        if check > modulo:
            check -= modulo + 1
    check = (modulo + 1 - check) % modulo
    return alphabet[check]


CheckFunction = Callable[[str], str]


def _with(func: Callable[..., str], **kwargs: Any) -> CheckFunction:
    return lambda serial: func(serial, **kwargs)


def check_function(spec: Mapping[str, Any]) -> CheckFunction:
    """The check-digit function a `validation.checksum` spec describes, parameters bound.

    Raises ValueError for an algorithm this module does not know, so new data fails loudly at load
    time instead of accepting every number.
    """
    name = spec.get("name")
    if name == "mod10":
        return _with(
            mod10,
            evens_multiplier=int(spec.get("evens_multiplier", 1)),
            odds_multiplier=int(spec.get("odds_multiplier", 1)),
            reverse=bool(spec.get("reverse", False)),
        )
    if name == "mod7":
        return mod7
    if name == "luhn":
        return luhn
    if name == "s10":
        return _with(
            s10,
            weightings=tuple(spec.get("weightings", _S10_WEIGHTS)),
            modulo=int(spec.get("modulo", 11)),
        )
    if name == "sum_product_with_weightings_and_modulo":
        return _with(
            sum_product_with_weightings_and_modulo,
            weightings=tuple(spec["weightings"]),
            modulo1=int(spec["modulo1"]),
            modulo2=int(spec["modulo2"]),
        )
    if name == "mod_37_36":
        return _with(
            mod_37_36,
            modulo=int(spec.get("modulo", 36)),
            alphabet=str(spec.get("alphabet", _ALPHANUMERIC)),
        )
    raise ValueError(f"unknown check-digit algorithm {name!r}")
