"""The Vrbo / FeWo-direkt simulator: a crawler of the feeds we host and a "guest books on Vrbo" action.

Vrbo pulls (PLATFORMS.md section 4): every ``crawl_interval_seconds`` (and on demand) the crawler reads
our indexes and the documents of its listing with conditional requests (``If-None-Match`` with the
ETag it holds, ``If-Modified-Since`` with the Last-Modified), honours ``304 Not Modified``, and parses
what it downloads into its own calendar and prices (``apps.sandbox.vrbo_quote``). A guest "books on
Vrbo" with what the crawler last read: the stay must look open in the crawled calendar (unless forced),
the price is the simulator's own quote from the crawled rates, and the ``bookingRequest`` is POSTed to
the PMS, which answers ``bookingResponse`` or ``errorList`` (so a stale crawl can produce a request for
dates the PMS has sold meanwhile, and the PMS refuses it).

Served under ``/sandbox/vrbo/`` (staff tools, the demo and the tests):

- ``POST listings/<listingExternalId>/crawl`` -> the crawl's summary (JSON);
- ``POST listings/<listingExternalId>/book`` (``check_in``, ``check_out``, ``adults``, ``force``,
  ``malformed``) -> the request's outcome (JSON);
- ``GET listings/<listingExternalId>/quote?check_in=&check_out=&adults=`` -> the simulator's quote.

Faults: ``paused`` (the scheduled crawler skips the listing: our staleness alert fires),
``slow_read_ms`` (every read waits first), ``malformed`` booking requests, and the shared ``SimFault``
rows on the simulator's own endpoints (``simulator_view("vrbo")``).
"""

from __future__ import annotations

import random
import time
import uuid
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlparse
from xml.etree.ElementTree import Element, SubElement, tostring  # noqa: S405 (building only)
from zoneinfo import ZoneInfo

import requests
from defusedxml import ElementTree as SafeET
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils import timezone

from . import faults, vrbo_quote
from .models.vrbo import VrboSimBooking, VrboSimCrawl, VrboSimListing

SIMULATOR = "vrbo"
KINDS = ("listing", "lodging", "rates", "availability")
TIMEOUT = 20.0

simulator_view = faults.simulator_view(SIMULATOR, malformed=b'{"crawl": ', malformed_type="application/json")


# --- crawling --------------------------------------------------------------------------------------
class _Reader:
    """Conditional GETs of one listing's feeds, remembering ETag / Last-Modified per URL."""

    def __init__(self, listing: VrboSimListing, crawl: VrboSimCrawl) -> None:
        self.listing = listing
        self.crawl = crawl
        self.session = requests.Session()
        self.session.auth = (listing.username, listing.password)

    def url(self, path: str) -> str:
        return self.listing.feed_base.rstrip("/") + "/" + path.lstrip("/")

    def get(self, url: str) -> bytes | None:
        """The body when it changed (200), None when unchanged (304). Raises on anything else."""
        # Follow the index's URL by its path under our feed root (SITE_URL may name another host).
        path = urlparse(url).path
        base_path = urlparse(self.listing.feed_base).path.rstrip("/")
        if path.startswith(base_path + "/"):
            url = self.url(path[len(base_path) :])
        held = self.listing.documents.get(url, {})
        headers = {}
        if held.get("etag"):
            headers["If-None-Match"] = held["etag"]
        if held.get("last_modified"):
            headers["If-Modified-Since"] = held["last_modified"]
        if self.listing.slow_read_ms:
            time.sleep(self.listing.slow_read_ms / 1000)
        started = time.monotonic()
        response = self.session.get(url, headers=headers, timeout=TIMEOUT)
        ms = int((time.monotonic() - started) * 1000)
        self.crawl.reads.append({"url": url, "status": response.status_code, "ms": ms})
        if response.status_code == 304:
            self.crawl.not_modified += 1
            return None
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered HTTP {response.status_code}")
        self.crawl.fetched += 1
        self.listing.documents[url] = {
            "etag": response.headers.get("ETag", ""),
            "last_modified": response.headers.get("Last-Modified", ""),
            "read_at": timezone.now().isoformat(),
        }
        return response.content


def _index_entry(body: bytes, listing_id: str) -> tuple[str, str] | None:
    """(document URL, lastUpdatedDate) of our listing in an index."""
    root = SafeET.fromstring(body)
    for advertiser in root.iter("advertiser"):
        for entry in advertiser:
            if entry.findtext("listingExternalId") == listing_id:
                url = next((el.text for el in entry if el.tag.endswith("Url")), None)
                return (url or "", entry.findtext("lastUpdatedDate") or "")
    return None


def _parse_content(kind: str, body: bytes) -> dict[str, Any]:
    root = SafeET.fromstring(body)
    if kind == "listing":
        return {
            "headline": root.findtext("adContent/headline/texts/text/textValue") or "",
            "city": root.findtext("location/address/city") or "",
            "max_sleep": int(root.findtext("units/unit/maxSleep") or 1),
            "active": root.findtext("active") == "true",
            "images": len(root.findall("images/image")),
        }
    config = root.find("lodgingConfiguration")
    return {
        "check_in_time": config.findtext("checkInTime") or "",
        "check_out_time": config.findtext("checkOutTime") or "",
        "time_zone": config.findtext("timeZone") or "UTC",
        "max_guests": int(config.findtext("maxGuests") or 1),
    }


def crawl(listing: VrboSimListing, *, trigger: str = "manual") -> VrboSimCrawl:
    """Read the indexes and whatever changed, with conditional requests; parse into the listing."""
    record = VrboSimCrawl.objects.create(listing=listing, trigger=trigger)
    reader = _Reader(listing, record)
    try:
        for kind in KINDS:
            body = reader.get(reader.url(f"feeds/{kind}/index.xml"))
            if body is not None:
                found = _index_entry(body, listing.listing_external_id)
                if found is None:
                    raise RuntimeError(f"the {kind} index does not list {listing.listing_external_id}")
                listing.index_dates[kind] = {"url": found[0], "last_updated": found[1]}
            entry = listing.index_dates.get(kind)
            if not entry:
                continue
            doc = reader.get(entry["url"] or reader.url(f"feeds/{kind}/{listing.listing_external_id}.xml"))
            if doc is None:
                continue
            if kind == "rates":
                listing.rates = vrbo_quote.parse_rates(doc)
            elif kind == "availability":
                listing.availability = vrbo_quote.parse_availability(doc)
            else:
                listing.content = {**listing.content, kind: _parse_content(kind, doc)}
        body = reader.get(reader.url("feeds/bookings/index.xml"))
        if body is not None:
            root = SafeET.fromstring(body)
            listing.bookings = {
                urlparse(e.findtext("bookingUpdateUrl") or "").path.rsplit("/", 1)[-1].removesuffix(".xml"): e.findtext(
                    "lastUpdatedDate"
                )
                or ""
                for e in root.iter("bookingContentIndexEntry")
            }
        listing.last_crawl_error = ""
    except Exception as exc:  # noqa: BLE001 - a failed crawl is recorded; the next one tries again
        record.error = f"{type(exc).__name__}: {exc}"[:2000]
        listing.last_crawl_error = record.error
    listing.last_crawl_at = timezone.now()
    listing.save()
    record.finished_at = timezone.now()
    record.save()
    return record


def crawl_due(*, now: datetime | None = None, listing_ids: list[int] | None = None) -> list[int]:
    """Crawl every listing whose interval has passed (paused listings are skipped: the fault). A
    listing is claimed by compare-and-swap on ``last_crawl_at``, so two crawlers never read it at once."""
    now = now or timezone.now()
    done = []
    listings = VrboSimListing.objects.filter(paused=False).order_by("id")
    if listing_ids is not None:
        listings = listings.filter(pk__in=listing_ids)
    for listing in listings:
        last = listing.last_crawl_at
        if last and last + timedelta(seconds=listing.crawl_interval_seconds) > now:
            continue
        claimed = VrboSimListing.objects.filter(pk=listing.pk, last_crawl_at=last).update(last_crawl_at=timezone.now())
        if not claimed:
            continue  # another crawler took it
        done.append(crawl(listing, trigger="schedule").pk)
    return done


# --- what the crawler holds ------------------------------------------------------------------------
def local_today(listing: VrboSimListing) -> date:
    tz = (listing.content.get("lodging") or {}).get("time_zone") or listing.rates.get("time_zone") or "UTC"
    return timezone.now().astimezone(ZoneInfo(tz)).date()


def sim_quote(listing: VrboSimListing, *, check_in: date, check_out: date, adults: int) -> dict[str, Any]:
    if not listing.rates:
        raise ValueError("The simulator has not read this listing's rates yet (crawl first).")
    return vrbo_quote.quote(
        listing.rates, check_in=check_in, check_out=check_out, guests=adults, today=local_today(listing)
    )


def nights_open(listing: VrboSimListing, *, check_in: date, check_out: date) -> bool:
    return bool(listing.availability) and vrbo_quote.stay_open(
        listing.availability, check_in=check_in, check_out=check_out
    )


def first_open_stay(listing: VrboSimListing, *, nights: int = 3, after: int = 14) -> tuple[date, date] | None:
    start = local_today(listing) + timedelta(days=after)
    for i in range(700):
        check_in = start + timedelta(days=i)
        check_out = check_in + timedelta(days=nights)
        if nights_open(listing, check_in=check_in, check_out=check_out):
            return check_in, check_out
    return None


# --- booking requests ------------------------------------------------------------------------------
def _text(parent: Element, tag: str, value: Any) -> Element:
    el = SubElement(parent, tag)
    el.text = str(value)
    return el


def booking_request_body(
    listing: VrboSimListing, *, check_in: date, check_out: date, adults: int, tracking: str, quote: dict[str, Any]
) -> bytes:
    cur = quote["currency"]
    root = Element("bookingRequest")
    _text(root, "documentVersion", "1.1")
    d = SubElement(root, "bookingRequestDetails")
    _text(d, "advertiserAssignedId", listing.username)
    _text(d, "listingExternalId", listing.listing_external_id)
    _text(d, "unitExternalId", listing.rates.get("unit", ""))
    _text(d, "listingChannel", "FEWO_DIREKT_DE")
    _text(d, "message", "Wir freuen uns auf den Aufenthalt!")
    inquirer = SubElement(d, "inquirer", locale="de_DE")
    _text(inquirer, "firstName", "Vera")
    _text(inquirer, "lastName", "Vrbo")
    _text(inquirer, "emailAddress", f"guest-{tracking[:8]}@vrbo.example")
    res = SubElement(d, "reservation")
    _text(res, "numberOfAdults", adults)
    _text(res, "numberOfChildren", 0)
    _text(res, "numberOfPets", 0)
    dates = SubElement(res, "reservationDates")
    _text(dates, "beginDate", check_in.isoformat())
    _text(dates, "endDate", check_out.isoformat())
    _text(res, "reservationOriginationDate", timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ"))
    items = SubElement(d, "orderItemList")
    lines = [("RENTAL", "Rent", quote["rent"])]
    lines += [("MISC", "Fee", f) for f in quote["fees"]]
    lines += [("TAX", "Tax", t) for t in quote["taxes"]]
    for fee_type, name, amount in lines:
        item = SubElement(items, "orderItem")
        _text(item, "feeType", fee_type)
        _text(item, "name", name)
        _text(item, "preTaxAmount", f"{amount:.2f}").set("currency", cur)
        _text(item, "totalAmount", f"{amount:.2f}").set("currency", cur)
    schedule = SubElement(SubElement(d, "paymentScheduleItemList"), "paymentScheduleItem")
    _text(schedule, "amount", f"{quote['total']:.2f}").set("currency", cur)
    _text(schedule, "dueDate", timezone.now().date().isoformat())
    _text(d, "trackingUuid", tracking)
    _text(d, "travelerSource", "FEWO_DIREKT_DE")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(root, encoding="utf-8")


def _post(listing: VrboSimListing, body: bytes) -> tuple[requests.Response, int]:
    started = time.monotonic()
    response = requests.post(
        listing.feed_base.rstrip("/") + "/booking",
        data=body,
        auth=(listing.username, listing.password),
        headers={"Content-Type": "application/xml"},
        timeout=TIMEOUT,
    )
    return response, int((time.monotonic() - started) * 1000)


def _record_answer(record: VrboSimBooking, response: requests.Response, ms: int) -> VrboSimBooking:
    record.http_status, record.latency_ms = response.status_code, ms
    record.response_body = response.text[:5000]
    try:
        root = SafeET.fromstring(response.content)
    except Exception:  # noqa: BLE001 - an unreadable answer is an error outcome
        root = None
    if root is not None and root.tag == "bookingResponse":
        record.pms_external_id = root.findtext("bookingResponseDetails/externalId") or ""
        cancelled = root.findtext("bookingResponseDetails/bookingStatus") == "CANCELLED"
        record.status = VrboSimBooking.Status.CANCELLED if cancelled else VrboSimBooking.Status.BOOKED
    elif root is not None and root.tag in ("errorList", "error"):
        record.status = VrboSimBooking.Status.REFUSED
        record.error_code = (root.findtext("error/errorCode") or root.findtext("errorCode") or "")[:64]
    else:
        record.status = VrboSimBooking.Status.ERROR
    record.save()
    return record


def book(
    listing: VrboSimListing,
    *,
    check_in: date,
    check_out: date,
    adults: int = 2,
    force: bool = False,
    malformed: bool = False,
    tracking: str | None = None,
) -> VrboSimBooking:
    """A guest books on Vrbo: from the crawled calendar and prices, POSTed to the PMS as it answers."""
    if not force and not nights_open(listing, check_in=check_in, check_out=check_out):
        raise ValueError("These nights are not open in what the simulator last crawled.")
    quote = sim_quote(listing, check_in=check_in, check_out=check_out, adults=adults)
    tracking = tracking or str(uuid.uuid4())
    body = booking_request_body(
        listing, check_in=check_in, check_out=check_out, adults=adults, tracking=tracking, quote=quote
    )
    if malformed:
        body = body[: len(body) // 2]  # a request cut in half (the fault)
    record, _ = VrboSimBooking.objects.get_or_create(
        tracking_uuid=tracking,
        defaults={
            "listing": listing,
            "check_in": check_in,
            "check_out": check_out,
            "adults": adults,
            "total": quote["total"],
            "currency": quote["currency"],
            "request_body": body.decode("utf-8", "replace"),
        },
    )
    response, ms = _post(listing, body)
    return _record_answer(record, response, ms)


def cancel(record: VrboSimBooking) -> VrboSimBooking:
    root = Element("cancelBookingRequest")
    d = SubElement(root, "cancelBookingRequestDetails")
    _text(d, "listingExternalId", record.listing.listing_external_id)
    _text(d, "trackingUuid", record.tracking_uuid)
    _text(d, "cancelTrackingUuid", str(uuid.uuid4()))
    response, ms = _post(record.listing, b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(root, "utf-8"))
    return _record_answer(record, response, ms)


# --- HTTP endpoints of the simulator ---------------------------------------------------------------
def _listing_or_404(listing_id: str) -> VrboSimListing | None:
    return VrboSimListing.objects.filter(listing_external_id=listing_id).order_by("id").first()


@simulator_view
def crawl_view(request: HttpRequest, listing_id: str) -> JsonResponse:
    if request.method != "POST":
        return JsonResponse({"error": "POST only"}, status=405)
    listing = _listing_or_404(listing_id)
    if listing is None:
        return JsonResponse({"error": "unknown listing"}, status=404)
    record = crawl(listing, trigger="manual")
    return JsonResponse(
        {"crawl": record.pk, "fetched": record.fetched, "not_modified": record.not_modified, "error": record.error},
        status=200 if not record.error else 502,
    )


def _dates(data) -> tuple[date, date]:
    return date.fromisoformat(data.get("check_in", "")), date.fromisoformat(data.get("check_out", ""))


@simulator_view
def book_view(request: HttpRequest, listing_id: str) -> JsonResponse:
    if request.method != "POST":
        return JsonResponse({"error": "POST only"}, status=405)
    listing = _listing_or_404(listing_id)
    if listing is None:
        return JsonResponse({"error": "unknown listing"}, status=404)
    try:
        check_in, check_out = _dates(request.POST)
        adults = int(request.POST.get("adults", "2"))
        record = book(
            listing,
            check_in=check_in,
            check_out=check_out,
            adults=adults,
            force=request.POST.get("force") == "1",
            malformed=request.POST.get("malformed") == "1",
        )
    except (ValueError, requests.RequestException) as exc:
        return JsonResponse({"error": str(exc)[:300]}, status=400)
    return JsonResponse(
        {
            "tracking_uuid": record.tracking_uuid,
            "status": record.status,
            "pms_external_id": record.pms_external_id,
            "error_code": record.error_code,
            "total": str(record.total),
        }
    )


@simulator_view
def quote_view(request: HttpRequest, listing_id: str) -> JsonResponse:
    listing = _listing_or_404(listing_id)
    if listing is None:
        return JsonResponse({"error": "unknown listing"}, status=404)
    try:
        check_in, check_out = _dates(request.GET)
        q = sim_quote(listing, check_in=check_in, check_out=check_out, adults=int(request.GET.get("adults", "2")))
    except ValueError as exc:
        return JsonResponse({"error": str(exc)[:300]}, status=400)
    return JsonResponse(
        {
            "currency": q["currency"],
            "nights": [str(n) for n in q["nights"]],
            "discounts": [{"name": d["name"], "amount": str(d["amount"])} for d in q["discounts"]],
            "rent": str(q["rent"]),
            "fees": [str(f) for f in q["fees"]],
            "taxes": [str(t) for t in q["taxes"]],
            "total": str(q["total"]),
            "open": nights_open(listing, check_in=check_in, check_out=check_out),
        }
    )


# --- demo ------------------------------------------------------------------------------------------
def seed_demo_vrbo(prop) -> VrboSimListing:
    """One demo property connected to FeWo-direkt, crawled by the simulator (idempotent)."""
    from apps.channels.models import ChannelConnection

    site = settings.SITE_URL.rstrip("/")
    listing_id = "FEWO-DEMO-1"
    conn = ChannelConnection.objects.filter(property=prop, platform="fewo_direkt").first()
    if conn is None:
        conn = ChannelConnection(
            property=prop,
            platform="fewo_direkt",
            label="FeWo-direkt (simulator crawls our feeds)",
            external_property_id=listing_id,
            auth_scheme="basic",
            username="demo-vrbo-crawler",
        )
        conn.set_secret("access_token", "demo-vrbo-secret")
        conn.save()
    listing, _ = VrboSimListing.objects.update_or_create(
        listing_external_id=conn.external_property_id,
        defaults={
            "feed_base": f"{site}/vrbo",  # follows the demo's port
            "username": conn.username,
            "password": conn.get_secret("access_token"),
            "name": prop.name,
            "crawl_interval_seconds": int(getattr(settings, "VRBO_SIM_CRAWL_SECONDS", 60)),
        },
    )
    return listing


# --- benchmark -------------------------------------------------------------------------------------
class SyncProbe:
    """The ``benchmark sync`` probe (registry: ``apps.benchmarks.sync.SYNC_PROBES``). Vrbo reads our
    feeds, so "closed on the platform" is measured where we control it: the hosted availability
    document (read through our own view with the connection's Basic credentials and the ETag of the
    previous read) shows the nights ``N``. The crawl itself is the platform's timing; ``report``
    measures the simulator's crawl lag separately at its configured interval."""

    platform = "fewo_direkt"

    def __init__(self) -> None:
        self._etags: dict[int, str] = {}
        self._samples: list[tuple[Any, list[date]]] = []

    def connect(self, *, prop, tag: str, index: int, base_url: str):
        from apps.channels.models import ChannelConnection

        name = f"{tag}-{index}"
        conn = ChannelConnection(
            property=prop,
            platform=self.platform,
            external_property_id=f"V{name}",
            username=f"bench-vrbo-{name}",
        )
        conn.set_secret("access_token", f"pw-{tag}")
        conn.save()
        VrboSimListing.objects.create(
            listing_external_id=conn.external_property_id,
            feed_base=f"{base_url}/vrbo",
            username=conn.username,
            password=f"pw-{tag}",
            crawl_interval_seconds=int(getattr(settings, "VRBO_SIM_CRAWL_SECONDS", 60)),
        )
        return conn

    def nights_closed(self, *, connection, nights: list[date]) -> bool:
        import base64

        from django.test import RequestFactory

        from apps.channels import vrbo_views

        auth = base64.b64encode(f"{connection.username}:{connection.get_secret('access_token')}".encode()).decode()
        headers = {"HTTP_AUTHORIZATION": f"Basic {auth}"}
        if connection.pk in self._etags:
            headers["HTTP_IF_NONE_MATCH"] = self._etags[connection.pk]
        request = RequestFactory().get(f"/vrbo/feeds/availability/{connection.external_property_id}.xml", **headers)
        response = vrbo_views.document(request, kind="availability", listing=connection.external_property_id)
        if response.status_code == 304:
            return False
        self._etags[connection.pk] = response["ETag"]
        root = SafeET.fromstring(response.content)
        begin = date.fromisoformat(root.findtext("unitAvailability/dateRange/beginDate"))
        flags = root.findtext("unitAvailability/unitAvailabilityConfiguration/availability") or ""
        idx = [(n - begin).days for n in nights]
        closed = all(0 <= i < len(flags) and flags[i] == "N" for i in idx)
        if closed:
            self._samples.append((connection, nights))
        return closed

    def report(self, *, connections: list, log=None) -> dict[str, Any]:
        """The simulator's crawl lag at its configured interval (``VRBO_SIM_CRAWL_SECONDS``): for
        ``VRBO_BENCH_CRAWL_SAMPLES`` bookings (default 3), the time from the commit until the
        simulator, crawling on its schedule (``crawl_due``), holds a calendar with the nights closed.
        Each commit falls at a random moment of the crawl cycle, so the lag is about half the interval
        on average plus one conditional crawl. Then
        ``VRBO_BENCH_BOOKING_REQUESTS`` (default 10) real-time booking requests, timed from the
        simulator's POST to our answer."""
        import os

        from apps.benchmarks.common import percentiles
        from apps.bookings import services as booking_services

        samples = max(0, int(os.environ.get("VRBO_BENCH_CRAWL_SAMPLES", "3")))
        interval = int(getattr(settings, "VRBO_SIM_CRAWL_SECONDS", 60))
        if not connections or samples == 0:
            return {"crawl_interval_s": interval, "crawl_lag_n": 0}
        conn = connections[-1]
        listing = VrboSimListing.objects.get(listing_external_id=conn.external_property_id)
        crawl(listing, trigger="benchmark")  # the simulator knows the listing before the first sample
        crawl_ms: list[float] = []
        lags: list[float] = []
        first = timezone.localdate() + timedelta(days=min(600, feed_days_ahead() - 4 * samples - 2))
        phase = random.Random(2026)  # noqa: S311 - a reproducible spread, not a secret
        for i in range(samples):
            if log:
                log(f"vrbo crawl lag sample {i + 1}/{samples} (interval {interval} s)…")
            check_in = first + timedelta(days=2 * i)
            # the commit falls at a random moment of the crawler's cycle, as a guest's booking would
            time.sleep(phase.uniform(0, interval))
            t0 = time.monotonic()
            booking_services.booking_create(
                property_id=conn.property_id,
                check_in=check_in,
                check_out=check_in + timedelta(days=1),
                guests=1,
                status="confirmed",
            )
            lag = crawl_lag_seconds(listing, nights=[check_in], deadline=t0 + interval * 2 + 60)
            if lag is not None:
                lags.append((time.monotonic() - t0) * 1000)
                last = listing.crawls.order_by("-id").first()
                if last and last.finished_at:
                    crawl_ms.append((last.finished_at - last.started_at).total_seconds() * 1000)
        lag_p = percentiles(lags)
        # real-time booking requests: the simulator's bookingRequest until our bookingResponse
        listing.refresh_from_db()
        request_ms: list[float] = []
        booked = 0
        for i in range(int(os.environ.get("VRBO_BENCH_BOOKING_REQUESTS", "10"))):
            check_in = first + timedelta(days=2 * samples + 2 + 2 * i)
            record = book(listing, check_in=check_in, check_out=check_in + timedelta(days=1), adults=1, force=True)
            booked += record.status == VrboSimBooking.Status.BOOKED
            if record.latency_ms is not None:
                request_ms.append(float(record.latency_ms))
        req_p = percentiles(request_ms)
        return {
            "booking_request_p50_ms": req_p["p50_ms"],
            "booking_request_p99_ms": req_p["p99_ms"],
            "booking_requests_booked": booked,
            "crawl_interval_s": interval,
            "crawl_lag_p50_ms": lag_p["p50_ms"],
            "crawl_lag_p99_ms": lag_p["p99_ms"],
            "crawl_lag_n": lag_p["n"],
            "crawl_lag_lost": samples - len(lags),
            "crawl_duration_p50_ms": percentiles(crawl_ms)["p50_ms"],
        }


def feed_days_ahead() -> int:
    return max(30, min(1096, int(getattr(settings, "VRBO_FEED_DAYS", 730))))


def crawl_lag_seconds(listing: VrboSimListing, *, nights: list[date], deadline: float) -> float | None:
    """Run the scheduled crawler (``crawl_due``) until the simulator's calendar shows ``nights`` closed;
    seconds waited, or None past ``deadline`` (monotonic)."""
    started = time.monotonic()
    while time.monotonic() < deadline:
        crawl_due(listing_ids=[listing.pk])
        listing.refresh_from_db()
        avail = listing.availability
        if avail:
            begin = date.fromisoformat(avail["begin"])
            idx = [(n - begin).days for n in nights]
            if all(0 <= i < len(avail["availability"]) and avail["availability"][i] == "N" for i in idx):
                return time.monotonic() - started
        time.sleep(0.05)
    return None
