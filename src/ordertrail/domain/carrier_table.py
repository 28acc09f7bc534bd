"""The carriers ordertrail knows: couriers of the tracking_number_data set, national posts that
issue UPU S10 numbers, a fallback post, and the demo's simulated carrier.

Delivery weekdays are the carrier's regular residential delivery days (Saturday where it delivers
on Saturdays as a matter of course, not as a paid option).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ordertrail.domain.carriers import Carrier
from ordertrail.domain.tracking_numbers import DEFAULT_S10_FALLBACK

MON_FRI = frozenset(range(5))
MON_SAT = frozenset(range(6))
EVERY_DAY = frozenset(range(7))

# Posts without a per-item tracking URL we could rely on link to 17TRACK's universal tracker, which
# follows any UPU S10 number (and is one of the providers ordertrail ingests events from).
UNIVERSAL_TRACKER = "https://t.17track.net/en#nums={number}"

S10_HINT = "2 letters + 9 digits + the 2-letter country code (e.g. RB123456785GB)"


def _carrier(
    slug: str,
    name: str,
    url: str,
    tz: str,
    country: str | None,
    weekdays: frozenset[int],
    number_format: str | None = None,
) -> Carrier:
    return Carrier(slug, name, url, tz, country, weekdays, country, number_format=number_format)


def _post(slug: str, name: str, country: str, tz: str, weekdays: frozenset[int], url: str) -> Carrier:
    return Carrier(slug, name, url, tz, country, weekdays, country, upu_post=True, number_format=S10_HINT)


COURIERS: tuple[Carrier, ...] = (
    _carrier(
        "ups",
        "UPS",
        "https://www.ups.com/track?tracknum={number}",
        "America/New_York",
        "US",
        MON_SAT,
        "1Z + 16 letters or digits (e.g. 1Z5R89390357567127), or a waybill: A, H, J, K, T or V + 10 digits"
        " (e.g. K1506235620)",
    ),
    Carrier(
        "usps",
        "USPS",
        "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}",
        "America/New_York",
        "US",
        MON_SAT,
        "US",
        upu_post=True,
        number_format="20 to 34 digits, e.g. 9400111206206406260787 (often with 420 + ZIP code in front),"
        " or an international item number such as RB123456785US",
    ),
    _carrier(
        "fedex",
        "FedEx",
        "https://www.fedex.com/fedextrack/?trknbr={number}",
        "America/Chicago",
        "US",
        MON_SAT,
        "12 digits (e.g. 986578788855), 15 digits (Ground), or 18, 22, 32 or 34 digits from a barcode",
    ),
    _carrier(
        "dhl",
        "DHL Express",
        "https://www.dhl.com/global-en/home/tracking/tracking-express.html?submit=1&tracking-id={number}",
        "Europe/Berlin",
        "DE",
        MON_FRI,
        "10 or 11 digits (e.g. 3318810025), a piece ID such as JJD0099999999, an eCommerce number such as"
        " GM2951173225174494, or 14 digits",
    ),
    _carrier(
        "amazon",
        "Amazon Logistics",
        "https://track.amazon.com/tracking/{number}",
        "America/Los_Angeles",
        "US",
        EVERY_DAY,
        "TBA, TBC or TBM + 12 digits (e.g. TBA000000000000), or A, C or F + 10 digits",
    ),
    Carrier(
        "canadapost",
        "Canada Post",
        "https://www.canadapost-postescanada.ca/track-reperage/en#/search?searchFor={number}",
        "America/Toronto",
        "CA",
        MON_FRI,
        "CA",
        upu_post=True,
        number_format="16 digits (e.g. 0073938000549297), or an international item number such as"
        " RB123456785CA",
    ),
    _carrier(
        "canpar",
        "Canpar Express",
        "https://www.canpar.com/en/track/tracking.jsp?reference={number}&locale=en",
        "America/Toronto",
        "CA",
        MON_FRI,
    ),
    # The data set's DPD formats are DPD Germany's label specification (country code 276 = DE).
    _carrier(
        "dpd",
        "DPD",
        "https://www.dpdgroup.com/nl/mydpd/my-parcels/track?lang=en&parcelNumber={number}",
        "Europe/Berlin",
        "DE",
        MON_FRI,
        "14 digits + a check character (e.g. 09980000020033F), or 27 digits + a check character",
    ),
    _carrier(
        "gofo",
        "GOFO Express",
        "https://www.gofoexpress.com/tracking.html?searchID={number}",
        "America/Los_Angeles",
        "US",
        MON_SAT,
    ),
    _carrier(
        "landmark",
        "Landmark Global",
        "https://track.landmarkglobal.com/?search={number}",
        "Europe/Brussels",
        "BE",
        MON_FRI,
    ),
    # LaserShip merged into OnTrac (2023); its numbers are tracked on OnTrac's site.
    _carrier(
        "lasership",
        "LaserShip",
        "https://www.ontrac.com/tracking/?number={number}",
        "America/New_York",
        "US",
        EVERY_DAY,
    ),
    _carrier(
        "old_dominion",
        "Old Dominion Freight Line",
        "https://www.odfl.com/us/en/tools/trace-track-ltl-freight/trace.html?proNumbers={number}",
        "America/New_York",
        "US",
        MON_FRI,
    ),
    _carrier(
        "ontrac",
        "OnTrac",
        "https://www.ontrac.com/tracking/?number={number}",
        "America/Los_Angeles",
        "US",
        MON_SAT,
        "C or D + 14 digits (e.g. C11031500001879)",
    ),
    _carrier(
        "purolator",
        "Purolator",
        "https://www.purolator.com/en/shipping/tracker?searchValue={number}",
        "America/Toronto",
        "CA",
        MON_FRI,
        "12 digits (e.g. 320595463938) or 3 letters + 9 digits (e.g. KYV009956937)",
    ),
    _carrier(
        "speedee",
        "Spee-Dee Delivery",
        "https://www.speedeedelivery.com/track/?tracking={number}",
        "America/Chicago",
        "US",
        MON_FRI,
    ),
    _carrier(
        "yodel",
        "Yodel",
        "https://www.yodel.co.uk/tracking/{number}",
        "Europe/London",
        "GB",
        MON_SAT,
    ),
    # A cross-border shipper: the last mile is handed to a local carrier, so it has no delivery country.
    _carrier(
        "yunexpress",
        "YunExpress",
        "https://www.yuntrack.com/parcelTracking?id={number}",
        "Asia/Shanghai",
        None,
        MON_SAT,
    ),
)

POSTS: tuple[Carrier, ...] = (
    _post(
        "royal_mail",
        "Royal Mail",
        "GB",
        "Europe/London",
        MON_SAT,
        "https://www.royalmail.com/track-your-item#/tracking-results/{number}",
    ),
    _post(
        "deutsche_post",
        "Deutsche Post",
        "DE",
        "Europe/Berlin",
        MON_SAT,
        "https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?piececode={number}",
    ),
    _post(
        "la_poste",
        "La Poste",
        "FR",
        "Europe/Paris",
        MON_SAT,
        "https://www.laposte.fr/outils/suivre-vos-envois?code={number}",
    ),
    _post(
        "poste_italiane",
        "Poste Italiane",
        "IT",
        "Europe/Rome",
        MON_FRI,
        "https://www.poste.it/cerca/index.html#/risultati-spedizioni/{number}",
    ),
    _post("correos", "Correos", "ES", "Europe/Madrid", MON_FRI, UNIVERSAL_TRACKER),
    _post("ctt", "CTT Correios de Portugal", "PT", "Europe/Lisbon", MON_FRI, UNIVERSAL_TRACKER),
    _post("postnl", "PostNL", "NL", "Europe/Amsterdam", MON_SAT, UNIVERSAL_TRACKER),
    _post(
        "bpost",
        "bpost",
        "BE",
        "Europe/Brussels",
        MON_SAT,
        "https://track.bpost.cloud/btr/web/#/search?itemCode={number}&lang=en",
    ),
    _post("swiss_post", "Swiss Post", "CH", "Europe/Zurich", MON_SAT, UNIVERSAL_TRACKER),
    _post("austrian_post", "Austrian Post", "AT", "Europe/Vienna", MON_FRI, UNIVERSAL_TRACKER),
    _post(
        "an_post",
        "An Post",
        "IE",
        "Europe/Dublin",
        MON_SAT,
        "https://www.anpost.com/Post-Parcels/Track/History?item={number}",
    ),
    _post(
        "postnord_se",
        "PostNord Sweden",
        "SE",
        "Europe/Stockholm",
        MON_FRI,
        "https://www.postnord.se/en/our-tools/track-and-trace?shipmentId={number}",
    ),
    _post(
        "postnord_dk",
        "PostNord Denmark",
        "DK",
        "Europe/Copenhagen",
        MON_FRI,
        "https://www.postnord.dk/en/track-and-trace?shipmentId={number}",
    ),
    _post(
        "posten_norge",
        "Posten Norge",
        "NO",
        "Europe/Oslo",
        MON_FRI,
        "https://sporing.posten.no/sporing/{number}",
    ),
    _post("posti", "Posti", "FI", "Europe/Helsinki", MON_FRI, UNIVERSAL_TRACKER),
    _post(
        "poczta_polska",
        "Poczta Polska",
        "PL",
        "Europe/Warsaw",
        MON_FRI,
        "https://emonitoring.poczta-polska.pl/?numer={number}",
    ),
    _post(
        "russian_post",
        "Russian Post",
        "RU",
        "Europe/Moscow",
        MON_SAT,
        "https://www.pochta.ru/tracking?barcode={number}",
    ),
    _post("ptt", "PTT (Turkish Post)", "TR", "Europe/Istanbul", MON_SAT, UNIVERSAL_TRACKER),
    _post("china_post", "China Post", "CN", "Asia/Shanghai", EVERY_DAY, UNIVERSAL_TRACKER),
    _post("hongkong_post", "Hongkong Post", "HK", "Asia/Hong_Kong", MON_SAT, UNIVERSAL_TRACKER),
    _post(
        "japan_post",
        "Japan Post",
        "JP",
        "Asia/Tokyo",
        MON_SAT,
        "https://trackings.post.japanpost.jp/services/srv/search/direct?reqCodeNo1={number}&locale=en",
    ),
    _post("korea_post", "Korea Post", "KR", "Asia/Seoul", MON_FRI, UNIVERSAL_TRACKER),
    _post("singpost", "SingPost", "SG", "Asia/Singapore", MON_SAT, UNIVERSAL_TRACKER),
    _post("india_post", "India Post", "IN", "Asia/Kolkata", MON_SAT, UNIVERSAL_TRACKER),
    _post(
        "thailand_post",
        "Thailand Post",
        "TH",
        "Asia/Bangkok",
        MON_SAT,
        "https://track.thailandpost.co.th/?trackNumber={number}",
    ),
    _post(
        "australia_post",
        "Australia Post",
        "AU",
        "Australia/Sydney",
        MON_FRI,
        "https://auspost.com.au/mypost/track/#/details/{number}",
    ),
    _post(
        "nz_post",
        "NZ Post",
        "NZ",
        "Pacific/Auckland",
        MON_FRI,
        "https://www.nzpost.co.nz/tools/tracking/item/{number}",
    ),
    _post("correios", "Correios", "BR", "America/Sao_Paulo", MON_FRI, UNIVERSAL_TRACKER),
    _post("correos_mexico", "Correos de México", "MX", "America/Mexico_City", MON_FRI, UNIVERSAL_TRACKER),
)

# S10 numbers from a country without a post of its own above; the number keeps its country code.
S10_POST = Carrier(
    DEFAULT_S10_FALLBACK,
    "National post (UPU S10)",
    UNIVERSAL_TRACKER,
    "UTC",
    None,
    MON_FRI,
    None,
    number_format=S10_HINT,
)

# The demo's carrier simulator. Its numbers have no check digit; its tracking page is our own.
SIMULATED_SPEC: Mapping[str, Any] = {
    "name": "Simulated carrier",
    "courier_code": "simulated",
    "tracking_numbers": [
        {
            "name": "Simulated",
            "id": "simulated",
            "regex": "SIM(?<SerialNumber>[0-9]{10})",
            "validation": {},
            "test_numbers": {"valid": ["SIM0123456789"], "invalid": ["SIM012345678"]},
        }
    ],
}
SIMULATED = Carrier(
    "simulated",
    "Simulated carrier",
    "/track/{number}",
    "UTC",
    None,
    MON_SAT,
    None,
    number_format="SIM + 10 digits (e.g. SIM0123456789)",
    number_spec=SIMULATED_SPEC,
)

CARRIERS: tuple[Carrier, ...] = (*COURIERS, *POSTS, S10_POST, SIMULATED)
