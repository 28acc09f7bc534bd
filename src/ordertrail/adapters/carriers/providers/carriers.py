"""Provider carrier names to ordertrail's carrier slugs (the slugs of `domain/carrier_table.py`).

EasyPost says "FedEx" or "DHLExpress", AfterShip "canada-post", Shippo "canada_post": after case and
punctuation are folded away they are the same names, so one table serves the three. 17TRACK uses
numbers and has its own table in `seventeentrack.py`. A name not listed gives None: a wrong slug
would send buyers to the wrong carrier's tracking page, a missing one only hides the link.
"""

from __future__ import annotations

import re

_NAMES: dict[str, str] = {}
for _slug, _names in {
    "ups": "ups upsmailinnovations upssurepost upsiparcel upsground",
    "usps": "usps uspostalservice",
    "fedex": "fedex fedexground fedexsmartpost fedexexpress fedexuk",
    "dhl": "dhl dhlexpress",  # DHL eCommerce and DHL Paket are other networks with other numbers
    "amazon": "amazon amazonmws amazonshipping amazonlogistics swiship",
    "canadapost": "canadapost postescanada",
    "canpar": "canpar canparexpress",
    "dpd": "dpd dpduk dpdde dpdfr dpdpl",
    "gofo": "gofo",
    "landmark": "landmark landmarkglobal",
    "lasership": "lasership",
    "old_dominion": "olddominion",
    "ontrac": "ontrac",
    "purolator": "purolator",
    "speedee": "speedee speedeedelivery",
    "yodel": "yodel",
    "yunexpress": "yunexpress",
    "royal_mail": "royalmail",
    "deutsche_post": "deutschepost deutschpost",
    "la_poste": "laposte lapostecolissimo colissimo",
    "poste_italiane": "posteitaliane",
    "correos": "correos correoses spaincorreoses",
    "ctt": "ctt portugalctt",
    "postnl": "postnl postnl3s postnlinternational",
    "bpost": "bpost",
    "swiss_post": "swisspost",
    "austrian_post": "austrianpost",
    "an_post": "anpost",
    "postnord_se": "swedenposten postnordse",
    "postnord_dk": "danmarkpost postnorddk",
    "posten_norge": "postennorge",
    "posti": "posti finlandposti",
    "poczta_polska": "pocztapolska",
    "russian_post": "russianpost",
    "ptt": "ptt pttposta",
    "china_post": "chinapost chinaems",
    "hongkong_post": "hongkongpost",
    "japan_post": "japanpost",
    "korea_post": "koreapost",
    "singpost": "singpost singaporepost",
    "india_post": "indiapost",
    "thailand_post": "thailandpost",
    "australia_post": "australiapost auspost",
    "nz_post": "nzpost newzealandpost",
    "correios": "correios brazilcorreios",
    "correos_mexico": "correosmexico correosdemexico mexicopost",
}.items():
    for _name in _names.split():
        _NAMES[_name] = _slug


def slug_for(name: str | None) -> str | None:
    """The ordertrail slug for a provider's carrier name, or None when it is not one we know."""
    if not name:
        return None
    return _NAMES.get(re.sub(r"[^a-z0-9]", "", name.lower()))
