"""Pages of the back office. Thin: read through ``selectors``, write through the domain services.

Who sees what is ``visible_to``; who may write is ``managed_by`` (a co-host granted only
``view_property`` gets a read-only calendar, and a POST from them is refused with 403)."""

from __future__ import annotations

import calendar as pycal
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from apps.availability import services as availability_services
from apps.availability.errors import BookingConflict
from apps.availability.models import AvailabilityBlock, BlockSource
from apps.core.errors import DomainError
from apps.core.limits import max_days_ahead, max_days_past
from apps.properties.models import Property

from . import selectors
from .forms import CalendarRangeForm

VIEWS = {
    "2w": (gettext_noop("2 weeks"), 14),
    "month": (gettext_noop("Month"), None),
    "90d": (gettext_noop("90 days"), 90),
}

SOURCE_LABELS = {
    "direct": "Direct",
    "api": "API",
    "airbnb": "Airbnb",
    "booking_com": "Booking.com",
    "expedia": "Expedia",
    "fewo_direkt": "FeWo-direkt",
    "google_vr": "Google",
    "ical": "iCal",
}


def _parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def _in_window(value: date | None) -> date | None:
    """A night to prefill the range form with, or None when it lies outside the calendar's window
    (the last representable date has no next day to end a range on)."""
    if value is None:
        return None
    today = timezone.localdate()
    if not today - timedelta(days=max_days_past()) <= value <= today + timedelta(days=max_days_ahead()):
        return None
    return value


def _window(params: Any, today: date) -> tuple[str, date, int]:
    """(view, start, days) from the query string; anything unreadable falls back to this month."""
    view = params.get("view") if params.get("view") in VIEWS else "month"
    start = _parse_date(params.get("start"))
    month = params.get("month") or ""
    if len(month) == 7 and start is None:
        start = _parse_date(month + "-01")
    if start is None:
        start = today.replace(day=1) if view == "month" else today - timedelta(days=1)
    lowest, highest = today - timedelta(days=max_days_past()), today + timedelta(days=max_days_ahead())
    start = min(max(start, lowest), highest)
    if view == "month":
        start = start.replace(day=1)
        days = pycal.monthrange(start.year, start.month)[1]
    else:
        days = VIEWS[view][1]
    return view, start, days


def _shift(view: str, start: date, days: int, direction: int) -> date:
    if view == "month":
        month = start.month - 1 + direction
        return date(start.year + month // 12, month % 12 + 1, 1)
    return start + timedelta(days=days * direction)


def _calendar_url(**params: Any) -> str:
    return reverse("admin:backoffice_calendar") + "?" + urlencode({k: v for k, v in params.items() if v})


def calendar_view(site):
    def view(request):
        today = timezone.localdate()
        view_name, start, days = _window(request.GET, today)
        search = (request.GET.get("q") or "").strip()[:100].replace("\x00", "")
        try:
            page = int(request.GET.get("page") or 1)
        except ValueError:
            page = 1
        chart = selectors.tape_chart(user=request.user, start=start, days=days, search=search, page=page)
        keep = {"view": view_name, "start": start.isoformat(), "q": search}
        months = []
        for d in chart.days:
            if not months or months[-1][0] != (d.year, d.month):
                months.append([(d.year, d.month), d, 0])
            months[-1][2] += 1
        context = {
            **site.each_context(request),
            "title": _("Calendar"),
            "chart": chart,
            "today": today,
            "view": view_name,
            "views": [(key, label) for key, (label, _) in VIEWS.items()],
            "months": [{"first": first, "span": span} for _, first, span in months],
            "prev_url": _calendar_url(**{**keep, "start": _shift(view_name, start, days, -1).isoformat()}),
            "next_url": _calendar_url(**{**keep, "start": _shift(view_name, start, days, 1).isoformat()}),
            "today_url": _calendar_url(view=view_name, q=search),
            "search": search,
            "prev_page_url": _calendar_url(**keep, page=chart.page - 1) if chart.page > 1 else "",
            "next_page_url": _calendar_url(**keep, page=chart.page + 1) if chart.page < chart.pages else "",
            "month_value": start.strftime("%Y-%m"),
            "edit_url": reverse("admin:backoffice_calendar_edit"),
            "sources": SOURCE_LABELS,
            "any_writable": any(row.may_change for row in chart.rows),
        }
        return TemplateResponse(request, "admin/backoffice/calendar.html", context)

    return view


def _property_for(request, raw: Any) -> Property | None:
    """The visible property named in the request; 404 for an outsider's or a forged id."""
    try:
        pk = int(raw)
    except (TypeError, ValueError):
        return None
    if not 0 < pk < 2**63:
        return None
    prop = Property.objects.visible_to(request.user).filter(pk=pk).first()
    if prop is None:
        raise Http404("Property not found.")
    if not Property.objects.managed_by(request.user).filter(pk=pk).exists():
        raise PermissionDenied("You may look at this property's calendar but not change it.")
    return prop


def calendar_edit_view(site):
    def view(request):
        data = request.POST if request.method == "POST" else None
        prop = _property_for(request, (data or request.GET).get("property"))
        initial: dict[str, Any] = {"action": "block"}
        if prop is not None:
            initial["property"] = prop.pk
            first = _in_window(_parse_date(request.GET.get("first_night")))
            last = _in_window(_parse_date(request.GET.get("last_night"))) or first
            if first:
                initial["first_night"], initial["last_night"] = first, last
                if last and last >= first:
                    values = selectors.night_values(prop=prop, start=first, end=last + timedelta(days=1))
                    initial["price"] = None
                    initial["current"] = values
        form = CalendarRangeForm(data, user=request.user, initial=initial)
        if data is not None and form.is_valid():
            response = _apply(request, form)
            if response is not None:
                return response
        context = {
            **site.each_context(request),
            "title": _("Change the calendar"),
            "form": form,
            "prop": prop,
            "current": initial.get("current"),
            "calendar_url": reverse("admin:backoffice_calendar"),
        }
        return TemplateResponse(request, "admin/backoffice/calendar_edit.html", context)

    return view


def _apply(request, form: CalendarRangeForm):
    """Hand the range to the service; a refusal (taken dates, invalid values) becomes a form error."""
    data = form.cleaned_data
    prop, start, end, action = data["property"], data["first_night"], data["end"], data["action"]
    back = _calendar_url(view="month", start=start.replace(day=1).isoformat())
    if action == "booking":
        query = urlencode({"property": prop.pk, "check_in": start.isoformat(), "check_out": end.isoformat()})
        return HttpResponseRedirect(reverse("admin:bookings_booking_add") + "?" + query)
    try:
        if action in ("block", "maintenance"):
            availability_services.block_create(
                property_id=prop.pk,
                start_date=start,
                end_date=end,
                block_type=AvailabilityBlock.Type.BLOCKED if action == "block" else AvailabilityBlock.Type.MAINTENANCE,
                note=data.get("note") or "",
                source=BlockSource.OWNER,
            )
            done = _("%(name)s: %(n)s night(s) from %(start)s blocked.") % {
                "name": prop.name,
                "n": (end - start).days,
                "start": start,
            }
        else:
            availability_services.calendar_range_update(
                property_id=prop.pk, start=start, end=end, changes=form.rate_changes(), source=BlockSource.OWNER
            )
            done = _("%(name)s: prices and stay rules from %(start)s to %(end)s changed.") % {
                "name": prop.name,
                "start": start,
                "end": end,
            }
    except BookingConflict as exc:
        taken = ", ".join(f"{c.get('reference') or c['kind']} ({c['start']} to {c['end']})" for c in exc.conflicts)
        form.add_error(
            None, _("These nights are not available: taken by %(taken)s.") % {"taken": taken} if taken else str(exc)
        )
        return None
    except DomainError as exc:
        form.add_error(None, str(exc))
        return None
    messages.success(request, done + " " + _("The channels are being updated."))
    return HttpResponseRedirect(back)


def _revenue_chart(board: selectors.Dashboard, currency: str) -> dict[str, Any]:
    """Server-rendered SVG bars of the last 12 months' revenue (no chart library, no script)."""
    height, bar, gap, top = 140, 34, 14, 16
    values = [row["revenue"].get(currency, Decimal(0)) for row in board.monthly]
    peak = max(values) if values and max(values) > 0 else Decimal(1)
    bars = []
    for i, (row, value) in enumerate(zip(board.monthly, values, strict=True)):
        h = int(Decimal(height) * value / peak)
        x = i * (bar + gap) + gap
        bars.append(
            {
                "x": x,
                "y": top + height - h,
                "h": h,
                "w": bar,
                "label": row["month"],
                "value": value,
                "text_x": x + bar // 2,
                "label_y": top + height + 14,
            }
        )
    return {"currency": currency, "bars": bars, "width": 12 * (bar + gap) + gap, "height": top + height + 22}


def dashboard_context(request) -> dict[str, Any]:
    today = timezone.localdate()
    board = selectors.dashboard(user=request.user, today=today)
    return {
        "calendar_url": reverse("admin:backoffice_calendar"),
        "board": board,
        "charts": [_revenue_chart(board, cur) for cur in board.currencies],
        "source_labels": SOURCE_LABELS,
    }


def sync_health_view(site):
    def view(request):
        from apps.channels.ical_reads import export_last_reads

        rows = selectors.sync_health(user=request.user)
        props = list(Property.objects.visible_to(request.user).order_by("name", "id").only("pk", "name"))
        reads = export_last_reads(property_ids=[p.pk for p in props])
        context = {
            **site.each_context(request),
            "title": _("Sync health"),
            "rows": rows,
            "feeds": [{"prop": p, "read": reads.get(p.pk)} for p in props],
            "now": timezone.now(),
            "staff_log": request.user.has_perm("channels.view_delivery"),
            "action_url": reverse("admin:backoffice_sync_action"),
        }
        return TemplateResponse(request, "admin/backoffice/sync_health.html", context)

    return view


def sync_action_view(site):
    """POST only: retry a connection's dead letters, or push its whole calendar again ("sync now")."""
    from django.http import HttpResponseNotAllowed

    from apps.channels.delivery import delivery_retry
    from apps.channels.models import ChannelConnection, Delivery
    from apps.channels.services import connection_sync_now

    def view(request):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        try:
            pk = int(request.POST.get("connection", ""))
        except ValueError:
            pk = 0
        if not 0 < pk < 2**63:
            raise Http404("Connection not found.")
        conn = ChannelConnection.objects.visible_to(request.user).filter(pk=pk).first()
        if conn is None:
            raise Http404("Connection not found.")
        if not ChannelConnection.objects.managed_by(request.user).filter(pk=pk).exists():
            raise PermissionDenied("You may look at this connection but not change it.")
        action = request.POST.get("action")
        if action == "retry":
            dead = Delivery.objects.filter(connection_id=pk, status=Delivery.Status.DEAD).values_list("pk", flat=True)
            n = sum(delivery_retry(delivery_id=d) for d in list(dead))
            messages.success(request, f"{conn}: {n} dead letter(s) queued again.")
        elif action == "sync_now":
            if not conn.pushes:
                messages.error(request, f"{conn}: an iCal import is read, not pushed; it is imported every 15 minutes.")
            else:
                connection_sync_now(connection_id=pk)
                messages.success(request, f"{conn}: the whole calendar is being pushed again.")
        else:
            messages.error(request, "Unknown action; nothing was done.")
        return HttpResponseRedirect(reverse("admin:backoffice_sync_health"))

    return view


def notifications_view(site):
    """The user's own notifications (nobody else's, whatever their role) and their e-mail preferences."""
    from .forms import NotificationPreferenceForm
    from .models import NotificationPreference, OwnerNotification

    def view(request):
        pref = NotificationPreference.objects.filter(user=request.user).first() or NotificationPreference(
            user=request.user
        )
        form = NotificationPreferenceForm(instance=pref)
        if request.method == "POST":
            if request.POST.get("action") == "read":
                OwnerNotification.objects.filter(recipient=request.user, read_at__isnull=True).update(
                    read_at=timezone.now()
                )
                messages.success(request, _("All notifications marked as read."))
                return HttpResponseRedirect(reverse("admin:backoffice_notifications"))
            form = NotificationPreferenceForm(request.POST, instance=pref)
            if form.is_valid():
                form.save()
                messages.success(request, _("Your notification preferences were saved."))
                return HttpResponseRedirect(reverse("admin:backoffice_notifications"))
        context = {
            **site.each_context(request),
            "title": _("Notifications"),
            "notes": list(OwnerNotification.objects.filter(recipient=request.user).select_related("booking")[:100]),
            "form": form,
        }
        return TemplateResponse(request, "admin/backoffice/notifications.html", context)

    return view


def ical_regenerate_view(site):
    """POST only: a new iCal export URL for a property the user may change (the old one answers 404)."""
    from django.http import HttpResponseNotAllowed

    from apps.channels.ical import feed_token_regenerate

    def view(request, pk: int):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not Property.objects.visible_to(request.user).filter(pk=pk).exists():
            raise Http404("Property not found.")
        if not Property.objects.managed_by(request.user).filter(pk=pk).exists():
            raise PermissionDenied("You may look at this property but not change it.")
        feed_token_regenerate(property_id=pk)
        messages.success(request, "The iCal export URL was regenerated: give the new one to your platforms.")
        return HttpResponseRedirect(reverse("admin:properties_property_change", args=[pk]))

    return view
