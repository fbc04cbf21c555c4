"""Google Vacation Rentals landing pages: ``/go/google/<partner hotel id>/?checkin=YYYY-MM-DD&nights=N
&guests=G&currency=XXX`` (the template the owner enters in Hotel Center, ``apps.channels.google_vr``).

The visit opens our property page with the stay picked and its quote shown (the same page, the same
price Google showed from our ARI), and remembers in the guest's session that Google sent them: a
booking of that home made in this session within ``ATTRIBUTION_DAYS`` is recorded with
``attribution = "google_vr"`` (its source stays ``direct``: the lifecycle is the direct one).
Bad or missing parameters open the property page without a stay, never an error.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from apps.channels import google_vr

ATTRIBUTION_KEY = "storefront_attribution"
ATTRIBUTION_DAYS = 30


def _stay(request: HttpRequest) -> tuple[date, date, int] | None:
    try:
        check_in = date.fromisoformat(request.GET.get("checkin", ""))
        nights = int(request.GET.get("nights", ""))
        guests = int(request.GET.get("guests", "2") or 2)
    except ValueError:
        return None
    if not (1 <= nights <= settings.MAX_STAY_NIGHTS and 1 <= guests <= settings.MAX_GUESTS):
        return None
    try:
        return check_in, check_in + timedelta(days=nights), guests
    except OverflowError:
        return None


@require_GET
def landing(request: HttpRequest, hotel_id: str) -> HttpResponse:
    prop = google_vr.landing_property(hotel_id=hotel_id)
    if prop is None:
        raise Http404("This home is not available.")
    request.session[ATTRIBUTION_KEY] = {
        "source": google_vr.PLATFORM,
        "property_id": prop.pk,
        "at": timezone.now().isoformat(),
    }
    target = reverse("storefront:property", kwargs={"slug": prop.slug})
    stay = _stay(request)
    if stay is not None:
        from django.http import QueryDict

        q = QueryDict(mutable=True)
        q.update({"check_in": stay[0].isoformat(), "check_out": stay[1].isoformat(), "guests": str(stay[2])})
        target += "?" + q.urlencode() + "#book"
    return redirect(target)


def attribution_for(request: HttpRequest, prop) -> str:
    """The referrer to record on a direct booking of ``prop`` made in this session ("" for none)."""
    data = request.session.get(ATTRIBUTION_KEY) or {}
    if not isinstance(data, dict) or data.get("property_id") != prop.pk:
        return ""
    try:
        at = datetime.fromisoformat(data.get("at", ""))
    except (TypeError, ValueError):
        return ""
    if timezone.now() - at > timedelta(days=ATTRIBUTION_DAYS):
        return ""
    return str(data.get("source", ""))[:20]
