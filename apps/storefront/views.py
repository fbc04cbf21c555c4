"""Guest pages: search, property, checkout (details -> payment), confirmation, guest portal.

Thin views: they parse input with forms, call the booking / availability / payment services,
and turn domain errors into messages on the page (never a 500).
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET, require_http_methods

from apps.bookings import tokens
from apps.bookings.models import Booking, BookingStatus
from apps.core import audit
from apps.core.errors import DomainError
from apps.core.observability import funnel_step

from . import selectors, services, views_google
from .forms import CancelForm, CardForm, GuestDetailsForm, PortalRequestForm, ReviewForm, SearchForm, StayForm

logger = logging.getLogger(__name__)

SESSION_KEY = "storefront_checkout"


def _sandbox() -> bool:
    return bool(settings.STRIPE_SANDBOX)


def _stay_from(form: StayForm) -> tuple[date, date, int] | None:
    if form.is_bound and form.is_valid():
        return form.cleaned_data["check_in"], form.cleaned_data["check_out"], form.cleaned_data["guests"]
    return None


def _stay_query(check_in: date, check_out: date, guests: int) -> str:
    q = QueryDict(mutable=True)
    q.update({"check_in": check_in.isoformat(), "check_out": check_out.isoformat(), "guests": str(guests)})
    return q.urlencode()


# --- search ---------------------------------------------------------------------------------------


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    from apps.availability.search import search_properties

    amenities = selectors.amenity_choices()
    form = SearchForm(request.GET or None, amenity_choices=amenities)
    params: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        funnel_step("search")
        data = form.cleaned_data
        params = {
            "location": data.get("location") or "",
            "check_in": data.get("check_in"),
            "check_out": data.get("check_out"),
            "guests": data.get("guests") or 1,
            "amenities": tuple(data.get("amenities") or ()),
            "min_bedrooms": data.get("min_bedrooms"),
            "max_price": data.get("max_price"),
            "order": data.get("order") or "price",
            "page": data.get("page") or 1,
        }
    try:
        page = search_properties(**params, per_page=12)
    except DomainError as exc:
        form.add_error(None, exc.message)
        page = search_properties(per_page=12)
    photos = selectors.first_photos(property_ids=[r.property.pk for r in page.results])
    stay = ""
    if params.get("check_in") and params.get("check_out"):
        stay = _stay_query(params["check_in"], params["check_out"], params["guests"])
    elif params.get("guests"):
        stay = f"guests={params['guests']}"
    cards = [
        {
            "property": r.property,
            "photo": photos.get(r.property.pk),
            "total": r.total,
            "nightly_from": r.nightly_from,
            "nights": (params["check_out"] - params["check_in"]).days if params.get("check_in") else None,
            "url": reverse("storefront:property", kwargs={"slug": r.property.slug}) + (f"?{stay}" if stay else ""),
        }
        for r in page.results
    ]
    return render(
        request,
        "storefront/search.html",
        {
            "form": form,
            "page": page,
            "cards": cards,
            "has_dates": bool(params.get("check_in")),
            "filters_open": bool(params.get("amenities") or params.get("min_bedrooms") or params.get("max_price")),
        },
    )


# --- property ----------------------------------------------------------------------------------------


def _month_param(value: str | None) -> date | None:
    try:
        return datetime.strptime(value or "", "%Y-%m").date().replace(day=1)  # noqa: DTZ007 - a calendar month
    except ValueError:
        return None


def _stay_and_calendar(request: HttpRequest, prop, *, months_shown: int = 2, anchor: str = "availability") -> dict:
    """The stay being picked (form, check, quote, reasons, alternatives) and the month calendar, for
    the property page and the embeddable widget."""
    from apps.availability.selectors import calendar_days, stay_check

    today = selectors.local_today(prop=prop)
    # The form is checked once it was sent (both fields present). A first click in the calendar
    # picks only the arrival day: no "required" error then, but a hint to pick the departure day.
    has_stay = "check_out" in request.GET and "check_in" in request.GET
    picked_in = None if has_stay else _parse_date(request.GET.get("check_in"))
    stay_form = StayForm(
        request.GET if has_stay else None,
        initial={"guests": request.GET.get("guests") or 2, "check_in": picked_in},
    )
    stay = _stay_from(stay_form)

    month = _month_param(request.GET.get("month")) or selectors.month_start(stay[0] if stay else today)
    # Clamp to the next few years: a month far ahead (?month=9999-12) overflowed ``date`` below.
    month = min(max(month, selectors.month_start(today)), selectors.add_months(selectors.month_start(today), 60))
    end = selectors.add_months(month, months_shown)
    selected_in = stay[0] if stay else picked_in
    selected_out = stay[1] if stay else None
    first = month if not selected_in or selected_in >= month or (month - selected_in).days > 366 else selected_in
    days = {d.date: d for d in calendar_days(prop=prop, start=first, end=end)}
    # While the departure day is being picked: every day up to the first taken night after the
    # arrival day may be it (another stay's arrival day included: dates are half-open).
    last_out = selectors.last_departure(days=days, check_in=selected_in) if selected_in and not selected_out else None
    months = []
    for first in [selectors.add_months(month, i) for i in range(months_shown)]:
        weeks = selectors.month_grid(first=first, days=days)
        rows = []
        for week in weeks:
            row = []
            for cell in week:
                if cell is None:
                    row.append(None)
                    continue
                d, info = cell
                row.append(
                    {
                        "date": d,
                        "info": info,
                        "past": d < today,
                        "selected": bool(
                            selected_in and (d == selected_in or (selected_out and selected_in <= d < selected_out))
                        ),
                        "checkout": bool(selected_out and d == selected_out),
                        "can_checkout": bool(last_out and selected_in < d <= last_out),
                        "url": _select_day_url(request, d, selected_in, selected_out, last_out, anchor=anchor),
                    }
                )
            rows.append(row)
        months.append({"first": first, "weeks": rows})

    check = quote = None
    reasons: list[str] = []
    alternatives: list[dict[str, Any]] = []
    if stay:
        check = stay_check(prop=prop, check_in=stay[0], check_out=stay[1], guests=stay[2])
        quote = selectors.price_lines(check.quote.as_dict()) if check.quote is not None else None
        reasons = [selectors.reason_message(r) for r in check.reasons]
        if not check.bookable and any(r.get("code") in ("booked", "blocked") for r in check.reasons):
            alternatives = selectors.nearest_alternatives(
                prop=prop, check_in=stay[0], check_out=stay[1], guests=stay[2]
            )
    return {
        "months": months,
        "prev_month": selectors.add_months(month, -1) if month > selectors.month_start(today) else None,
        "next_month": selectors.add_months(month, 1),
        "stay_form": stay_form,
        "stay": stay,
        "picking_out": bool(picked_in and not stay),
        "check": check,
        "quote": quote,
        "reasons": reasons,
        "alternatives": alternatives,
        "book_url": (
            reverse("storefront:checkout", kwargs={"slug": prop.slug}) + "?" + _stay_query(*stay) if stay else ""
        ),
        "policy": selectors.cancellation_policy(prop=prop, check_in=stay[0] if stay else None),
        "today": today,
    }


@require_GET
def property_detail(request: HttpRequest, slug: str) -> HttpResponse:
    prop = selectors.property_public_get(slug=slug)
    if prop is None:
        raise Http404(_("This home is not available."))
    _release_own_lapsed_hold(request)
    funnel_step("property_view")
    ctx = _stay_and_calendar(request, prop)
    today = ctx.pop("today")
    reviews, review_stats = selectors.reviews_for(prop=prop)
    return render(
        request,
        "storefront/property.html",
        {
            **ctx,
            "property": prop,
            "photos": list(prop.photos.all()),
            "amenities": [selectors.amenity_label(a) for a in prop.amenities or []],
            "reviews": reviews,
            "review_stats": review_stats,
            "times": selectors.stay_times(prop=prop, check_in=today, check_out=today),
        },
    )


@require_GET
@xframe_options_exempt
def embed(request: HttpRequest, slug: str) -> HttpResponse:
    """The booking widget owners put on their own website (spec 2.2): this home's availability
    calendar and the price of the picked stay; "Book now" hands off to our checkout in a new tab.
    The only page that may be framed, by any site (the snippet is public, like the home itself)."""
    prop = selectors.property_public_get(slug=slug)
    if prop is None:
        raise Http404(_("This home is not available."))
    language = request.GET.get("lang", "")  # the snippet may fix the language; else the visitor's
    with translation.override(language if language in dict(settings.LANGUAGES) else translation.get_language()):
        ctx = _stay_and_calendar(request, prop, months_shown=2, anchor="cal")
        ctx.pop("today")
        site = settings.SITE_URL.rstrip("/")
        response = render(
            request,
            "storefront/embed.html",
            {
                **ctx,
                "property": prop,
                "lang": language if language in dict(settings.LANGUAGES) else "",
                "photo": selectors.first_photos(property_ids=[prop.pk]).get(prop.pk),
                "book_url": site + ctx["book_url"] if ctx["book_url"] else "",
                "property_url": site + reverse("storefront:property", kwargs={"slug": prop.slug}),
            },
        )
    # frame-ancestors * comes from apps.core.security for @xframe_options_exempt views
    response["Cache-Control"] = "no-store"
    return response


def _parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _select_day_url(
    request: HttpRequest,
    d: date,
    check_in: date | None,
    check_out: date | None,
    last_out: date | None = None,
    *,
    anchor: str = "availability",
) -> str:
    """Clicking a day picks check-in, then check-out (works without JavaScript). A day past the first
    taken night after the arrival day starts a new pick instead."""
    q = request.GET.copy()
    q.pop("month", None)
    if check_in and not check_out and d > check_in and (last_out is None or d <= last_out):
        q["check_out"] = d.isoformat()
    else:
        q["check_in"] = d.isoformat()
        q.pop("check_out", None)
    q.setdefault("guests", "2")
    q["month"] = (request.GET.get("month") or "").strip() or d.strftime("%Y-%m")
    return "?" + q.urlencode() + f"#{anchor}"


# --- checkout ---------------------------------------------------------------------------------------


def _checkout_session(request: HttpRequest) -> dict[str, Any]:
    return dict(request.session.get(SESSION_KEY) or {})


def _release_own_lapsed_hold(request: HttpRequest) -> None:
    """The guest's own hold ran out but beat has not expired it yet: release it now, so their own
    stale hold does not show their dates as "just booked by another guest" when they come back."""
    booking_id = _checkout_session(request).get("booking_id")
    if not booking_id:
        return
    lapsed = Booking.objects.filter(
        pk=booking_id, status=BookingStatus.RESERVED, hold_expires_at__lte=timezone.now()
    ).exists()
    if lapsed:
        from apps.bookings import services as booking_services
        from apps.payments.services import HOLD_EXPIRED_REASON

        try:
            booking_services.booking_cancel(
                booking_id=booking_id, reason=HOLD_EXPIRED_REASON, expected_status=BookingStatus.RESERVED
            )
        except DomainError:
            pass  # paid or expired meanwhile


def _active_hold(data: dict[str, Any], prop_id: int, stay: tuple[date, date, int]) -> Booking | None:
    """The guest's own hold for exactly this stay, if it is still held."""
    booking_id = data.get("booking_id")
    if not booking_id:
        return None
    booking = Booking.objects.filter(pk=booking_id, property_id=prop_id, status=BookingStatus.RESERVED).first()
    if booking is None or (booking.check_in, booking.check_out, booking.guests) != stay:
        return None
    if booking.hold_expires_at and booking.hold_expires_at <= timezone.now():
        return None
    return booking


def _retried_hold(request: HttpRequest, prop, stay: tuple[date, date, int]) -> Booking | None:
    """The form sent again after its answer was lost (a 503, a dropped connection): the hold the first
    attempt committed, found by this browser's CSRF secret, the stay and the details."""
    form = GuestDetailsForm(request.POST)
    if not form.is_valid():
        return None
    return services.checkout_retried_hold(
        prop=prop,
        check_in=stay[0],
        check_out=stay[1],
        guests=stay[2],
        details=form.cleaned_data,
        language=(getattr(request, "LANGUAGE_CODE", "") or settings.LANGUAGE_CODE)[:2],
        retry_token=request.META.get("CSRF_COOKIE", ""),
    )


@require_http_methods(["GET", "POST"])
def checkout_details(request: HttpRequest, slug: str) -> HttpResponse:
    from apps.availability.selectors import stay_check

    prop = selectors.property_public_get(slug=slug)
    if prop is None:
        raise Http404(_("This home is not available."))
    stay_form = StayForm(request.GET)
    stay = _stay_from(stay_form)
    if stay is None:
        messages.warning(request, _("Please choose your dates and the number of guests first."))
        return redirect(reverse("storefront:property", kwargs={"slug": prop.slug}) + "#book")
    _release_own_lapsed_hold(request)
    data = _checkout_session(request)
    own_hold = _active_hold(data, prop.pk, stay)
    if own_hold is None and request.method == "POST":
        own_hold = _retried_hold(request, prop, stay)
    check = stay_check(prop=prop, check_in=stay[0], check_out=stay[1], guests=stay[2])
    quote = selectors.price_lines(check.quote.as_dict()) if check.quote is not None else None
    ctx: dict[str, Any] = {
        "property": prop,
        "stay": stay,
        "nights": (stay[1] - stay[0]).days,
        "quote": quote,
        "times": selectors.stay_times(prop=prop, check_in=stay[0], check_out=stay[1]),
        "policy": selectors.cancellation_policy(prop=prop, check_in=stay[0]),
        "property_url": reverse("storefront:property", kwargs={"slug": prop.slug}) + "?" + _stay_query(*stay),
        "step": 1,
        "hold_minutes": settings.HOLD_MINUTES,
    }
    if not check.bookable and own_hold is None:
        ctx["reasons"] = [selectors.reason_message(r) for r in check.reasons]
        if any(r.get("code") in ("booked", "blocked") for r in check.reasons):
            # Taken between opening the form and sending it: the same news as a lost race.
            ctx["conflict"] = request.method == "POST"
            ctx["alternatives"] = selectors.nearest_alternatives(
                prop=prop, check_in=stay[0], check_out=stay[1], guests=stay[2]
            )
        ctx["form"] = GuestDetailsForm(initial=data.get("details") or {})
        return render(request, "storefront/checkout_details.html", ctx, status=409 if request.method == "POST" else 200)

    if request.method == "GET":
        ctx["form"] = GuestDetailsForm(initial=data.get("details") or {})
        return render(request, "storefront/checkout_details.html", ctx)

    form = GuestDetailsForm(request.POST)
    ctx["form"] = form
    if not form.is_valid():
        return render(request, "storefront/checkout_details.html", ctx, status=400)
    details = form.cleaned_data
    language = (getattr(request, "LANGUAGE_CODE", "") or settings.LANGUAGE_CODE)[:2]
    try:
        result = services.checkout_begin(
            prop=prop,
            check_in=stay[0],
            check_out=stay[1],
            guests=stay[2],
            details=details,
            language=language,
            own_hold=own_hold,
            previous=data,
            # this browser's CSRF secret: sending the form again after a lost answer finds the hold
            retry_token=request.META.get("CSRF_COOKIE", ""),
            attribution=views_google.attribution_for(request, prop),
        )
    except services.CheckoutConflict as exc:
        ctx["conflict"] = True
        ctx["alternatives"] = selectors.nearest_alternatives(
            prop=prop, check_in=stay[0], check_out=stay[1], guests=stay[2]
        )
        logger.info("checkout conflict for %s %s-%s: %s", prop.slug, stay[0], stay[1], exc)
        return render(request, "storefront/checkout_details.html", ctx, status=409)
    except services.CheckoutUnavailable as exc:
        form.add_error(None, exc.message)
        return render(request, "storefront/checkout_details.html", ctx, status=503)
    except DomainError as exc:
        form.add_error(None, exc.message)
        return render(request, "storefront/checkout_details.html", ctx, status=400)
    request.session[SESSION_KEY] = {
        "slug": prop.slug,
        "check_in": stay[0].isoformat(),
        "check_out": stay[1].isoformat(),
        "guests": stay[2],
        "details": {k: v for k, v in details.items() if k in GuestDetailsForm.base_fields},
        "booking_id": result.booking.pk,
        "details_key": result.details_key,
        "client_secret": result.client_secret,
    }
    funnel_step("checkout")
    return redirect("storefront:payment")


@never_cache  # shows a booking: never kept by a browser or proxy cache
@require_http_methods(["GET", "POST"])
def checkout_payment(request: HttpRequest) -> HttpResponse:
    data = _checkout_session(request)
    booking_id = data.get("booking_id")
    booking = Booking.objects.select_related("property", "guest").filter(pk=booking_id).first() if booking_id else None
    if booking is None:
        messages.info(request, _("Your checkout session has ended. Please choose your dates again."))
        return redirect("storefront:search")
    confirmation = tokens.confirmation_path(reference=booking.reference)
    if booking.status in (BookingStatus.CONFIRMED, BookingStatus.CHECKED_IN, BookingStatus.CHECKED_OUT):
        return redirect(confirmation)
    prop = booking.property
    stay = (booking.check_in, booking.check_out, booking.guests)
    now = timezone.now()
    expired = booking.status != BookingStatus.RESERVED or (
        booking.hold_expires_at is not None and booking.hold_expires_at <= now
    )
    seconds_left = max(0, int((booking.hold_expires_at - now).total_seconds())) if booking.hold_expires_at else 0
    ctx: dict[str, Any] = {
        "booking": booking,
        "property": prop,
        "stay": stay,
        "nights": booking.nights,
        "quote": selectors.price_lines(booking.price_snapshot or {}),
        "times": selectors.stay_times(prop=prop, check_in=booking.check_in, check_out=booking.check_out),
        "policy": selectors.cancellation_policy(prop=prop, check_in=booking.check_in, booked_at=booking.created_at),
        "expired": expired,
        "seconds_left": seconds_left,
        "minutes_left": (seconds_left + 59) // 60,
        "back_url": reverse("storefront:checkout", kwargs={"slug": prop.slug}) + "?" + _stay_query(*stay),
        "property_url": reverse("storefront:property", kwargs={"slug": prop.slug}) + "?" + _stay_query(*stay),
        "sandbox": _sandbox(),
        "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
        "client_secret": data.get("client_secret") or "",
        "return_url": request.build_absolute_uri(confirmation),
        "step": 2,
    }
    if expired:
        return render(request, "storefront/checkout_payment.html", ctx, status=410 if request.method == "POST" else 200)
    if request.method == "GET" or not _sandbox():
        if request.method == "POST":
            return HttpResponse(status=405)
        ctx["form"] = CardForm()
        return render(request, "storefront/checkout_payment.html", ctx)

    form = CardForm(request.POST)
    ctx["form"] = form
    if not form.is_valid():
        return render(request, "storefront/checkout_payment.html", ctx, status=400)
    from apps.payments.services import sandbox_card_pay

    try:
        result = sandbox_card_pay(booking_id=booking.pk, **form.cleaned_data)
    except DomainError as exc:
        ctx["payment_error"] = exc.message
        return render(request, "storefront/checkout_payment.html", ctx, status=402)
    if result.succeeded:
        return redirect(confirmation)
    ctx["payment_error"] = _guest_payment_message(result.message)
    ctx["form"] = CardForm(
        initial={"exp_month": form.cleaned_data["exp_month"], "exp_year": form.cleaned_data["exp_year"]}
    )
    return render(request, "storefront/checkout_payment.html", ctx, status=402)


def _guest_payment_message(message: str) -> str:
    """The payments service speaks English; the common answers are shown in the guest's language."""
    text = (message or "").lower()
    if "insufficient funds" in text:
        return _("Your card has insufficient funds. Please try another card.")
    if "declined" in text:
        return _("Your card was declined. Please try another card.")
    if "expired" in text and "hold" in text:
        return _("Your hold on these dates has ended.") + " " + (message or "")
    return message or _("The payment did not go through. Please try another card.")


# --- confirmation -------------------------------------------------------------------------------------


def _confirmed_booking(request: HttpRequest, reference: str) -> Booking:
    if not tokens.confirmation_token_valid(reference=reference, token=request.GET.get("t", "")):
        raise Http404(_("Booking not found."))
    booking = Booking.objects.select_related("property", "guest").filter(reference=reference).first()
    if booking is None:
        raise Http404(_("Booking not found."))
    return booking


@never_cache  # shows a booking: never kept by a browser or proxy cache
@require_GET
def confirmation(request: HttpRequest, reference: str) -> HttpResponse:
    booking = _confirmed_booking(request, reference)
    prop = booking.property
    processing = booking.status == BookingStatus.RESERVED
    token = request.GET.get("t", "")
    q = QueryDict(mutable=True)
    q["t"] = token
    return render(
        request,
        "storefront/confirmation.html",
        {
            "booking": booking,
            "property": prop,
            "times": selectors.stay_times(prop=prop, check_in=booking.check_in, check_out=booking.check_out),
            "quote": selectors.price_lines(booking.price_snapshot or {}),
            "processing": processing,
            "ics_url": reverse("storefront:confirmation_ics", kwargs={"reference": reference}) + "?" + q.urlencode(),
            "print_url": "?" + q.urlencode() + "&print=1",
            "print_view": request.GET.get("print") == "1",
            "policy": selectors.cancellation_policy(prop=prop, check_in=booking.check_in, booked_at=booking.created_at),
        },
    )


@never_cache  # shows a booking: never kept by a browser or proxy cache
@require_GET
def confirmation_ics(request: HttpRequest, reference: str) -> HttpResponse:
    booking = _confirmed_booking(request, reference)
    body = selectors.booking_ics(
        booking=booking, url=request.build_absolute_uri(tokens.confirmation_path(reference=reference))
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{booking.reference}.ics"'
    return response


# --- guest portal ---------------------------------------------------------------------------------------

MAGIC_LINK_LIMIT_PER_HOUR = 5


@require_http_methods(["GET", "POST"])
def portal_request(request: HttpRequest) -> HttpResponse:
    form = PortalRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        ref, email = form.cleaned_data["reference"], form.cleaned_data["email"]
        key = f"storefront:magic:{ref}"
        count = cache.get_or_set(key, 0, 3600)
        if count < MAGIC_LINK_LIMIT_PER_HOUR:
            cache.incr(key)
            booking = Booking.objects.filter(reference=ref, guest__email__iexact=email).only("pk").first()
            if booking is not None:
                from apps.bookings.emails import send_magic_link

                try:
                    send_magic_link(booking_id=booking.pk)
                except Exception:  # mail server down: the guest can ask again
                    logger.exception("magic link e-mail for %s failed", ref)
        # The same answer whether or not the booking exists (no enumeration).
        return HttpResponseRedirect(reverse("storefront:portal_request") + "?sent=1")
    return render(
        request,
        "storefront/portal_request.html",
        {"form": form, "sent": request.GET.get("sent") == "1"},
        status=400 if request.method == "POST" else 200,
    )


def _portal_booking(request: HttpRequest, token: str) -> Booking | HttpResponse:
    try:
        booking_id, fingerprint = tokens.portal_token_read(token=token)
    except tokens.ExpiredToken:
        return render(request, "storefront/portal_denied.html", {"expired": True}, status=403)
    except tokens.InvalidToken:
        return render(request, "storefront/portal_denied.html", {"expired": False}, status=403)
    booking = Booking.objects.select_related("property", "guest").filter(pk=booking_id).first()
    if (
        booking is None
        or booking.guest is None
        or not tokens.portal_email_matches(fingerprint=fingerprint, email=booking.guest.email)
    ):
        return render(request, "storefront/portal_denied.html", {"expired": False}, status=403)
    audit.set_actor("guest_link", f"guest link of booking {booking.reference}")
    return booking


def _portal_context(booking: Booking, token: str) -> dict[str, Any]:
    prop = booking.property
    cancellable = services.guest_can_cancel(booking=booking)
    review = getattr(booking, "review", None) if hasattr(booking, "review") else None
    return {
        "booking": booking,
        "property": prop,
        "token": token,
        "times": selectors.stay_times(prop=prop, check_in=booking.check_in, check_out=booking.check_out),
        "quote": selectors.price_lines(booking.price_snapshot or {}),
        "cancellable": cancellable,
        "refund": services.refund_preview(booking=booking) if cancellable else None,
        "refunds": selectors.refunds_given(booking=booking),
        "policy": selectors.cancellation_policy(prop=prop, check_in=booking.check_in, booked_at=booking.created_at),
        "review": review,
        "review_allowed": review is None and selectors.review_allowed(booking=booking),
        "confirmation_path": tokens.confirmation_path(reference=booking.reference),
    }


@never_cache  # shows a booking: never kept by a browser or proxy cache
@require_GET
def portal(request: HttpRequest, token: str) -> HttpResponse:
    booking = _portal_booking(request, token)
    if isinstance(booking, HttpResponse):
        return booking
    ctx = _portal_context(booking, token)
    ctx["review_form"] = ReviewForm()
    return render(request, "storefront/portal.html", ctx)


@never_cache  # shows a booking: never kept by a browser or proxy cache
@require_http_methods(["GET", "POST"])
def portal_cancel(request: HttpRequest, token: str) -> HttpResponse:
    booking = _portal_booking(request, token)
    if isinstance(booking, HttpResponse):
        return booking
    portal_url = reverse("storefront:portal", kwargs={"token": token})
    ctx = _portal_context(booking, token)
    if not ctx["cancellable"]:
        messages.error(request, _("This booking can no longer be cancelled online."))
        return redirect(portal_url)
    form = CancelForm(request.POST or None)
    ctx["form"] = form
    if request.method == "POST" and form.is_valid():
        from apps.payments.services import booking_cancel_by_guest

        try:
            booking_cancel_by_guest(booking_id=booking.pk, reason=form.cleaned_data["reason"])
        except DomainError as exc:
            form.add_error(None, exc.message)
            return render(request, "storefront/portal_cancel.html", ctx, status=409)
        messages.success(request, _("Your booking has been cancelled. We have sent you a confirmation."))
        return redirect(portal_url)
    return render(request, "storefront/portal_cancel.html", ctx, status=400 if request.method == "POST" else 200)


@never_cache  # shows a booking: never kept by a browser or proxy cache
@require_http_methods(["POST"])
def portal_review(request: HttpRequest, token: str) -> HttpResponse:
    booking = _portal_booking(request, token)
    if isinstance(booking, HttpResponse):
        return booking
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            services.review_create(
                booking_id=booking.pk, rating=form.cleaned_data["rating"], text=form.cleaned_data["text"]
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Thank you for your review!"))
        return redirect("storefront:portal", token=token)
    ctx = _portal_context(booking, token)
    ctx["review_form"] = form
    return render(request, "storefront/portal.html", ctx, status=400)
