"""Inbound webhook signature checks for each provider (API.md: a bad or missing signature is a 401)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from ordertrail.adapters.carriers.providers import PROVIDERS, aftership, easypost, seventeentrack, shippo

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
SECRET = "whsec_s3cr3t"
BODY = b'{"event":"x","data":{"number":"1Z999AA10123456784"}}'


def _signed_at(ts: datetime) -> Callable[[bytes, str], str]:
    return lambda body, secret: shippo.sign(body, secret, int(ts.timestamp()))


SIGNERS: dict[str, Callable[[bytes, str], str]] = {
    "easypost": easypost.sign,
    "aftership": aftership.sign,
    "17track": seventeentrack.sign,
    "shippo": _signed_at(NOW),
}


def headers_for(provider: str, body: bytes = BODY, secret: str = SECRET) -> dict[str, str]:
    return {PROVIDERS[provider].signature_header: SIGNERS[provider](body, secret)}


def verify(provider: str, headers: dict[str, str], body: bytes = BODY, secret: str = SECRET) -> bool:
    return PROVIDERS[provider].verify(headers, body, secret, NOW)


@pytest.mark.parametrize("provider", sorted(SIGNERS))
def test_a_correctly_signed_body_is_accepted(provider: str) -> None:
    assert verify(provider, headers_for(provider))


@pytest.mark.parametrize("provider", sorted(SIGNERS))
def test_a_tampered_body_is_refused(provider: str) -> None:
    assert not verify(provider, headers_for(provider), body=BODY.replace(b"784", b"785"))


@pytest.mark.parametrize("provider", sorted(SIGNERS))
def test_a_signature_made_with_another_secret_is_refused(provider: str) -> None:
    assert not verify(provider, headers_for(provider, secret="someone-else"))


@pytest.mark.parametrize("provider", sorted(SIGNERS))
def test_a_missing_signature_header_is_refused(provider: str) -> None:
    assert not verify(provider, {"Content-Type": "application/json"})


@pytest.mark.parametrize("provider", sorted(SIGNERS))
def test_an_empty_configured_secret_accepts_nothing(provider: str) -> None:
    assert not verify(provider, headers_for(provider, secret=""), secret="")


@pytest.mark.parametrize("provider", sorted(SIGNERS))
def test_the_signature_header_is_found_whatever_its_case(provider: str) -> None:
    ((name, value),) = headers_for(provider).items()
    assert verify(provider, {name.upper(): value})
    assert verify(provider, {name.lower(): value})


@pytest.mark.parametrize("provider", sorted(SIGNERS))
def test_garbage_in_the_signature_header_is_refused_not_raised(provider: str) -> None:
    name = PROVIDERS[provider].signature_header
    for junk in ("", "   ", "not-a-signature", "t=,v1=", "hmac-sha256-hex=", "é" * 10, "===="):
        assert not verify(provider, {name: junk})


def test_easypost_signs_with_the_nfkd_form_of_the_secret() -> None:
    composed = "s\u00e9cret"  # é as one code point (NFC), as most keyboards type it
    decomposed = "se\u0301cret"  # e + combining acute (NFKD)
    header = {"X-Hmac-Signature": easypost.sign(BODY, decomposed)}
    assert verify("easypost", header, secret=composed)
    expected = hmac.new(decomposed.encode(), BODY, hashlib.sha256).hexdigest()
    assert easypost.sign(BODY, composed) == f"hmac-sha256-hex={expected}"


def test_aftership_signature_is_base64_of_the_hmac_of_the_raw_body() -> None:
    digest = hmac.new(SECRET.encode(), BODY, hashlib.sha256).digest()
    assert verify("aftership", {"aftership-hmac-sha256": base64.b64encode(digest).decode()})
    assert not verify("aftership", {"aftership-hmac-sha256": digest.hex()})


def test_17track_signature_is_sha256_of_body_slash_key_and_not_an_hmac() -> None:
    expected = hashlib.sha256(BODY + b"/" + SECRET.encode()).hexdigest()
    assert verify("17track", {"sign": expected})
    assert verify("17track", {"sign": expected.upper()})
    assert not verify("17track", {"sign": hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()})


def test_shippo_signature_covers_the_timestamp_and_the_body() -> None:
    ts = int(NOW.timestamp())
    digest = hmac.new(SECRET.encode(), f"{ts}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert verify("shippo", {"Shippo-Auth-Signature": f"t={ts},v1={digest}"})
    # The same digest presented with another timestamp no longer matches.
    assert not verify("shippo", {"Shippo-Auth-Signature": f"t={ts + 1},v1={digest}"})


@pytest.mark.parametrize("age", [timedelta(seconds=301), timedelta(hours=6), timedelta(seconds=-301)])
def test_shippo_refuses_a_timestamp_outside_the_tolerance(age: timedelta) -> None:
    header = {"Shippo-Auth-Signature": _signed_at(NOW - age)(BODY, SECRET)}
    assert not verify("shippo", header)


@pytest.mark.parametrize("age", [timedelta(0), timedelta(seconds=299), timedelta(seconds=-299)])
def test_shippo_accepts_a_timestamp_within_the_tolerance(age: timedelta) -> None:
    assert verify("shippo", {"Shippo-Auth-Signature": _signed_at(NOW - age)(BODY, SECRET)})


def test_shippo_tolerance_can_be_tightened() -> None:
    header = {"Shippo-Auth-Signature": _signed_at(NOW - timedelta(seconds=90))(BODY, SECRET)}
    assert shippo.verify(header, BODY, SECRET, NOW)
    assert not shippo.verify(header, BODY, SECRET, NOW, tolerance=timedelta(seconds=60))


def test_shippo_accepts_any_of_several_v1_signatures_during_a_secret_rotation() -> None:
    ts = int(NOW.timestamp())
    good = shippo.sign(BODY, SECRET, ts).rpartition("v1=")[2]
    header = {"Shippo-Auth-Signature": f"t={ts},v1={'0' * 64},v1={good}"}
    assert verify("shippo", header)


def test_shippo_refuses_a_signature_without_its_timestamp() -> None:
    good = shippo.sign(BODY, SECRET, int(NOW.timestamp())).rpartition("v1=")[2]
    assert not verify("shippo", {"Shippo-Auth-Signature": f"v1={good}"})


def test_shippo_needs_an_aware_now_to_judge_staleness() -> None:
    header = headers_for("shippo")
    with pytest.raises(ValueError, match="timezone-aware"):
        shippo.verify(header, BODY, SECRET, NOW.replace(tzinfo=None))


def test_the_registry_serves_the_four_providers_under_their_url_names() -> None:
    assert sorted(PROVIDERS) == ["17track", "aftership", "easypost", "shippo"]
    assert {p.signature_header for p in PROVIDERS.values()} == {
        "X-Hmac-Signature",
        "aftership-hmac-sha256",
        "sign",
        "Shippo-Auth-Signature",
    }
