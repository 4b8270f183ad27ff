"""Deterministic, realistic payloads: couriers, tracking histories, estimates.

Everything a tracking shows (courier detection, tag and subtag, the
checkpoint story with times and places, estimated delivery dates) is a pure
function of ``(seed, slug, tracking_number)``, so two fakes with the same
seed answer byte-for-byte the same content and a test can pin it. Event
times count back from the fixed :data:`CONTENT_EPOCH`, not the wall clock;
only bookkeeping fields (``created_at``/``updated_at`` of stored resources)
use the real clock, because list filters compare them with "now".

:func:`story` gives only what AfterShip computes for a new tracking; the rest of
the record is the schema's fresh sample overlaid with the request (:mod:`._records`).
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Mapping
from typing import Any

import attrs

from ._records import EPOCH as CONTENT_EPOCH
from ._records import iso, stable_hex

__all__ = [
    "COURIERS",
    "CourierInfo",
    "checkpoint",
    "courier",
    "courier_json",
    "detect_slugs",
    "predict",
    "stable_hex",
    "story",
    "tracking_number_for",
]


# --------------------------------------------------------------------------- couriers


@attrs.frozen
class CourierInfo:
    """A courier as the Tracking API lists it."""

    slug: str
    name: str
    phone: str
    web_url: str
    countries: tuple[str, ...]
    service: str
    hub: str
    required_fields: tuple[str, ...] = ()
    user: bool = False
    #: What a courier connection to this courier needs: ``(name, type, required)``;
    #: empty for couriers that cannot be connected.
    credentials: tuple[tuple[str, str, bool], ...] = ()
    #: Reports pickup as a bare date (``2025-05-30``), without a time.
    date_only_pickup: bool = False


COURIERS: tuple[CourierInfo, ...] = (
    CourierInfo("ups", "UPS", "+1 800 742 5877", "https://www.ups.com", ("USA",),
                "UPS Ground", "Louisville", user=True),
    CourierInfo("fedex", "FedEx", "+1 800 247 4747", "https://www.fedex.com", ("USA",),
                "FedEx Home Delivery", "Memphis", user=True),
    CourierInfo("usps", "USPS", "+1 800 275 8777", "https://www.usps.com", ("USA",),
                "Priority Mail", "Chicago", user=True),
    CourierInfo("dhl", "DHL Express", "+1 800 225 5345", "https://www.dhl.com", ("DEU", "USA"),
                "DHL Express Worldwide", "Leipzig", user=True),
    CourierInfo("amazon", "Amazon Logistics", "+1 877 252 1151", "https://logistics.amazon.com",
                ("USA",), "Amazon Shipping", "Dallas", user=True),
    CourierInfo("royal-mail", "Royal Mail", "+44 345 774 0740", "https://www.royalmail.com",
                ("GBR",), "Tracked 48", "London", date_only_pickup=True),
    CourierInfo("china-post", "China Post", "+86 11183", "https://www.chinapost.com.cn",
                ("CHN",), "China Post Registered Air Mail", "Shanghai", date_only_pickup=True),
    CourierInfo("china-ems", "China EMS (ePacket)", "+86 11183", "https://www.ems.com.cn",
                ("CHN",), "ePacket", "Shanghai", date_only_pickup=True),
    CourierInfo("deutsch-post", "Deutsche Post", "+49 228 4333112", "https://www.deutschepost.de",
                ("DEU",), "Warenpost International", "Leipzig"),
    CourierInfo("canada-post", "Canada Post", "+1 866 607 6301", "https://www.canadapost.ca",
                ("CAN",), "Expedited Parcel", "Toronto"),
    CourierInfo("australia-post", "Australia Post", "+61 13 13 18", "https://auspost.com.au",
                ("AUS",), "Parcel Post", "Sydney"),
    CourierInfo("la-poste-colissimo", "La Poste Colissimo", "+33 3631",
                "https://www.laposte.fr/colissimo", ("FRA",), "Colissimo", "Paris"),
    CourierInfo("postnl", "PostNL", "+31 88 868 6161", "https://www.postnl.nl", ("NLD",),
                "PostNL Pakket", "Amsterdam"),
    CourierInfo("japan-post", "Japan Post", "+81 570 046 111", "https://www.post.japanpost.jp",
                ("JPN",), "EMS", "Tokyo"),
    CourierInfo("sf-express", "S.F. Express", "+86 95338", "https://www.sf-express.com",
                ("CHN", "HKG"), "SF International Standard", "Shenzhen"),
    CourierInfo("yunexpress", "YunExpress", "+86 400 026 2623", "https://www.yuntrack.com",
                ("CHN",), "YunExpress Global Direct", "Shenzhen"),
    CourierInfo("dpd", "DPD", "+49 6021 0", "https://www.dpd.com", ("DEU",), "DPD Classic",
                "Berlin", required_fields=("destination_postal_code",)),
    CourierInfo("gls", "GLS", "+49 6677 646 907 000", "https://gls-group.com", ("DEU",),
                "GLS Business Parcel", "Berlin"),
    CourierInfo("hermes", "Evri (Hermes UK)", "+44 330 808 5456", "https://www.evri.com",
                ("GBR",), "Evri Standard", "London"),
    CourierInfo("ontrac", "OnTrac", "+1 800 334 5000", "https://www.ontrac.com", ("USA",),
                "OnTrac Ground", "Los Angeles"),
    CourierInfo("tnt", "TNT", "+31 88 393 9393", "https://www.tnt.com", ("NLD",), "TNT Express",
                "Amsterdam"),
    CourierInfo("purolator", "Purolator", "+1 888 744 7123", "https://www.purolator.com",
                ("CAN",), "Purolator Ground", "Toronto"),
    CourierInfo("hong-kong-post", "Hong Kong Post", "+852 2921 2222", "https://www.hongkongpost.hk",
                ("HKG",), "Air Mail", "Hong Kong"),
    CourierInfo("singapore-post", "Singapore Post", "+65 6222 5777", "https://www.singpost.com",
                ("SGP",), "Registered Mail", "Singapore"),
    CourierInfo("india-post", "India Post", "+91 1800 266 6868", "https://www.indiapost.gov.in",
                ("IND",), "Speed Post", "Mumbai", date_only_pickup=True),
    CourierInfo("spain-correos-es", "Correos de Espana", "+34 915 197 197",
                "https://www.correos.es", ("ESP",), "Paq Standard", "Madrid"),
    CourierInfo("poste-italiane", "Poste Italiane", "+39 06 4526 3322",
                "https://www.poste.it", ("ITA",), "Crono", "Milan"),
    CourierInfo("korea-post", "Korea Post", "+82 1588 1300", "https://www.epost.go.kr",
                ("KOR",), "EMS", "Seoul"),
    CourierInfo("swiss-post", "Swiss Post", "+41 848 888 888", "https://www.post.ch",
                ("CHE",), "PostPac Priority", "Zurich"),
    # Tracked through the merchant's own carrier account (a courier connection).
    CourierInfo("ups-api", "UPS", "+1 800 742 5877", "https://www.ups.com", ("USA",),
                "UPS Ground", "Louisville",
                credentials=(("user_id", "string", True), ("password", "string", True),
                             ("access_license_number", "string", True))),
    CourierInfo("fedex-api", "FedEx", "+1 800 247 4747", "https://www.fedex.com", ("USA",),
                "FedEx Home Delivery", "Memphis",
                credentials=(("client_id", "string", True), ("client_secret", "string", True),
                             ("account_number", "string", False))),
    CourierInfo("dhl-api", "DHL Express", "+1 800 225 5345", "https://www.dhl.com",
                ("DEU", "USA"), "DHL Express Worldwide", "Leipzig",
                credentials=(("api_key", "string", True),)),
)  # fmt: skip

_BY_SLUG = {c.slug: c for c in COURIERS}

_UPU_COUNTRY = {
    "US": "usps",
    "GB": "royal-mail",
    "CN": "china-post",
    "DE": "deutsch-post",
    "CA": "canada-post",
    "AU": "australia-post",
    "FR": "la-poste-colissimo",
    "NL": "postnl",
    "JP": "japan-post",
    "HK": "hong-kong-post",
    "SG": "singapore-post",
    "IN": "india-post",
    "ES": "spain-correos-es",
    "IT": "poste-italiane",
    "KR": "korea-post",
    "CH": "swiss-post",
}

# (pattern, candidate slugs best first); checked in order, all matches are kept.
_PATTERNS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(r"1Z[0-9A-Z]{16}"), ("ups",)),
    (re.compile(r"TBA\d{12}"), ("amazon",)),
    (re.compile(r"(JJD|JVGL)\d{10,20}"), ("dhl",)),
    (re.compile(r"\d{10}"), ("dhl",)),
    (re.compile(r"\d{12}"), ("fedex",)),
    (re.compile(r"\d{15}"), ("fedex",)),
    (re.compile(r"\d{20}"), ("usps", "fedex")),
    (re.compile(r"\d{22}"), ("usps", "fedex")),
    (re.compile(r"\d{26}|\d{30}"), ("usps",)),
    (re.compile(r"\d{14}"), ("dpd",)),
    (re.compile(r"\d{11}"), ("gls",)),
    (re.compile(r"\d{16}"), ("hermes",)),
    (re.compile(r"SF\d{12,13}"), ("sf-express",)),
    (re.compile(r"YT\d{16}"), ("yunexpress",)),
    (re.compile(r"[CD]\d{14}"), ("ontrac",)),
    (re.compile(r"GD\d{9}WW"), ("tnt",)),
)


def detect_slugs(tracking_number: str) -> list[str]:
    """Courier slugs whose number format matches, most likely first."""
    number = tracking_number.strip().upper().replace(" ", "")
    found: list[str] = []
    for pattern, slugs in _PATTERNS:
        if pattern.fullmatch(number):
            found += [s for s in slugs if s not in found]
    upu = re.fullmatch(r"([A-Z]{2})\d{9}([A-Z]{2})", number)
    if upu:
        slug = _UPU_COUNTRY.get(upu.group(2))
        if upu.group(2) == "CN" and upu.group(1).startswith("E"):
            found.append("china-ems")
        if slug and slug not in found:
            found.append(slug)
    return found


def courier(slug: str) -> CourierInfo | None:
    """A known courier by slug."""
    return _BY_SLUG.get(slug)


def courier_json(info: CourierInfo) -> dict[str, Any]:
    """A courier as the Tracking API's ``Courier`` schema."""
    return {
        "slug": info.slug,
        "name": info.name,
        "phone": info.phone,
        "other_name": info.name.split(" (")[0],
        "web_url": info.web_url,
        "required_fields": list(info.required_fields),
        "optional_fields": [],
        "default_language": "en",
        "support_languages": ["en"],
        "service_from_country_regions": list(info.countries),
        "credentials": (
            {
                "fields": [
                    {"name": name, "type": kind, "required": required}
                    for name, kind, required in info.credentials
                ]
            }
            if info.credentials
            else None
        ),
    }


def tracking_number_for(slug: str, *parts: object) -> str:
    """A plausible, stable tracking number in the courier's format (for labels)."""
    digits = str(int(stable_hex(slug, *parts, length=24), 16)).rjust(30, "7")
    if slug == "ups":
        return "1Z" + stable_hex(slug, *parts, length=16).upper()
    if slug == "usps":
        return "92" + digits[:20]
    if slug == "dhl":
        return digits[:10]
    if slug == "fedex":
        return digits[:12]
    return digits[:14]


# --------------------------------------------------------------------------- places


@attrs.frozen
class Place:
    city: str
    state: str
    country: str
    postal_code: str
    lat: float
    lng: float
    utc_offset: int


_PLACES: dict[str, Place] = {
    p.city: p
    for p in (
        Place("New York", "NY", "USA", "10001", 40.7128, -74.006, -4),
        Place("Los Angeles", "CA", "USA", "90021", 34.0522, -118.2437, -7),
        Place("Chicago", "IL", "USA", "60607", 41.8781, -87.6298, -5),
        Place("Houston", "TX", "USA", "77002", 29.7604, -95.3698, -5),
        Place("Memphis", "TN", "USA", "38118", 35.1495, -90.049, -5),
        Place("Louisville", "KY", "USA", "40209", 38.2527, -85.7585, -4),
        Place("Atlanta", "GA", "USA", "30303", 33.749, -84.388, -4),
        Place("Seattle", "WA", "USA", "98101", 47.6062, -122.3321, -7),
        Place("Denver", "CO", "USA", "80202", 39.7392, -104.9903, -6),
        Place("Miami", "FL", "USA", "33101", 25.7617, -80.1918, -4),
        Place("Dallas", "TX", "USA", "75201", 32.7767, -96.797, -5),
        Place("Shenzhen", "Guangdong", "CHN", "518000", 22.5431, 114.0579, 8),
        Place("Shanghai", "Shanghai", "CHN", "200000", 31.2304, 121.4737, 8),
        Place("Hong Kong", "Hong Kong", "HKG", "999077", 22.3193, 114.1694, 8),
        Place("Leipzig", "Sachsen", "DEU", "04103", 51.3397, 12.3731, 2),
        Place("Berlin", "Berlin", "DEU", "10115", 52.52, 13.405, 2),
        Place("London", "England", "GBR", "EC1A 1BB", 51.5074, -0.1278, 1),
        Place("Paris", "Ile-de-France", "FRA", "75001", 48.8566, 2.3522, 2),
        Place("Amsterdam", "Noord-Holland", "NLD", "1012 JS", 52.3676, 4.9041, 2),
        Place("Tokyo", "Tokyo", "JPN", "100-0001", 35.6762, 139.6503, 9),
        Place("Sydney", "NSW", "AUS", "2000", -33.8688, 151.2093, 10),
        Place("Toronto", "ON", "CAN", "M5H 2N2", 43.6532, -79.3832, -4),
        Place("Singapore", "Singapore", "SGP", "018956", 1.2847, 103.851, 8),
        Place("Mumbai", "Maharashtra", "IND", "400001", 19.076, 72.8777, 5),
        Place("Madrid", "Madrid", "ESP", "28013", 40.4168, -3.7038, 2),
        Place("Milan", "Lombardy", "ITA", "20121", 45.4642, 9.19, 2),
        Place("Seoul", "Seoul", "KOR", "04524", 37.5665, 126.978, 9),
        Place("Zurich", "Zurich", "CHE", "8001", 47.3769, 8.5417, 2),
    )
}

_COUNTRY_NAMES = {
    "USA": "United States",
    "CHN": "China",
    "HKG": "Hong Kong SAR, China",
    "DEU": "Germany",
    "GBR": "United Kingdom",
    "FRA": "France",
    "NLD": "Netherlands",
    "JPN": "Japan",
    "AUS": "Australia",
    "CAN": "Canada",
    "SGP": "Singapore",
    "IND": "India",
    "ESP": "Spain",
    "ITA": "Italy",
    "KOR": "South Korea",
    "CHE": "Switzerland",
}


def _cities_in(country: str) -> list[Place]:
    return [p for p in _PLACES.values() if p.country == country]


# --------------------------------------------------------------------------- trackings

_TAG_WEIGHTS = (
    ("Pending", 8),
    ("InfoReceived", 10),
    ("InTransit", 40),
    ("OutForDelivery", 8),
    ("AttemptFail", 4),
    ("Delivered", 22),
    ("AvailableForPickup", 3),
    ("Exception", 4),
    ("Expired", 1),
)

SUBTAG_MESSAGES = {
    "Pending_001": "No information yet",
    "InfoReceived_001": "Info received",
    "InTransit_001": "In transit",
    "InTransit_002": "Acceptance scan",
    "InTransit_003": "Arrival scan",
    "InTransit_004": "Arrived at the destination country",
    "InTransit_005": "Customs clearance completed",
    "InTransit_006": "Customs clearance started",
    "InTransit_007": "Departure scan",
    "OutForDelivery_001": "Out for delivery",
    "AttemptFail_001": "Failed attempt",
    "AttemptFail_002": "Addressee not available",
    "Delivered_001": "Delivered",
    "Delivered_002": "Picked up by the customer",
    "Delivered_003": "Sign by customer",
    "AvailableForPickup_001": "Available for pickup",
    "Exception_004": "Customs delay",
    "Exception_005": "Delay due to external factors",
    "Exception_007": "Incorrect address",
    "Exception_011": "Returned to sender",
    "Exception_013": "Shipment lost",
    "Expired_001": "Expired",
}

_NAMES = ("Alex Kim", "Maria Garcia", "John Smith", "Wei Zhang", "Priya Patel", "Lena Vogel")


@attrs.frozen
class _Step:
    subtag: str
    message: str
    place: Place


def _route(rng: random.Random, info: CourierInfo) -> tuple[Place, Place, Place]:
    """(origin, hub, destination) for a courier."""
    home = info.countries[0]
    local = _cities_in(home) or [_PLACES["Hong Kong"]]
    hub = _PLACES.get(info.hub) or local[0]
    if home == "USA" and rng.random() > 0.1:
        origin, destination = rng.sample(_cities_in("USA"), 2)
    else:
        origin = rng.choice(local)
        destination = rng.choice([p for p in _PLACES.values() if p.country != home])
    return origin, hub, destination


def _transit_steps(origin: Place, hub: Place, destination: Place) -> list[_Step]:
    steps = [
        _Step("InfoReceived_001", "Shipment information received", origin),
        _Step("InTransit_002", "Picked up", origin),
        _Step("InTransit_007", "Departed from origin facility", origin),
        _Step("InTransit_003", "Arrived at sort facility", hub),
        _Step("InTransit_007", "Departed sort facility", hub),
    ]
    if origin.country != destination.country:
        steps += [
            _Step("InTransit_004", "Arrived at destination country", destination),
            _Step("InTransit_006", "Handed over to customs", destination),
            _Step("InTransit_005", "Customs clearance completed", destination),
        ]
    steps.append(_Step("InTransit_003", "Arrived at delivery facility", destination))
    return steps


def _story(
    rng: random.Random, tag: str, origin: Place, hub: Place, destination: Place
) -> tuple[list[_Step], str]:
    """The checkpoints for a final tag, and the tracking's subtag."""
    transit = _transit_steps(origin, hub, destination)
    ofd = _Step("OutForDelivery_001", "Out for delivery", destination)
    if tag == "Pending":
        return [], "Pending_001"
    if tag == "InfoReceived":
        return transit[:1], "InfoReceived_001"
    if tag == "InTransit":
        steps = transit[: rng.randint(2, len(transit))]
        return steps, steps[-1].subtag
    if tag == "OutForDelivery":
        return [*transit, ofd], "OutForDelivery_001"
    if tag == "AttemptFail":
        fail = _Step("AttemptFail_002", "Delivery attempted - addressee not available",
                     destination)  # fmt: skip
        return [*transit, ofd, fail], fail.subtag
    if tag == "Delivered":
        subtag = rng.choice(("Delivered_001", "Delivered_001", "Delivered_003", "Delivered_002"))
        message = {
            "Delivered_001": "Delivered, left at front door",
            "Delivered_002": "Picked up by the customer at the pickup point",
            "Delivered_003": "Delivered, signed for",
        }[subtag]
        return [*transit, ofd, _Step(subtag, message, destination)], subtag
    if tag == "AvailableForPickup":
        ready = _Step("AvailableForPickup_001", "Ready for pickup at the access point",
                      destination)  # fmt: skip
        return [*transit, ready], ready.subtag
    if tag == "Exception":
        steps = transit[: rng.randint(2, len(transit))]
        if origin.country != destination.country and len(steps) >= 7:
            problem = _Step("Exception_004", "Held by customs", destination)
        else:
            problem = rng.choice(
                (
                    _Step("Exception_005", "Delayed due to severe weather", steps[-1].place),
                    _Step("Exception_007", "Incorrect address - unable to deliver", destination),
                )
            )
        return [*steps, problem], problem.subtag
    # Expired: a couple of early scans, then silence.
    return transit[: rng.randint(1, 2)], "Expired_001"


def _local(moment: dt.datetime, place: Place) -> dt.datetime:
    return moment.astimezone(dt.timezone(dt.timedelta(hours=place.utc_offset)))


def _location_text(place: Place) -> str:
    return f"{place.city}, {place.state}, {place.postal_code}, {place.country}"


def checkpoint(
    slug: str,
    subtag: str,
    message: str,
    place: Place | None,
    when: dt.datetime,
    *,
    source: str = "carrier",
    ident: str = "",
) -> dict[str, Any]:
    """One ``Checkpoint``; ``place`` None for a user event with no location.

    ``hash`` identifies the event (2026-07): the same event of the same
    shipment (``ident``, e.g. its tracking number) always has the same hash.
    """
    tag = subtag.split("_")[0]
    local = _local(when, place) if place else when
    return {
        "created_at": iso(when + dt.timedelta(minutes=7)),
        "slug": slug,
        "checkpoint_time": iso(local),
        "location": _location_text(place) if place else None,
        "city": place.city if place else None,
        "state": place.state if place else None,
        "postal_code": place.postal_code if place else None,
        "coordinate": {"latitude": place.lat, "longitude": place.lng} if place else None,
        "country_region": place.country if place else None,
        "country_region_name": _COUNTRY_NAMES.get(place.country) if place else None,
        "message": message,
        "tag": tag,
        "subtag": subtag,
        "subtag_message": SUBTAG_MESSAGES.get(subtag, tag),
        "raw_tag": subtag.replace("_", "").upper()[:8],
        "events": [{"code": subtag.upper(), "reason": {"code": None}}],
        "source": source,
        "hash": stable_hex("checkpoint", ident, slug, iso(when), subtag, message, source),
    }


def _weighted_tag(rng: random.Random) -> str:
    total = sum(w for _, w in _TAG_WEIGHTS)
    roll = rng.uniform(0, total)
    for tag, weight in _TAG_WEIGHTS:
        roll -= weight
        if roll <= 0:
            return tag
    return "InTransit"


def _edd(day: dt.date, confidence: float, spread: int) -> dict[str, Any]:
    return {
        "estimated_delivery_date": day.isoformat(),
        "confidence_code": confidence,
        "estimated_delivery_date_min": (day - dt.timedelta(days=spread)).isoformat(),
        "estimated_delivery_date_max": (day + dt.timedelta(days=spread)).isoformat(),
    }


def story(seed: int, tracking_id: str, slug: str, number: str) -> dict[str, Any]:
    """What AfterShip knows of a new tracking: the courier's whole story so far."""
    rng = random.Random(f"{seed}:{slug}:{number}")
    info = courier(slug) or COURIERS[0]
    tag = _weighted_tag(rng)
    origin, hub, destination = _route(rng, info)
    steps, subtag = _story(rng, tag, origin, hub, destination)

    age_days = rng.randint(35, 60) if tag == "Expired" else rng.randint(1, 9)
    moment = CONTENT_EPOCH - dt.timedelta(days=age_days, hours=rng.randint(0, 20))
    checkpoints = []
    times = []
    for step in steps:
        times.append(moment)
        checkpoints.append(
            checkpoint(slug, step.subtag, step.message, step.place, moment, ident=number)
        )
        moment += dt.timedelta(hours=rng.randint(3, 20), minutes=rng.randint(0, 59))

    picked_up = times[1] if len(times) > 1 else None
    delivered = times[-1] if tag == "Delivered" else None
    transit_days = (
        max(1, ((delivered or CONTENT_EPOCH) - picked_up).days) if picked_up is not None else None
    )
    start = picked_up or CONTENT_EPOCH
    eta = (start + dt.timedelta(days=rng.randint(2, 6))).date()
    international = origin.country != destination.country
    if international:
        eta += dt.timedelta(days=rng.randint(3, 7))
    signer = rng.choice(_NAMES)
    attempts = 1 if tag == "AttemptFail" else 0
    weight = round(rng.uniform(0.2, 12.0), 2)
    token = stable_hex(seed, "token", number, length=10)

    data: dict[str, Any] = {
        "id": tracking_id,
        "legacy_id": stable_hex(seed, "legacy", tracking_id, length=24),
        "tracking_number": number,
        "slug": slug,
        "active": tag not in ("Delivered", "Expired"),
        "custom_fields": None,
        "transit_time": transit_days,
        "origin_country_region": origin.country,
        "origin_state": origin.state,
        "origin_city": origin.city,
        "origin_postal_code": origin.postal_code,
        "origin_raw_location": _location_text(origin),
        "destination_country_region": destination.country,
        "destination_state": destination.state,
        "destination_city": destination.city,
        "destination_postal_code": destination.postal_code,
        "destination_raw_location": _location_text(destination),
        "courier_destination_country_region": destination.country,
        "courier_estimated_delivery_date": (
            {
                "estimated_delivery_date": iso(
                    dt.datetime.combine(eta, dt.time(20, 0), tzinfo=dt.UTC)
                ),
                "estimated_delivery_date_min": None,
                "estimated_delivery_date_max": None,
            }
            if picked_up is not None and slug in ("ups", "fedex", "dhl", "usps")
            else None
        ),
        "note": None,
        "order_id": None,
        "order_id_path": None,
        "order_date": None,
        "shipment_package_count": 1,
        "shipment_pickup_date": iso(picked_up) if picked_up else None,
        "shipment_delivery_date": iso(delivered) if delivered else None,
        "shipment_type": info.service,
        "shipment_weight": {"unit": "kg", "value": weight},
        "signed_by": signer if subtag == "Delivered_003" else None,
        "source": "api",
        "tag": tag,
        "subtag": subtag,
        "subtag_message": SUBTAG_MESSAGES.get(subtag, tag),
        "title": number,
        "tracked_count": len(checkpoints) + rng.randint(1, 5),
        "language": None,
        "unique_token": token,
        "checkpoints": checkpoints,
        "subscribed_smses": [],
        "subscribed_emails": [],
        "return_to_sender": subtag == "Exception_011",
        "order_promised_delivery_date": None,
        "delivery_type": None,
        "pickup_location": None,
        "pickup_note": None,
        "courier_tracking_link": f"{info.web_url}/track?tracknum={number}",
        "first_attempted_at": iso(times[-1]) if tag in ("AttemptFail", "Delivered") else None,
        "courier_redirect_link": f"{info.web_url}/track?tracknum={number}",
        "tracking_account_number": None,
        "tracking_key": None,
        "tracking_ship_date": None,
        "on_time_status": None,
        "on_time_difference": None,
        "order_tags": [],
        "aftership_estimated_delivery_date": (
            _edd(eta, round(rng.uniform(0.6, 0.95), 2), 1) if tag != "Pending" else None
        ),
        "custom_estimated_delivery_date": None,
        "order_number": None,
        "first_estimated_delivery": (
            {
                "type": "specific",
                "source": "AfterShip EDD",
                "datetime": eta.isoformat(),
                "datetime_min": None,
                "datetime_max": None,
            }
            if tag != "Pending"
            else None
        ),
        "latest_estimated_delivery": None,
        "shipment_tags": [],
        "courier_connection_id": None,
        "carbon_emissions": {"unit": "kg", "value": round(weight * 0.35, 3)},
        "location_id": None,
        "shipping_method": None,
        "failed_delivery_attempts": attempts,
        "signature_requirement": None,
        "delivery_location_type": None,
        "aftership_tracking_url": f"https://track.aftership.com/{slug}/{number}",
        "aftership_tracking_order_url": None,
        "first_mile": None,
        "last_mile": None,
        "customers": [],
    }
    if tag != "Pending":
        data["latest_estimated_delivery"] = dict(data["first_estimated_delivery"])
    if tag in ("Delivered", "AttemptFail") and delivered is not None:
        data["on_time_status"] = "on-time" if delivered.date() <= eta else "late"
        data["on_time_difference"] = max(0, (delivered.date() - eta).days)
    # The 2026-07 fields come from their own stream, so the older fields keep their values.
    data.update(_fields_2026_07(random.Random(f"{seed}:{slug}:{number}:2026-07"), data, info,
                                eta, picked_up, subtag))  # fmt: skip
    # Some carriers give local times with no offset, which AfterShip passes on as given
    # (its own examples: '2022-01-29T11:23:00'); their own stream, like the 2026-07 fields.
    if random.Random(f"{seed}:{slug}:{number}:local-times").random() < 0.1:
        _drop_offsets(data)
    return {k: v for k, v in data.items() if v is not None}


#: The tracking fields AfterShip documents as possibly offset-less, besides checkpoint_time.
_LOCAL_TIME_FIELDS = ("shipment_pickup_date", "shipment_delivery_date", "first_attempted_at")


def _drop_offsets(tracking: dict[str, Any]) -> None:
    """The carrier's local times without their offset (a bare date stays a date)."""

    def local(text: Any) -> Any:
        if not isinstance(text, str) or len(text) <= 10:
            return text
        return dt.datetime.fromisoformat(text).replace(tzinfo=None).isoformat()

    for point in tracking.get("checkpoints") or []:
        point["checkpoint_time"] = local(point.get("checkpoint_time"))
    for key in _LOCAL_TIME_FIELDS:
        tracking[key] = local(tracking.get(key))


def _fields_2026_07(
    rng: random.Random,
    tracking: Mapping[str, Any],
    info: CourierInfo,
    eta: dt.date,
    picked_up: dt.datetime | None,
    subtag: str,
) -> dict[str, Any]:
    """What 2026-07 adds, present as often as carriers report it (never all at once)."""
    slug, number, tracking_id = tracking["slug"], tracking["tracking_number"], tracking["id"]
    express = slug in ("ups", "fedex", "dhl", "ups-api", "fedex-api", "dhl-api")
    fields: dict[str, Any] = {
        "shipment_dimensions": None,
        "shipment_direction": None,
        "proof_of_delivery": [],
        "multi_piece_info": None,
        "return_shipment": None,
        "forward_shipment": None,
        "order_promised_delivery_date": None,
    }
    if express and rng.random() < 0.6:
        fields["shipment_dimensions"] = {
            "unit": "cm",
            "length": float(rng.randint(10, 60)),
            "width": float(rng.randint(10, 40)),
            "height": float(rng.randint(2, 30)),
        }
    direction = rng.random()
    if direction < 0.07:  # a return: linked to the shipment it sends back
        fields["shipment_direction"] = "return"
        fields["forward_shipment"] = {"id": stable_hex("forward", tracking_id)}
    elif direction < 0.9:
        fields["shipment_direction"] = "forward"
        if rng.random() < 0.05:
            fields["return_shipment"] = {
                "id": stable_hex("return", tracking_id),
                "tracking_number": tracking_number_for(slug, "return", number),
                "slug": slug,
            }
    if subtag.startswith("Delivered") and rng.random() < 0.7:
        token = stable_hex("pod", tracking_id, length=16)
        fields["proof_of_delivery"] = [
            {"type": "image", "url": f"https://pod.aftership.com/{token}/photo.jpg"}
        ]
        if subtag == "Delivered_003":
            fields["proof_of_delivery"].append(
                {"type": "signature", "url": f"https://pod.aftership.com/{token}/signature.png"}
            )
    if express and rng.random() < 0.1:
        child = tracking_number_for(slug, "piece", number)
        fields["multi_piece_info"] = {
            "type": "master",
            "pieces": [
                {"tracking_id": tracking_id, "tracking_number": number, "type": "master",
                 "trackable": True},
                {"tracking_id": stable_hex("piece", tracking_id), "tracking_number": child,
                 "type": "child", "trackable": rng.random() < 0.8},
            ],
        }  # fmt: skip
    promise = rng.random()
    if promise < 0.25:
        fields["order_promised_delivery_date"] = {
            "promised_delivery_date": eta.isoformat(),
            "promised_delivery_date_min": None,
            "promised_delivery_date_max": None,
        }
    elif promise < 0.35:
        fields["order_promised_delivery_date"] = {
            "promised_delivery_date": None,
            "promised_delivery_date_min": (eta - dt.timedelta(days=1)).isoformat(),
            "promised_delivery_date_max": (eta + dt.timedelta(days=2)).isoformat(),
        }
    # Postal carriers (and now and then another one) report the pickup day without a time.
    if picked_up is not None and (info.date_only_pickup or rng.random() < 0.08):
        fields["shipment_pickup_date"] = picked_up.date().isoformat()
    return fields


# --------------------------------------------------------------------------- estimates


def predict(seed: int, request: Mapping[str, Any]) -> dict[str, Any]:
    """A deterministic estimated delivery date for one ``EstimatedDeliveryDateRequest``."""
    origin = request.get("origin_address") or {}
    destination = request.get("destination_address") or {}
    key = (
        seed,
        request.get("slug"),
        request.get("service_type_name"),
        origin.get("country_region"),
        origin.get("postal_code"),
        destination.get("country_region"),
        destination.get("postal_code"),
    )
    rng = random.Random(stable_hex(*key))
    pickup_text = request.get("pickup_time")
    estimated_pickup = request.get("estimated_pickup")
    if not pickup_text and estimated_pickup:
        pickup_text = estimated_pickup.get("order_time")
    try:
        pickup = dt.datetime.fromisoformat(str(pickup_text)) if pickup_text else CONTENT_EPOCH
    except ValueError:
        pickup = CONTENT_EPOCH
    days = rng.randint(1, 4)
    if origin.get("country_region") != destination.get("country_region"):
        days += rng.randint(3, 8)
    day = (pickup + dt.timedelta(days=days)).date()
    response_pickup = None
    if estimated_pickup:
        response_pickup = {
            "order_time": estimated_pickup.get("order_time"),
            "order_cutoff_time": estimated_pickup.get("order_cutoff_time"),
            "business_days": estimated_pickup.get("business_days"),
            "order_processing_time": estimated_pickup.get("order_processing_time"),
            "pickup_time": iso(pickup) if pickup_text else None,
        }
    return {
        "id": stable_hex(*key),
        "slug": request.get("slug"),
        "service_type_name": request.get("service_type_name"),
        "origin_address": _address(origin),
        "destination_address": _address(destination),
        "weight": request.get("weight"),
        "package_count": request.get("package_count"),
        "pickup_time": request.get("pickup_time"),
        "estimated_pickup": response_pickup,
        **_edd(day, round(rng.uniform(0.55, 0.97), 2), 1),
    }


def _address(address: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: address.get(k)
        for k in ("country_region", "state", "city", "postal_code", "raw_location")
    }
