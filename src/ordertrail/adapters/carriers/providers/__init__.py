"""Native webhook parsers and signature checks for the tracking aggregators ordertrail accepts
(`POST /v1/webhooks/inbound/{provider}`, API.md "Carrier events").

Each provider module has the same three parts, like karrio's connectors: a code table (provider
status and sub-status to `ShipmentStatus` and a substatus reason), a pure parser (bytes to
`ParsedWebhook`, raising only `PayloadError`), and a signature check that does no I/O. Import
`PROVIDERS` and look a provider up by the name used in the URL.
"""

from __future__ import annotations

from ordertrail.adapters.carriers.providers import aftership, easypost, seventeentrack, shippo
from ordertrail.adapters.carriers.providers.base import ParsedWebhook, PayloadError, Provider

PROVIDERS: dict[str, Provider] = {
    provider.name: provider
    for provider in (easypost.PROVIDER, aftership.PROVIDER, seventeentrack.PROVIDER, shippo.PROVIDER)
}

__all__ = ["PROVIDERS", "ParsedWebhook", "PayloadError", "Provider"]
