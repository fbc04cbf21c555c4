"""Admin: an owner's webhook subscriptions (secret shown once, test event, rotate, re-activate) and
the delivery log with a retry action for dead letters. Every write goes through ``services``."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html

from apps.core.admin_mixins import OwnerScopedAdmin
from apps.core.errors import DomainError

from . import services
from .events import CATALOGUE, EVENT_TYPES
from .models import WebhookDelivery, WebhookSubscription


class SubscriptionForm(forms.ModelForm):
    event_types = forms.MultipleChoiceField(
        choices=[(t, f"{t} – {CATALOGUE[t][0]}") for t in EVENT_TYPES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every event type.",
    )

    class Meta:
        model = WebhookSubscription
        fields = ["url", "description", "event_types", "is_active"]

    def clean(self):
        data = super().clean()
        if "url" in data:
            try:
                services.subscription_validate(url=data["url"], event_types=list(data.get("event_types") or []))
            except DomainError as exc:
                self.add_error(exc.details.get("field") if exc.details.get("field") in self.fields else None, str(exc))
        return data


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(OwnerScopedAdmin):
    form = SubscriptionForm
    list_display = ["__str__", "url", "owner", "is_active", "failure_streak", "last_success_at", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["url", "description"]
    readonly_fields = ["owner", "disabled_reason", "failure_streak", "failing_since", "last_success_at", "recent"]
    actions = ["send_test_event", "rotate_secret", "reactivate"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_fields(self, request, obj=None):
        fields = ["url", "description", "event_types", "is_active"]
        return fields if obj is None else [*fields, *self.readonly_fields]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None:
            form.base_fields["event_types"].initial = obj.event_types
        return form

    @admin.display(description="Latest deliveries")
    def recent(self, obj):
        rows = obj.deliveries.order_by("-created_at")[:10]
        if not rows:
            return "None yet."
        return format_html(
            "<br>".join(["{} {} – {} (HTTP {}, {} ms, {} attempt(s))"] * len(rows)),
            *[
                value
                for d in rows
                for value in (
                    d.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                    d.event_type,
                    d.get_status_display(),
                    d.http_status or "–",
                    d.latency_ms if d.latency_ms is not None else "–",
                    d.attempts,
                )
            ],
        )

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        fields = {
            "url": data["url"],
            "description": data.get("description", ""),
            "event_types": list(data.get("event_types") or []),
        }
        if change:  # a DomainError here is shown as a message by OwnerScopedAdmin
            services.subscription_update(subscription=obj, is_active=data.get("is_active", True), **fields)
            return
        sub, secret = services.subscription_create(owner=request.user, **fields)
        obj.pk = sub.pk
        messages.warning(
            request,
            format_html(
                "Signing secret (shown only now, keep it safe): <code>{}</code>. Verify each request's "
                "<code>webhook-signature</code> with it (see the README).",
                secret,
            ),
        )

    def delete_model(self, request, obj):
        services.subscription_delete(subscription=obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            services.subscription_delete(subscription=obj)

    def _changeable(self, request, queryset):
        return [obj for obj in queryset if self.has_change_permission(request, obj)]

    @admin.action(description="Send a test event")
    def send_test_event(self, request, queryset):
        subs = self._changeable(request, queryset)
        for sub in subs:
            services.test_event_send(subscription=sub)
        self.message_user(request, f"A test event is on its way to {len(subs)} endpoint(s).")

    @admin.action(description="Rotate the signing secret")
    def rotate_secret(self, request, queryset):
        for sub in self._changeable(request, queryset):
            secret = services.subscription_rotate_secret(subscription=sub)
            messages.warning(
                request, format_html("New secret for {} (shown only now): <code>{}</code>", sub.url, secret)
            )

    @admin.action(description="Re-activate (clears the failure streak)")
    def reactivate(self, request, queryset):
        subs = self._changeable(request, queryset)
        for sub in subs:
            services.subscription_update(subscription=sub, is_active=True)
        self.message_user(request, f"{len(subs)} subscription(s) active.")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(OwnerScopedAdmin):
    list_display = ["created_at", "event_type", "subscription", "status", "attempts", "http_status", "latency_ms"]
    list_filter = ["status", "event_type"]
    search_fields = ["message_id"]
    list_select_related = ["subscription"]
    actions = ["retry"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Retry (dead letters only; same message id)")
    def retry(self, request, queryset):
        n = sum(
            services.delivery_retry(delivery_id=d.pk)
            for d in queryset.filter(status=WebhookDelivery.Status.DEAD)
            if self.has_change_permission(request, d)
        )
        self.message_user(request, f"{n} dead letter(s) queued again.")
