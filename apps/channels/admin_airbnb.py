"""Airbnb in the admin: "Connect Airbnb" (OAuth2 consent on Airbnb, then back), choosing the listing
of a property, and the requests to book and inquiries the owner answers. Thin: the logic is in
``apps.channels.airbnb``."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.html import format_html

from apps.core.admin_mixins import OwnerScopedAdmin
from apps.core.errors import DomainError
from apps.properties.models import Property

from . import airbnb
from .models import AirbnbRequest, ChannelConnection

SESSION_NONCE = "airbnb_oauth_nonce"


class AirbnbConnectionAdminMixin:
    """Mixed into ``ChannelConnectionAdmin``: the connect flow's three pages."""

    change_list_template = "admin/channels/channelconnection/change_list_airbnb.html"

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("airbnb/connect/", wrap(self.airbnb_connect), name="channels_channelconnection_airbnb_connect"),
            path("airbnb/callback/", wrap(self.airbnb_callback), name="channels_channelconnection_airbnb_callback"),
            path(
                "<path:object_id>/airbnb-listing/",
                wrap(self.airbnb_listing),
                name="channels_channelconnection_airbnb_listing",
            ),
            *super().get_urls(),
        ]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "airbnb_links"] if obj is not None and obj.platform == "airbnb" else fields

    @admin.display(description="Airbnb")
    def airbnb_links(self, obj: ChannelConnection) -> str:
        listing = reverse("admin:channels_channelconnection_airbnb_listing", args=[obj.pk])
        connect = reverse("admin:channels_channelconnection_airbnb_connect") + f"?property={obj.property_id}"
        chosen = obj.external_property_id or "none chosen yet"
        return format_html(
            'Listing: {} – <a href="{}">choose the Airbnb listing</a> · <a href="{}">connect Airbnb again</a>',
            chosen,
            listing,
            connect,
        )

    def _managed_properties(self, request):
        return Property.objects.managed_by(request.user).order_by("name")

    def airbnb_connect(self, request):
        """Pick a property (if not given), then off to Airbnb's consent page."""
        props = self._managed_properties(request)
        chosen = request.GET.get("property", "")
        if chosen:
            prop = props.filter(pk=chosen).first() if chosen.isdigit() else None
            if prop is None:
                messages.error(request, "You cannot connect that property.")
                return HttpResponseRedirect(reverse("admin:channels_channelconnection_airbnb_connect"))
            redirect_uri = request.build_absolute_uri(reverse("admin:channels_channelconnection_airbnb_callback"))
            url, nonce = airbnb.authorize_url(property_id=prop.pk, user_id=request.user.pk, redirect_uri=redirect_uri)
            request.session[SESSION_NONCE] = nonce
            return HttpResponseRedirect(url)
        context = {
            **self.admin_site.each_context(request),
            "title": "Connect Airbnb",
            "properties": props,
            "opts": self.model._meta,
        }
        return render(request, "admin/channels/airbnb_connect.html", context)

    def airbnb_callback(self, request):
        """Airbnb sends the owner back here with ``code`` and ``state`` (or ``error``)."""
        back = reverse("admin:channels_channelconnection_changelist")
        nonce = request.session.pop(SESSION_NONCE, "")
        try:
            property_id = airbnb.state_check(state=request.GET.get("state", ""), user_id=request.user.pk, nonce=nonce)
        except DomainError as exc:
            messages.error(request, str(exc))
            return HttpResponseRedirect(back)
        if not self._managed_properties(request).filter(pk=property_id).exists():
            raise PermissionDenied
        if request.GET.get("error") or not request.GET.get("code"):
            messages.warning(request, "Airbnb was not connected: the authorization was declined.")
            return HttpResponseRedirect(back)
        redirect_uri = request.build_absolute_uri(reverse("admin:channels_channelconnection_airbnb_callback"))
        try:
            conn = airbnb.connect_finish(property_id=property_id, code=request.GET["code"], redirect_uri=redirect_uri)
        except DomainError as exc:
            messages.error(request, str(exc))
            return HttpResponseRedirect(back)
        if conn.external_property_id:
            messages.success(
                request, f"Airbnb connected again for {conn.property}; the whole calendar is being pushed."
            )
            return HttpResponseRedirect(reverse("admin:channels_channelconnection_change", args=[conn.pk]))
        messages.success(request, "Airbnb authorized this app. Now choose the Airbnb listing of this property.")
        return HttpResponseRedirect(reverse("admin:channels_channelconnection_airbnb_listing", args=[conn.pk]))

    def airbnb_listing(self, request, object_id):
        conn = self.get_queryset(request).filter(pk=object_id if str(object_id).isdigit() else 0).first()
        if conn is None or conn.platform != "airbnb":
            return self._get_obj_does_not_exist_redirect(request, self.model._meta, object_id)
        if not self.has_change_permission(request, conn):
            raise PermissionDenied
        error = ""
        if request.method == "POST":
            try:
                airbnb.listing_map(connection_id=conn.pk, listing_id=request.POST.get("listing", ""))
            except DomainError as exc:
                error = str(exc)
            else:
                messages.success(request, "Listing chosen; the whole calendar and its settings are being pushed.")
                return HttpResponseRedirect(reverse("admin:channels_channelconnection_change", args=[conn.pk]))
        try:
            listings = airbnb.listings_for(connection=conn)
        except DomainError as exc:
            listings, error = [], str(exc)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Choose the Airbnb listing of {conn.property}",
            "connection": conn,
            "listings": listings,
            "error": error,
            "opts": self.model._meta,
        }
        return render(request, "admin/channels/airbnb_listing.html", context)


@admin.register(AirbnbRequest)
class AirbnbRequestAdmin(OwnerScopedAdmin):
    list_display = (
        "created_at",
        "kind",
        "property",
        "check_in",
        "check_out",
        "guests",
        "guest_name",
        "state",
        "expires_at",
        "booking",
    )
    list_filter = ("kind", "status")
    list_select_related = ("property", "booking")
    readonly_fields = [f.name for f in AirbnbRequest._meta.fields]
    actions = ["accept", "pre_approve", "decline"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Status", ordering="status")
    def state(self, obj: AirbnbRequest) -> str:
        if obj.status in (AirbnbRequest.Status.PENDING, AirbnbRequest.Status.PRE_APPROVED) and obj.lapsed:
            return "Expired (Airbnb's time to answer has passed)"
        return obj.get_status_display()

    def _answer(self, request, queryset, action: str) -> None:
        for req in queryset:
            if not self.has_change_permission(request, req):
                self.message_user(request, f"{req.code}: you cannot answer this one.", messages.ERROR)
                continue
            try:
                done = airbnb.request_answer(request_id=req.pk, action=action, user=request.user)
            except DomainError as exc:
                self.message_user(request, f"{req.code}: {exc}", messages.ERROR)
            else:
                level = messages.WARNING if done.last_error else messages.SUCCESS
                self.message_user(request, f"{req.code}: {done.get_status_display()}. {done.last_error}", level)

    @admin.action(description="Accept (request to book)", permissions=["change"])
    def accept(self, request, queryset):
        self._answer(request, queryset, "accept")

    @admin.action(description="Pre-approve (inquiry)", permissions=["change"])
    def pre_approve(self, request, queryset):
        self._answer(request, queryset, "pre_approve")

    @admin.action(description="Decline", permissions=["change"])
    def decline(self, request, queryset):
        self._answer(request, queryset, "decline")
