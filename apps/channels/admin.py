"""Channel manager admin: owner-scoped connections (test / sync now / breaker state), delivery log,
dead letters with retry, inbound log with raw bodies, alerts, reconciliation runs.

Secrets are write-only: the form has empty password inputs ("leave blank to keep"); the encrypted
columns are never rendered.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html

from apps.core.admin_mixins import OwnerScopedAdmin
from apps.core.errors import DomainError
from apps.core.tenancy import is_pms_staff

from . import breaker, ical
from .adapters import get_adapter
from .adapters.base import AdapterError
from .admin_airbnb import AirbnbConnectionAdminMixin
from .delivery import delivery_retry
from .models import (
    ChannelAlert,
    ChannelConnection,
    DeadLetter,
    Delivery,
    InboundMessage,
    ReconciliationItem,
    ReconciliationRun,
)
from .services import connection_sync_now

SECRET_HELP = "Stored encrypted. Leave blank to keep the current value."  # noqa: S105


class ChannelConnectionForm(forms.ModelForm):
    access_token = forms.CharField(
        label="Password / client secret / token",
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=SECRET_HELP,
    )
    webhook_secret = forms.CharField(
        required=False, widget=forms.PasswordInput(render_value=False), help_text=SECRET_HELP
    )
    clear_secrets = forms.BooleanField(required=False, help_text="Remove the stored secrets.")
    reservation_model = forms.ChoiceField(
        label="Expedia reservations",
        choices=[
            ("pull", "Booking retrieval + confirmation (we poll EQC BR and confirm with BC)"),
            ("push", "Booking Notification (Expedia POSTs to /webhooks/expedia/bn/)"),
        ],
        initial="pull",
        required=False,
        help_text="Expedia only. Booking Notification: Expedia authenticates with the user name below and the "
        "webhook secret as its password.",
    )
    bn_username = forms.CharField(
        label="Booking Notification user name", max_length=100, required=False, help_text="Expedia push model only."
    )

    class Meta:
        model = ChannelConnection
        fields = (
            "property",
            "platform",
            "label",
            "external_property_id",
            "external_room_id",
            "external_rate_plan_id",
            "base_url",
            "auth_scheme",
            "username",
            "ical_import_url",
            "ical_source",
            "sync_enabled",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        options = self.instance.settings or {}
        self.initial.setdefault("reservation_model", options.get("reservation_model", "pull"))
        self.initial.setdefault("bn_username", options.get("bn_username", ""))

    def save(self, commit=True):
        conn = super().save(commit=False)
        if conn.platform == "expedia":
            conn.settings = {
                **(conn.settings or {}),
                "reservation_model": self.cleaned_data.get("reservation_model") or "pull",
                "bn_username": self.cleaned_data.get("bn_username", ""),
            }
        if self.cleaned_data.get("clear_secrets"):
            for name in ChannelConnection.SECRET_FIELDS:
                conn.set_secret(name, "")
        for name in ("access_token", "webhook_secret"):
            if self.cleaned_data.get(name):
                conn.set_secret(name, self.cleaned_data[name])
        if commit:
            conn.save()
        return conn


@admin.register(ChannelConnection)
class ChannelConnectionAdmin(AirbnbConnectionAdminMixin, OwnerScopedAdmin):
    form = ChannelConnectionForm
    list_display = (
        "__str__",
        "platform",
        "external_property_id",
        "sync_enabled",
        "sync_status",
        "last_sync_at",
        "breaker_state",
        "secrets_set",
        "deliveries_link",
    )
    list_filter = ("platform", "sync_enabled", "sync_status")
    list_select_related = ("property",)
    search_fields = ("property__name", "external_property_id", "label")
    readonly_fields = (
        "sync_status",
        "last_sync_at",
        "last_error",
        "last_import_at",
        "last_import_status",
        "secrets_set",
        "breaker_state",
        "google_vr_setup",
        "created_at",
        "updated_at",
    )
    actions = ["test_connection", "sync_now", "import_now", "reset_breaker", "accept_empty_feed"]
    raw_id_fields = ("property",)

    @admin.display(description="Secrets")
    def secrets_set(self, obj: ChannelConnection) -> str:
        names = [n.replace("_", " ") for n in obj.SECRET_FIELDS if obj.has_secret(n)]
        return ", ".join(names) + " (encrypted)" if names else "none"

    @admin.display(description="Circuit breaker")
    def breaker_state(self, obj: ChannelConnection) -> str:
        if not obj.pushes:
            return "–"
        try:
            st = breaker.state(obj.platform)
        except Exception:
            return "unknown (Redis unavailable)"
        return f"{st.state.replace('_', '-')} ({st.failures} failure(s))" if st.failures else st.state

    @admin.display(description="Google Hotel Center")
    def google_vr_setup(self, obj: ChannelConnection) -> str:
        """What the owner enters in Hotel Center for a Google connection, and the last price check."""
        if obj.pk is None or obj.platform != "google_vr" or not obj.username:
            return "–"
        from . import google_vr

        accuracy = (obj.settings or {}).get("price_accuracy") or {}
        score = accuracy.get("score")
        return format_html(
            "Hotel List Feed: <code>{}</code><br>Landing page: <code>{}</code><br>Price accuracy: {}",
            google_vr.feed_url(owner_id=obj.property.owner_id, partner=obj.username),
            google_vr.landing_url_template(),
            "not checked yet" if score is None else f"{score:.0%} of {accuracy.get('sampled')} sampled stays",
        )

    @admin.display(description="Deliveries")
    def deliveries_link(self, obj: ChannelConnection) -> str:
        return format_html('<a href="../delivery/?connection__id__exact={}">log</a>', obj.pk)

    @admin.action(description="Test connection")
    def test_connection(self, request, queryset):
        for conn in queryset:
            if conn.platform == "ical":  # a feed we read: fetch and parse it, change nothing
                ok, text = ical.feed_check(connection_id=conn.pk)
                self.message_user(request, f"{conn}: {text}", messages.SUCCESS if ok else messages.ERROR)
                continue
            try:
                text = get_adapter(conn).test_connection()
            except (AdapterError, NotImplementedError) as exc:
                self.message_user(request, f"{conn}: {exc or 'not supported'}", messages.ERROR)
            else:
                self.message_user(request, f"{conn}: {text}", messages.SUCCESS)

    @admin.action(description="Sync now (push the whole calendar)")
    def sync_now(self, request, queryset):
        count = 0
        for conn in queryset.filter(sync_enabled=True).exclude(platform="ical"):
            connection_sync_now(connection_id=conn.pk)
            count += 1
        self.message_user(request, f"Queued a full calendar push to {count} connection(s).", messages.SUCCESS)

    @admin.action(description="Import the iCal feed now", permissions=["change"])
    def import_now(self, request, queryset):
        conns = list(queryset.exclude(ical_import_url=""))
        if not conns:
            self.message_user(request, "None of these connections imports an iCal feed.", messages.WARNING)
        for conn in conns:
            try:
                result = ical.import_connection(connection_id=conn.pk)
            except DomainError as exc:
                self.message_user(request, f"{conn}: {exc}", messages.ERROR)
                continue
            if not result.ok:
                self.message_user(request, f"{conn}: import failed, nothing changed: {result.error}", messages.ERROR)
                continue
            text = (
                f"{conn}: {result.events} event(s): {len(result.created)} new, {len(result.updated)} moved, "
                f"{len(result.released)} released, {result.unchanged} unchanged"
            )
            if result.conflicts:
                self.message_user(
                    request, f"{text}; {len(result.conflicts)} conflict(s) with bookings (see alerts)", messages.WARNING
                )
            else:
                self.message_user(request, text + ".", messages.SUCCESS)

    @admin.action(description="Accept an empty iCal feed (release the dates it blocked)", permissions=["change"])
    def accept_empty_feed(self, request, queryset):
        """The owner's confirmation that a feed which came back empty is empty on purpose."""
        from . import ical

        for conn in queryset.exclude(ical_import_url=""):
            try:
                result = ical.import_connection(connection_id=conn.pk, accept_empty=True)
            except DomainError as exc:
                self.message_user(request, f"{conn}: {exc}", messages.ERROR)
                continue
            if result.ok:
                self.message_user(request, f"{conn}: {len(result.released)} block(s) released.", messages.SUCCESS)
            else:
                self.message_user(request, f"{conn}: nothing changed: {result.error}", messages.ERROR)

    @admin.action(description="Reset the platform's circuit breaker")
    def reset_breaker(self, request, queryset):
        if not is_pms_staff(request.user):
            self.message_user(request, "Only staff can reset a platform's breaker.", messages.ERROR)
            return
        for platform in set(queryset.values_list("platform", flat=True)):
            breaker.reset(platform)
        self.message_user(request, "Breaker reset.", messages.SUCCESS)


class _ReadOnly(OwnerScopedAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(_ReadOnly):
    list_display = (
        "id",
        "connection",
        "kind",
        "range_start",
        "range_end",
        "status",
        "attempts",
        "http_status",
        "latency_ms",
        "next_attempt_at",
        "last_error_kind",
        "created_at",
    )
    list_filter = ("status", "connection__platform", "last_error_kind")
    list_select_related = ("connection", "connection__property")
    show_full_result_count = False
    readonly_fields = [f.name for f in Delivery._meta.fields]
    actions = ["retry"]

    @admin.action(description="Retry dead letters")
    def retry(self, request, queryset):
        n = sum(delivery_retry(delivery_id=pk) for pk in queryset.values_list("pk", flat=True))
        self.message_user(request, f"{n} dead letter(s) queued again.", messages.SUCCESS)

    def has_change_permission(self, request, obj=None):  # actions need it; the form is read-only
        return super(_ReadOnly, self).has_change_permission(request, obj)


@admin.register(DeadLetter)
class DeadLetterAdmin(DeliveryAdmin):
    def get_queryset(self, request):
        return super().get_queryset(request).filter(status=Delivery.Status.DEAD)


@admin.register(InboundMessage)
class InboundMessageAdmin(_ReadOnly):
    list_display = ("received_at", "platform", "via", "status", "signature_valid", "natural_key", "property", "booking")
    list_filter = ("platform", "via", "status", "signature_valid")
    list_select_related = ("property", "booking")
    search_fields = ("natural_key",)
    show_full_result_count = False
    readonly_fields = (
        "id",
        "platform",
        "via",
        "connection",
        "property",
        "received_at",
        "signature_valid",
        "verification_error",
        "natural_key",
        "parse_error",
        "status",
        "result",
        "booking",
        "processed_at",
        "headers",
        "raw_body",
    )
    exclude = ("body",)

    @admin.display(description="Raw body")
    def raw_body(self, obj: InboundMessage) -> str:
        return format_html('<pre style="white-space:pre-wrap;max-width:100em">{}</pre>', obj.body)


@admin.register(ChannelAlert)
class ChannelAlertAdmin(_ReadOnly):
    list_display = ("created_at", "kind", "property", "connection", "message", "resolved_at")
    list_filter = ("kind", ("resolved_at", admin.EmptyFieldListFilter))
    list_select_related = ("property", "connection")
    readonly_fields = ("created_at", "kind", "property", "connection", "message", "details", "resolved_at")
    actions = ["resolve"]

    @admin.action(description="Mark resolved")
    def resolve(self, request, queryset):
        from django.utils import timezone

        n = queryset.filter(resolved_at__isnull=True).update(resolved_at=timezone.now())
        self.message_user(request, f"{n} alert(s) resolved.", messages.SUCCESS)

    def has_change_permission(self, request, obj=None):
        return super(_ReadOnly, self).has_change_permission(request, obj)


class ReconciliationItemInline(admin.TabularInline):
    model = ReconciliationItem
    extra = 0
    can_delete = False
    fields = ("kind", "external_id", "day", "booking", "core_value", "channel_value", "action", "error")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(_ReadOnly):
    list_display = ("started_at", "connection", "status", "summary", "triggered_by", "finished_at")
    list_filter = ("status", "connection__platform")
    list_select_related = ("connection", "connection__property")
    readonly_fields = (
        "connection",
        "started_at",
        "finished_at",
        "range_start",
        "range_end",
        "status",
        "summary",
        "error",
        "triggered_by",
    )
    inlines = [ReconciliationItemInline]


from . import admin_vrbo  # noqa: E402,F401  (Vrbo: feed status and the log of feed reads)
