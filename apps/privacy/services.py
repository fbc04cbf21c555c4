"""GDPR: export and erase a guest's personal data within one owner's data; retention of raw inbound bodies.

A guest is identified by e-mail within an owner's guest book (the same person booking two owners is two
guests: each owner answers for their own data). What belongs to them: the owner's guests with that
e-mail, the bookings linked to them or whose stored contact (``guest_contact``) has that e-mail, and
through those bookings their payments, refunds, review, raw inbound channel messages and audit entries.

Erase replaces the personal data irreversibly (name -> "Erased guest", e-mail, phone, notes, the
booking's contact and requests, the review's text, raw inbound bodies, Idempotency-Key replies, and the
same values inside the audit log's before/after) and keeps what the owner must keep: bookings with
their references, dates, amounts, currency, status, price breakdown and country, payments and refunds,
and issued invoices and credit notes exactly as issued (tax records under legal retention: they keep the
buyer's name and the e-mail printed on them until that period ends; ``apps.ledger``). Everything
happens in one transaction and is itself audited (action ``gdpr.erase``; the entry names the guest ids,
never the e-mail).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.forms.models import model_to_dict
from django.utils import timezone

from apps.bookings.models import Booking, Guest
from apps.channels.models import InboundMessage
from apps.core import audit
from apps.core.errors import ValidationFailed
from apps.core.models import AuditEntry
from apps.payments.models import Payment, Refund, StripeEvent

ERASED_NAME = "Erased guest"
ERASED = "[erased]"
#: Keys holding personal data, wherever they appear (rows, contacts, audit before/after).
PERSONAL_KEYS = (
    "first_name", "last_name", "email", "phone", "notes", "guest_contact", "special_requests",
    "cancellation_reason", "text", "body",
)  # fmt: skip


def normalise_email(email: str) -> str:
    value = (email or "").strip().lower()
    if "@" not in value or len(value) > 254:
        raise ValidationFailed("Give the guest's e-mail address.")
    return value


def email_digest(email: str) -> str:
    """A short keyed digest to name an erased guest in logs without the e-mail."""
    return hashlib.sha256((settings.SECRET_KEY + ":gdpr:" + email).encode()).hexdigest()[:16]


def _scope(*, owner_id: int, email: str) -> tuple[list[Guest], list[Booking]]:
    guests = list(Guest.objects.filter(owner_id=owner_id, email=email).order_by("pk"))
    bookings = list(
        Booking.objects.filter(property__owner_id=owner_id)
        .filter(Q(guest_id__in=[g.pk for g in guests]) | Q(guest_contact__email=email))
        .select_related("property")
        .order_by("pk")
    )
    return guests, bookings


def _row(obj: Any, *, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    data = model_to_dict(obj, exclude=list(exclude))
    data["id"] = obj.pk
    for field in obj._meta.concrete_fields:  # model_to_dict leaves out non-editable fields
        if field.name not in data and field.name not in exclude:
            data[field.name] = getattr(obj, field.attname)
    return data


def guest_counts(*, owner_id: int, email: str) -> dict[str, int]:
    """What an erase would touch (no entry written)."""
    guests, bookings = _scope(owner_id=owner_id, email=normalise_email(email))
    return {"guests": len(guests), "bookings": len(bookings)}


def guest_export(*, owner_id: int, email: str) -> dict[str, Any]:
    """One JSON-ready document of everything held about the guest in this owner's data."""
    from apps.storefront.models import Review
    from apps.storefront.selectors import booking_ics

    email = normalise_email(email)
    guests, bookings = _scope(owner_id=owner_id, email=email)
    booking_ids = [b.pk for b in bookings]
    payments = list(Payment.objects.filter(booking_id__in=booking_ids).order_by("pk"))
    objects = [("bookings_guest", g.pk) for g in guests] + [("bookings_booking", b.pk) for b in bookings]
    audit_q = Q(pk__in=[])
    for table, pk in objects:
        audit_q |= Q(table_name=table, object_id=str(pk))
    document = {
        "subject": {"email": email, "owner_id": owner_id},
        "exported_at": timezone.now(),
        "guests": [_row(g) for g in guests],
        "bookings": [
            {
                **_row(b),
                "files": {
                    f"{b.reference}.ics": booking_ics(booking=b, url=settings.SITE_URL).decode("utf-8"),
                },
            }
            for b in bookings
        ],
        "payments": [_row(p, exclude=("client_secret",)) for p in payments],
        "refunds": [_row(r) for r in Refund.objects.filter(booking_id__in=booking_ids).order_by("pk")],
        "reviews": [_row(r) for r in Review.objects.filter(booking_id__in=booking_ids).order_by("pk")],
        "inbound_messages": [
            _row(m, exclude=("headers",)) for m in InboundMessage.objects.filter(booking_id__in=booking_ids)
        ],
        "audit_log": [_row(e) for e in AuditEntry.objects.filter(audit_q).order_by("created_at", "pk")]
        if objects
        else [],  # fmt: skip
    }
    audit.record(
        action="gdpr.export",
        table_name="bookings_guest",
        object_id=",".join(str(g.pk) for g in guests) or "-",
        owner_id=owner_id,
        details={"subject": email_digest(email), "guests": len(guests), "bookings": len(bookings)},
    )
    # plain JSON types (dates, decimals, UUIDs as strings)
    import json

    return json.loads(json.dumps(document, cls=DjangoJSONEncoder))


def _erase_values(data: Any) -> Any:
    """``data`` (an audit before/after dict) with every personal value replaced."""
    if not isinstance(data, dict):
        return data
    return {k: (ERASED if k in PERSONAL_KEYS and v not in (None, "", {}) else v) for k, v in data.items()}


def guest_erase(*, owner_id: int, email: str) -> dict[str, int]:
    """Erase the guest's personal data in this owner's data (irreversible). Returns what was changed."""
    from apps.api.models import IdempotencyRecord
    from apps.storefront.models import Review

    email = normalise_email(email)
    with transaction.atomic(), audit.action("gdpr.erase"):
        guests, bookings = _scope(owner_id=owner_id, email=email)
        guest_ids = [g.pk for g in guests]
        booking_ids = [b.pk for b in bookings]
        Guest.objects.filter(pk__in=guest_ids).update(
            first_name=ERASED_NAME, last_name="", email="", phone="", notes="", updated_at=timezone.now()
        )
        for booking in bookings:
            contact = booking.guest_contact or {}
            erased = {k: "" for k in ("first_name", "last_name", "email", "phone")}
            erased["first_name"] = ERASED_NAME
            Booking.objects.filter(pk=booking.pk).update(
                guest_contact={**contact, **erased},
                special_requests="",
                cancellation_reason="",
                updated_at=timezone.now(),
            )
        Payment.objects.filter(booking_id__in=booking_ids).exclude(client_secret="").update(client_secret="")
        intents = list(Payment.objects.filter(booking_id__in=booking_ids).values_list("intent_id", flat=True))
        StripeEvent.objects.filter(object_id__in=intents).update(payload={"erased": True})
        Review.objects.filter(booking_id__in=booking_ids).update(text="")
        messages = InboundMessage.objects.filter(
            Q(booking_id__in=booking_ids) | Q(property__owner_id=owner_id, body__icontains=email)
        )
        message_count = messages.update(body="", headers={}, result={}, parse_error="")
        IdempotencyRecord.objects.filter(
            resource_type="bookings.booking", resource_id__in=[str(pk) for pk in booking_ids]
        ).update(response_body={})
        # the audit log: every entry of these rows (the erase's own entries included) loses the values
        objects = [("bookings_guest", pk) for pk in guest_ids] + [("bookings_booking", pk) for pk in booking_ids]
        objects += [
            ("storefront_review", pk)
            for pk in Review.objects.filter(booking_id__in=booking_ids).values_list("pk", flat=True)
        ]
        redacted = 0
        if objects:
            audit_q = Q(pk__in=[])
            for table, pk in objects:
                audit_q |= Q(table_name=table, object_id=str(pk))
            with audit.redacting():
                for entry in AuditEntry.objects.filter(audit_q).only("pk", "before", "after"):
                    before, after = _erase_values(entry.before), _erase_values(entry.after)
                    if (before, after) != (entry.before, entry.after):
                        AuditEntry.objects.filter(pk=entry.pk).update(before=before, after=after)
                        redacted += 1
        result = {
            "guests": len(guest_ids),
            "bookings": len(booking_ids),
            "inbound_messages": message_count,
            "audit_entries_redacted": redacted,
        }
        audit.record(
            action="gdpr.erase",
            table_name="bookings_guest",
            object_id=",".join(str(pk) for pk in guest_ids) or "-",
            owner_id=owner_id,
            details={"subject": email_digest(email), **result},
        )
    return result


def inbound_bodies_purge(*, now: Any = None, days: int | None = None, limit: int = 5000) -> int:
    """Raw inbound bodies (guest data) are kept ``INBOUND_BODY_RETENTION_DAYS`` after the stay ended (or
    after receipt when no booking came of them); then the body goes, the metadata stays."""
    now = now or timezone.now()
    days = settings.INBOUND_BODY_RETENTION_DAYS if days is None else days
    cutoff = now - timedelta(days=days)
    stale = InboundMessage.objects.exclude(body="").filter(
        Q(booking__isnull=True, received_at__lt=cutoff)
        | Q(booking__isnull=False, booking__check_out__lt=cutoff.date(), received_at__lt=cutoff)
    )
    ids = list(stale.values_list("pk", flat=True)[:limit])
    if not ids:
        return 0
    with audit.action("retention.inbound_bodies"):
        return InboundMessage.objects.filter(pk__in=ids).update(body="", headers={})


# --- an owner's own account -------------------------------------------------------------------------


def owner_export(*, user_id: int) -> dict[str, Any]:
    """Everything held about an owner as a person: the account, their properties and channel connections
    (never secrets), API tokens (never keys) and the audit log of their own actions."""
    import json

    from django.contrib.auth import get_user_model

    from apps.api.models import ApiToken
    from apps.channels.models import ChannelConnection
    from apps.properties.models import Property

    user = get_user_model().objects.get(pk=user_id)
    secret = ("password", "access_token_encrypted", "refresh_token_encrypted", "webhook_secret_encrypted")
    document = {
        "subject": {"user_id": user.pk, "username": user.get_username()},
        "exported_at": timezone.now(),
        "account": {
            **_row(user, exclude=("password", "user_permissions")),
            "groups": list(user.groups.values_list("name", flat=True)),
        },
        "properties": [_row(p) for p in Property.objects.filter(owner=user).order_by("pk")],
        "channel_connections": [
            _row(c, exclude=secret) for c in ChannelConnection.objects.filter(property__owner=user).order_by("pk")
        ],
        "api_tokens": [_row(t, exclude=("key_hash",)) for t in ApiToken.objects.filter(user=user).order_by("pk")],
        "audit_log_of_their_actions": [
            _row(e) for e in AuditEntry.objects.filter(actor_user_id=user.pk).order_by("created_at", "pk")
        ],
    }
    audit.record(action="gdpr.export_owner", table_name="auth_user", object_id=str(user.pk), owner_id=user.pk)
    return json.loads(json.dumps(document, cls=DjangoJSONEncoder))


def owner_erase(*, user_id: int) -> dict[str, int]:
    """Close an owner's account for good: personal data replaced, sign-in impossible, API tokens revoked,
    channel connections disconnected (secrets removed, sync off), properties closed. Bookings, guests'
    records, amounts and tax records stay (guests are erased one by one with ``guest_erase``)."""
    from django.contrib.auth import get_user_model

    from apps.api.models import ApiToken
    from apps.channels.models import ChannelConnection
    from apps.properties.models import Property

    User = get_user_model()  # noqa: N806
    with transaction.atomic(), audit.action("gdpr.erase_owner"):
        user = User.objects.select_for_update().get(pk=user_id)
        user.username = f"erased-owner-{user.pk}"
        user.first_name = user.last_name = user.email = ""
        user.is_active = False
        user.set_unusable_password()
        user.save()
        now = timezone.now()
        tokens = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
        connections = ChannelConnection.objects.filter(property__owner=user).update(
            sync_enabled=False,
            username="",
            access_token_encrypted="",
            refresh_token_encrypted="",
            webhook_secret_encrypted="",
            token_expires_at=None,
            updated_at=now,
        )
        properties = Property.objects.filter(owner=user).exclude(status=Property.Status.INACTIVE)
        closed = properties.update(status=Property.Status.INACTIVE, updated_at=now)
        result = {"api_tokens_revoked": tokens, "connections_disconnected": connections, "properties_closed": closed}
        audit.record(
            action="gdpr.erase_owner", table_name="auth_user", object_id=str(user.pk), owner_id=user.pk, details=result
        )
        # the audit log: the account's personal values in its own entries
        keys = ("username", *PERSONAL_KEYS)
        with audit.redacting():
            for entry in AuditEntry.objects.filter(table_name="auth_user", object_id=str(user.pk)):
                before = {k: (ERASED if k in keys and v else v) for k, v in entry.before.items()}
                after = {k: (ERASED if k in keys and v else v) for k, v in entry.after.items()}
                if (before, after) != (entry.before, entry.after):
                    AuditEntry.objects.filter(pk=entry.pk).update(before=before, after=after)
            # their actions stay attributed (by id), without their name
            AuditEntry.objects.filter(actor_user_id=user.pk).update(actor_label=f"erased owner #{user.pk}")
    return result
