"""Where a scan happened, as an IANA zone, and what that means for the time a provider sent.

Providers send three kinds of time, and each needs different handling (DESIGN.md §3):

* a time with a real UTC offset (AfterShip `checkpoint_time`, 17TRACK `time_iso`): kept exactly as
  sent, `OffsetSource.EVENT`;
* a true UTC instant (EasyPost `datetime`, 17TRACK `time_utc`): the instant is kept and shown in the
  zone of the scan's place, so the wall clock is the carrier's local time;
* a local wall-clock time with no offset, or with a "Z" that is not true (Shippo `status_date`): the
  wall clock is kept and the zone attached. Converting it "from UTC" would move late-evening scans
  to the next day, which is the bug DESIGN.md warns about.

The zone comes from the scan's location: the country, and for the six countries where a wrong guess
is hours off (US, CA, BR, AU, MX, RU) the region, or else the US ZIP / Canadian postal-code prefix.
Split states take the zone most of their people live in (an hour off at worst). Elsewhere a country
means the zone of most of its people. Failing that, the carrier's home zone, but only when the scan is
in the carrier's home country or names no country: UPS's New York zone says nothing about a scan in
Moscow, and a carrier whose country "varies" only lends its zone to scans with no country at all. Failing that, UTC, marked `ASSUMED_UTC` so nobody mistakes it for knowledge.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ordertrail.domain.carrier_table import CARRIERS
from ordertrail.domain.events import Location, OffsetSource


def _pairs(text: str, sep: str) -> dict[str, str]:
    return dict(token.split(sep, 1) for token in text.split())


def _grouped(text: str) -> dict[str, str]:
    """`Zone: A B C` lines, one zone per line, to {A: Zone, B: Zone, C: Zone}."""
    out: dict[str, str] = {}
    for line in text.strip().splitlines():
        zone, codes = line.split(":", 1)
        out.update(dict.fromkeys(codes.split(), zone.strip()))
    return out


# Countries with one zone, or one zone for nearly everyone (from tzdata's zone.tab: its first zone per
# country; Ukraine and Uzbekistan take their capital's). The six large countries are in _REGIONS.
_COUNTRY = _pairs(
    """
AD=Europe/Andorra AE=Asia/Dubai AF=Asia/Kabul AG=America/Antigua AI=America/Anguilla AL=Europe/Tirane
AM=Asia/Yerevan AO=Africa/Luanda AR=America/Argentina/Buenos_Aires AS=Pacific/Pago_Pago AT=Europe/Vienna
AW=America/Aruba AX=Europe/Mariehamn AZ=Asia/Baku BA=Europe/Sarajevo BB=America/Barbados BD=Asia/Dhaka
BE=Europe/Brussels BF=Africa/Ouagadougou BG=Europe/Sofia BH=Asia/Bahrain BI=Africa/Bujumbura
BJ=Africa/Porto-Novo BL=America/St_Barthelemy BM=Atlantic/Bermuda BN=Asia/Brunei BO=America/La_Paz
BQ=America/Kralendijk BS=America/Nassau BT=Asia/Thimphu BW=Africa/Gaborone BY=Europe/Minsk
BZ=America/Belize CC=Indian/Cocos CD=Africa/Kinshasa CF=Africa/Bangui CG=Africa/Brazzaville
CH=Europe/Zurich CI=Africa/Abidjan CK=Pacific/Rarotonga CL=America/Santiago CM=Africa/Douala
CN=Asia/Shanghai CO=America/Bogota CR=America/Costa_Rica CU=America/Havana CV=Atlantic/Cape_Verde
CW=America/Curacao CX=Indian/Christmas CY=Asia/Nicosia CZ=Europe/Prague DE=Europe/Berlin
DJ=Africa/Djibouti DK=Europe/Copenhagen DM=America/Dominica DO=America/Santo_Domingo DZ=Africa/Algiers
EC=America/Guayaquil EE=Europe/Tallinn EG=Africa/Cairo EH=Africa/El_Aaiun ER=Africa/Asmara
ES=Europe/Madrid ET=Africa/Addis_Ababa FI=Europe/Helsinki FJ=Pacific/Fiji FK=Atlantic/Stanley
FM=Pacific/Chuuk FO=Atlantic/Faroe FR=Europe/Paris GA=Africa/Libreville GB=Europe/London
GD=America/Grenada GE=Asia/Tbilisi GF=America/Cayenne GG=Europe/Guernsey GH=Africa/Accra
GI=Europe/Gibraltar GL=America/Nuuk GM=Africa/Banjul GN=Africa/Conakry GP=America/Guadeloupe
GQ=Africa/Malabo GR=Europe/Athens GS=Atlantic/South_Georgia GT=America/Guatemala GU=Pacific/Guam
GW=Africa/Bissau GY=America/Guyana HK=Asia/Hong_Kong HN=America/Tegucigalpa HR=Europe/Zagreb
HT=America/Port-au-Prince HU=Europe/Budapest ID=Asia/Jakarta IE=Europe/Dublin IL=Asia/Jerusalem
IM=Europe/Isle_of_Man IN=Asia/Kolkata IO=Indian/Chagos IQ=Asia/Baghdad IR=Asia/Tehran
IS=Atlantic/Reykjavik IT=Europe/Rome JE=Europe/Jersey JM=America/Jamaica JO=Asia/Amman JP=Asia/Tokyo
KE=Africa/Nairobi KG=Asia/Bishkek KH=Asia/Phnom_Penh KI=Pacific/Tarawa KM=Indian/Comoro
KN=America/St_Kitts KP=Asia/Pyongyang KR=Asia/Seoul KW=Asia/Kuwait KY=America/Cayman KZ=Asia/Almaty
LA=Asia/Vientiane LB=Asia/Beirut LC=America/St_Lucia LI=Europe/Vaduz LK=Asia/Colombo LR=Africa/Monrovia
LS=Africa/Maseru LT=Europe/Vilnius LU=Europe/Luxembourg LV=Europe/Riga LY=Africa/Tripoli
MA=Africa/Casablanca MC=Europe/Monaco MD=Europe/Chisinau ME=Europe/Podgorica MF=America/Marigot
MG=Indian/Antananarivo MH=Pacific/Majuro MK=Europe/Skopje ML=Africa/Bamako MM=Asia/Yangon
MN=Asia/Ulaanbaatar MO=Asia/Macau MP=Pacific/Saipan MQ=America/Martinique MR=Africa/Nouakchott
MS=America/Montserrat MT=Europe/Malta MU=Indian/Mauritius MV=Indian/Maldives MW=Africa/Blantyre
MY=Asia/Kuala_Lumpur MZ=Africa/Maputo NA=Africa/Windhoek NC=Pacific/Noumea NE=Africa/Niamey
NF=Pacific/Norfolk NG=Africa/Lagos NI=America/Managua NL=Europe/Amsterdam NO=Europe/Oslo
NP=Asia/Kathmandu NR=Pacific/Nauru NU=Pacific/Niue NZ=Pacific/Auckland OM=Asia/Muscat PA=America/Panama
PE=America/Lima PF=Pacific/Tahiti PG=Pacific/Port_Moresby PH=Asia/Manila PK=Asia/Karachi
PL=Europe/Warsaw PM=America/Miquelon PN=Pacific/Pitcairn PR=America/Puerto_Rico PS=Asia/Gaza
PT=Europe/Lisbon PW=Pacific/Palau PY=America/Asuncion QA=Asia/Qatar RE=Indian/Reunion
RO=Europe/Bucharest RS=Europe/Belgrade RW=Africa/Kigali SA=Asia/Riyadh SB=Pacific/Guadalcanal
SC=Indian/Mahe SD=Africa/Khartoum SE=Europe/Stockholm SG=Asia/Singapore SH=Atlantic/St_Helena
SI=Europe/Ljubljana SJ=Arctic/Longyearbyen SK=Europe/Bratislava SL=Africa/Freetown SM=Europe/San_Marino
SN=Africa/Dakar SO=Africa/Mogadishu SR=America/Paramaribo SS=Africa/Juba ST=Africa/Sao_Tome
SV=America/El_Salvador SX=America/Lower_Princes SY=Asia/Damascus SZ=Africa/Mbabane TC=America/Grand_Turk
TD=Africa/Ndjamena TF=Indian/Kerguelen TG=Africa/Lome TH=Asia/Bangkok TJ=Asia/Dushanbe
TK=Pacific/Fakaofo TL=Asia/Dili TM=Asia/Ashgabat TN=Africa/Tunis TO=Pacific/Tongatapu TR=Europe/Istanbul
TT=America/Port_of_Spain TV=Pacific/Funafuti TW=Asia/Taipei TZ=Africa/Dar_es_Salaam UA=Europe/Kyiv
UG=Africa/Kampala UY=America/Montevideo UZ=Asia/Tashkent VA=Europe/Vatican VC=America/St_Vincent
VE=America/Caracas VG=America/Tortola VI=America/St_Thomas VN=Asia/Ho_Chi_Minh VU=Pacific/Efate
WF=Pacific/Wallis WS=Pacific/Apia YE=Asia/Aden YT=Indian/Mayotte ZA=Africa/Johannesburg ZM=Africa/Lusaka
ZW=Africa/Harare
""",
    "=",
)

# Region (ISO 3166-2 subdivision code without the country prefix) -> zone.
_REGIONS: dict[str, dict[str, str]] = {
    "US": _grouped("""
        America/New_York: CT DE DC FL GA KY ME MD MA MI NH NJ NY NC OH PA RI SC VT VA WV
        America/Indiana/Indianapolis: IN
        America/Chicago: AL AR IL IA KS LA MN MS MO NE ND OK SD TN TX WI
        America/Denver: CO MT NM UT WY
        America/Boise: ID
        America/Phoenix: AZ
        America/Los_Angeles: CA NV OR WA
        America/Anchorage: AK
        Pacific/Honolulu: HI
        America/Puerto_Rico: PR
        America/St_Thomas: VI
        Pacific/Guam: GU
        Pacific/Pago_Pago: AS
        Pacific/Saipan: MP
    """),
    "CA": _grouped("""
        America/St_Johns: NL
        America/Halifax: NS PE
        America/Moncton: NB
        America/Toronto: ON QC
        America/Winnipeg: MB
        America/Regina: SK
        America/Edmonton: AB NT
        America/Vancouver: BC
        America/Whitehorse: YT
        America/Iqaluit: NU
    """),
    "BR": _grouped("""
        America/Sao_Paulo: SP RJ MG ES PR SC RS GO DF
        America/Bahia: BA
        America/Fortaleza: CE PI MA RN PB
        America/Recife: PE
        America/Maceio: AL SE
        America/Belem: PA AP
        America/Araguaina: TO
        America/Cuiaba: MT
        America/Campo_Grande: MS
        America/Manaus: AM
        America/Porto_Velho: RO
        America/Boa_Vista: RR
        America/Rio_Branco: AC
    """),
    "AU": _grouped("""
        Australia/Sydney: NSW ACT
        Australia/Melbourne: VIC
        Australia/Brisbane: QLD
        Australia/Adelaide: SA
        Australia/Perth: WA
        Australia/Darwin: NT
        Australia/Hobart: TAS
    """),
    "MX": _grouped("""
        America/Mexico_City: AGU CHP CMX DIF COL GUA GRO HID JAL MEX MIC MOR OAX PUE QUE SLP TAB TLA VER ZAC
        America/Monterrey: COA DUR NLE TAM
        America/Merida: CAM YUC
        America/Cancun: ROO
        America/Chihuahua: CHH
        America/Mazatlan: BCS NAY SIN
        America/Hermosillo: SON
        America/Tijuana: BCN
    """),
    "RU": _grouped("""
        Europe/Kaliningrad: KGD
        Europe/Moscow: MOW SPE MOS LEN AD CE CU DA IN KB KL KC KR KO ME MO SE TA ARK BEL BRY IVA KLU KOS
        Europe/Moscow: KRS LIP MUR NIZ NGR ORL PNZ PSK ROS RYA SMO TAM TUL TVE VLA VLG VOR YAR KDA STA NEN
        Europe/Kirov: KIR
        Europe/Volgograd: VGG
        Europe/Astrakhan: AST
        Europe/Saratov: SAR
        Europe/Ulyanovsk: ULY
        Europe/Samara: SAM UD
        Asia/Yekaterinburg: SVE CHE KGN ORE PER TYU KHM YAN BA
        Asia/Omsk: OMS
        Asia/Novosibirsk: NVS
        Asia/Barnaul: ALT AL
        Asia/Tomsk: TOM
        Asia/Novokuznetsk: KEM
        Asia/Krasnoyarsk: KYA KK TY
        Asia/Irkutsk: IRK BU
        Asia/Chita: ZAB
        Asia/Yakutsk: SA AMU
        Asia/Vladivostok: PRI KHA YEV
        Asia/Magadan: MAG
        Asia/Sakhalin: SAK
        Asia/Kamchatka: KAM CHU
    """),
}

# US ZIP code 3-digit prefixes -> state, for scans that give a ZIP but no state (EasyPost does).
_US_ZIP3_RANGES = """
    NY:5,100-149 PR:6-7,9 VI:8 MA:10-27,55 RI:28-29 NH:30-38 ME:39-49 VT:50-54,56-59 CT:60-69 NJ:70-89
    PA:150-196 DE:197-199 DC:200,202-205,569 VA:201,220-246 MD:206-219 WV:247-268 NC:270-289 SC:290-299
    GA:300-319,398-399 FL:320-339,341-349 AL:350-369 TN:370-385 MS:386-397 KY:400-427 OH:430-459
    IN:460-479 MI:480-499 IA:500-528 WI:530-549 MN:550-567 SD:570-577 ND:580-588 MT:590-599 IL:600-629
    MO:630-658 KS:660-679 NE:680-693 LA:700-714 AR:716-729 OK:730-732,734-749 TX:733,750-799,885
    CO:800-816 WY:820-831 ID:832-838 UT:840-847 AZ:850-865 NM:870-884 NV:889-898 CA:900-961 HI:967-968
    GU:969 OR:970-979 WA:980-994 AK:995-999
"""
_US_ZIP3: dict[int, str] = {}
for _token in _US_ZIP3_RANGES.split():
    _state, _ranges = _token.split(":")
    for _range in _ranges.split(","):
        _lo, _, _hi = _range.partition("-")
        for _prefix in range(int(_lo), int(_hi or _lo) + 1):
            _US_ZIP3[_prefix] = _state

# Canadian postal codes: the first letter names the province.
_CA_POSTAL = _grouped("""
    NL: A
    NS: B
    PE: C
    NB: E
    QC: G H J
    ON: K L M N P
    MB: R
    SK: S
    AB: T
    BC: V
    NT: X
    YT: Y
""")

# ISO 3166-1 alpha-3 -> alpha-2 (AfterShip sends alpha-3).
_ALPHA3 = _pairs(
    """
ABW:AW AFG:AF AGO:AO AIA:AI ALA:AX ALB:AL AND:AD ARE:AE ARG:AR ARM:AM ASM:AS ATA:AQ ATF:TF ATG:AG AUS:AU
AUT:AT AZE:AZ BDI:BI BEL:BE BEN:BJ BES:BQ BFA:BF BGD:BD BGR:BG BHR:BH BHS:BS BIH:BA BLM:BL BLR:BY BLZ:BZ
BMU:BM BOL:BO BRA:BR BRB:BB BRN:BN BTN:BT BVT:BV BWA:BW CAF:CF CAN:CA CCK:CC CHE:CH CHL:CL CHN:CN CIV:CI
CMR:CM COD:CD COG:CG COK:CK COL:CO COM:KM CPV:CV CRI:CR CUB:CU CUW:CW CXR:CX CYM:KY CYP:CY CZE:CZ DEU:DE
DJI:DJ DMA:DM DNK:DK DOM:DO DZA:DZ ECU:EC EGY:EG ERI:ER ESH:EH ESP:ES EST:EE ETH:ET FIN:FI FJI:FJ FLK:FK
FRA:FR FRO:FO FSM:FM GAB:GA GBR:GB GEO:GE GGY:GG GHA:GH GIB:GI GIN:GN GLP:GP GMB:GM GNB:GW GNQ:GQ GRC:GR
GRD:GD GRL:GL GTM:GT GUF:GF GUM:GU GUY:GY HKG:HK HMD:HM HND:HN HRV:HR HTI:HT HUN:HU IDN:ID IMN:IM IND:IN
IOT:IO IRL:IE IRN:IR IRQ:IQ ISL:IS ISR:IL ITA:IT JAM:JM JEY:JE JOR:JO JPN:JP KAZ:KZ KEN:KE KGZ:KG KHM:KH
KIR:KI KNA:KN KOR:KR KWT:KW LAO:LA LBN:LB LBR:LR LBY:LY LCA:LC LIE:LI LKA:LK LSO:LS LTU:LT LUX:LU LVA:LV
MAC:MO MAF:MF MAR:MA MCO:MC MDA:MD MDG:MG MDV:MV MEX:MX MHL:MH MKD:MK MLI:ML MLT:MT MMR:MM MNE:ME MNG:MN
MNP:MP MOZ:MZ MRT:MR MSR:MS MTQ:MQ MUS:MU MWI:MW MYS:MY MYT:YT NAM:NA NCL:NC NER:NE NFK:NF NGA:NG NIC:NI
NIU:NU NLD:NL NOR:NO NPL:NP NRU:NR NZL:NZ OMN:OM PAK:PK PAN:PA PCN:PN PER:PE PHL:PH PLW:PW PNG:PG POL:PL
PRI:PR PRK:KP PRT:PT PRY:PY PSE:PS PYF:PF QAT:QA REU:RE ROU:RO RUS:RU RWA:RW SAU:SA SDN:SD SEN:SN SGP:SG
SGS:GS SHN:SH SJM:SJ SLB:SB SLE:SL SLV:SV SMR:SM SOM:SO SPM:PM SRB:RS SSD:SS STP:ST SUR:SR SVK:SK SVN:SI
SWE:SE SWZ:SZ SXM:SX SYC:SC SYR:SY TCA:TC TCD:TD TGO:TG THA:TH TJK:TJ TKL:TK TKM:TM TLS:TL TON:TO TTO:TT
TUN:TN TUR:TR TUV:TV TWN:TW TZA:TZ UGA:UG UKR:UA UMI:UM URY:UY USA:US UZB:UZ VAT:VA VCT:VC VEN:VE VGB:VG
VIR:VI VNM:VN VUT:VU WLF:WF WSM:WS YEM:YE ZAF:ZA ZMB:ZM ZWE:ZW
""",
    ":",
)
_ALPHA2 = frozenset(_ALPHA3.values())

# The carrier's home zone comes from the project's carrier table (`Carrier.home_timezone`), so the
# parsers and the rest of ordertrail agree on it. A home of "UTC" (the S10 fallback post, the
# simulator) is no knowledge at all and is left out, so such times stay marked ASSUMED_UTC.
_CARRIER_HOME: dict[str, tuple[str | None, str]] = {
    carrier.slug: (carrier.country_code, carrier.home_timezone)
    for carrier in CARRIERS
    if carrier.home_timezone != "UTC"
}


def country_code(value: str | None) -> str | None:
    """ISO alpha-2 for an alpha-2 or alpha-3 country code; None for anything else (names, junk)."""
    if not value:
        return None
    code = value.strip().upper()
    if code in _ALPHA2:
        return code
    return _ALPHA3.get(code)


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):  # a host without tzdata degrades to ASSUMED_UTC
        return None


def _location_zone(location: Location | None, carrier: str | None) -> str | None:
    if location is None:
        return None
    country = country_code(location.country_code)
    home = _CARRIER_HOME.get(carrier or "")
    if country is None and (location.region or location.postal_code) and home is not None:
        # A region with no country (EasyPost: state "TX", country null) is read in the carrier's
        # home country; it is still the event's own place, so it counts as LOCATION.
        country = home[0]
    if country is None:
        return None
    regions = _REGIONS.get(country)
    if regions is None:
        return _COUNTRY.get(country)
    region = (location.region or "").strip().upper().removeprefix(f"{country}-")
    if region in regions:
        return regions[region]
    postal = (location.postal_code or "").strip().upper()
    if country == "US" and postal[:3].isdigit():
        return regions.get(_US_ZIP3.get(int(postal[:3]), ""))
    if country == "CA" and postal[:1].isalpha():
        return regions.get(_CA_POSTAL.get(postal[:1], ""))
    return None


def zone_for(location: Location | None, carrier: str | None) -> tuple[ZoneInfo, str] | None:
    """The zone of a scan and where it came from (LOCATION or CARRIER_DEFAULT), or None."""
    name = _location_zone(location, carrier)
    if name is not None and (zone := _zone(name)) is not None:
        return zone, OffsetSource.LOCATION
    home = _CARRIER_HOME.get(carrier or "")
    if home is None:
        return None
    country = country_code(location.country_code) if location else None
    if country is not None and country != home[0]:
        return None
    zone = _zone(home[1])
    return (zone, OffsetSource.CARRIER_DEFAULT) if zone is not None else None


def from_offset(moment: datetime) -> tuple[datetime, str]:
    """A time the provider sent with a real offset: kept as sent."""
    return moment, OffsetSource.EVENT


def from_instant(moment: datetime, location: Location | None, carrier: str | None) -> tuple[datetime, str]:
    """A true instant (naive means UTC here): shown in the scan's local zone when one is known."""
    instant = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    found = zone_for(location, carrier)
    if found is None:
        return instant.astimezone(UTC), OffsetSource.ASSUMED_UTC
    zone, source = found
    return instant.astimezone(zone), source


def from_wall_clock(moment: datetime, location: Location | None, carrier: str | None) -> tuple[datetime, str]:
    """A local wall-clock time: the clock reading is kept and the zone attached, never shifted.

    Any offset on `moment` is discarded: callers use this for offsets known to be false. In a DST
    fold the earlier reading is taken (fold=0); a time inside a spring-forward gap keeps its clock
    reading with the pre-gap offset, as zoneinfo does.
    """
    naive = moment.replace(tzinfo=None)
    found = zone_for(location, carrier)
    if found is None:
        return naive.replace(tzinfo=UTC), OffsetSource.ASSUMED_UTC
    zone, source = found
    return naive.replace(tzinfo=zone), source
