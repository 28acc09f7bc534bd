"""Personal data taken out of carrier text before anyone without an account reads it.

Carriers write scan descriptions for the shipper, not for the public: "Delivered, signed by J SOUZA",
"Left with neighbour at 742 Evergreen Terrace", "Call 217 555 0199". The public tracking view keeps
what a scan says about the parcel and replaces what it says about people: the order's own name,
street, phone and e-mail wherever they appear, and any name after "signed by", "received by" or
"left with", any e-mail address and anything shaped like a phone number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

HIDDEN = "[hidden]"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Digits in groups as phone numbers are written, eight or more of them (see _phone): a date
# (2026-11-27), a time or a postal code is not one.
_PHONE = re.compile(
    r"(?<![\w-])\+?(?:\(?\d{1,4}\)?[\s.-]?)?\d{2,4}[\s.-]?\d{3,4}(?:[\s.-]?\d{3,4})?(?![\w-])"
)
_PHONE_DIGITS = 8
_RECIPIENT = re.compile(
    r"(?i)\b(signed(?:\s+for)?\s+by|received\s+by|left\s+with|accepted\s+by"
    r"|(?:signature|signer|signed|recipient)\s*:)\s*[^,.;()\n]+"
)
# Name parts shorter than this would hide ordinary words ("Al", "Li" are also in place names).
_MIN_PART = 3


def personal_terms(names: Iterable[str | None], others: Iterable[str | None] = ()) -> list[str]:
    """What to hide: each name whole and each part of it long enough not to be a common fragment
    ("SOUZA" in "A SOUZA"), and the other values (a street, a phone) whole; longest first."""
    terms: set[str] = set()
    for name in names:
        name = (name or "").strip()
        if name:
            terms.add(name)
            terms.update(part for part in re.findall(r"[^\W\d_]+", name) if len(part) >= _MIN_PART)
    terms.update(value.strip() for value in others if value and value.strip())
    return sorted(terms, key=len, reverse=True)


def redact(text: str, terms: Iterable[str]) -> str:
    """`text` with the given terms (case-insensitive, whole words) and anything that reads as a
    recipient's name, an e-mail address or a phone number replaced by HIDDEN."""
    if not text:
        return text
    out = _EMAIL.sub(HIDDEN, text)
    out = _RECIPIENT.sub(lambda m: f"{m.group(1)} {HIDDEN}", out)
    for term in terms:
        out = re.sub(rf"(?i)(?<!\w){re.escape(term)}(?!\w)", HIDDEN, out)
    return _PHONE.sub(_phone, out)


def _phone(match: re.Match[str]) -> str:
    text = match.group(0)
    return HIDDEN if sum(c.isdigit() for c in text) >= _PHONE_DIGITS else text
