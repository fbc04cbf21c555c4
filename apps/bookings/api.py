"""Integrator API: bookings (list, create, change, lifecycle) and guests (list, create, change)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.api import idempotency
from apps.api.base import ApiViewSet, CurrencyAmountsMixin, q_choice, q_date, q_int, q_str, validate_api_date
from apps.api.schema import IDEMPOTENCY_PARAMETER, error_example
from apps.core.tenancy import is_pms_staff
from apps.properties.models import Property

from . import services
from .models import Booking, BookingSource, BookingStatus, Guest

GUEST_EXAMPLE = {
    "id": 41,
    "first_name": "Erika",
    "last_name": "Mustermann",
    "email": "erika@example.com",
    "phone": "+49 30 1234567",
    "country": "DE",
    "language": "de",
    "notes": "Prefers the top floor.",
    "owner": 3,
    "created_at": "2026-01-05T10:00:00Z",
    "updated_at": "2026-01-05T10:00:00Z",
}
BOOKING_EXAMPLE = {
    "id": 77,
    "reference": "PMS-2026-000077",
    "property": 12,
    "property_name": "Altbau Loft Mitte",
    "guest": GUEST_EXAMPLE,
    "source": "api",
    "status": "reserved",
    "check_in": "2026-08-03",
    "check_out": "2026-08-06",
    "nights": 3,
    "guests": 2,
    "total_price": "400.00",
    "currency": "EUR",
    "payment_status": "pending",
    "special_requests": "Late arrival",
    "client_reference": "crm-4711",
    "hold_expires_at": "2026-01-05T10:10:00Z",
    "confirmed_at": None,
    "checked_in_at": None,
    "checked_out_at": None,
    "cancelled_at": None,
    "cancellation_reason": "",
    "price_snapshot": {"currency": "EUR", "total": "400.00"},
    "guest_contact": {
        "first_name": "Erika",
        "last_name": "Mustermann",
        "email": "erika@example.com",
        "phone": "",
        "country": "DE",
        "language": "de",
    },
    "created_at": "2026-01-05T10:00:00Z",
    "updated_at": "2026-01-05T10:00:00Z",
}
CONFLICT_EXAMPLE = error_example(
    "Dates taken",
    "booking_conflict",
    "The dates 2026-08-03 to 2026-08-06 are not available: taken 2026-08-01 to 2026-08-05 (booking).",
    {
        "property_id": 12,
        "check_in": "2026-08-03",
        "check_out": "2026-08-06",
        "conflicts": [
            {"kind": "booking", "id": 70, "reference": "PMS-2026-000070", "start": "2026-08-01", "end": "2026-08-05"}
        ],
    },
    status=409,
)
TRANSITION_EXAMPLE = error_example(
    "Not allowed now",
    "invalid_transition",
    "A booking cannot go from “cancelled” to “confirmed” (allowed next: none).",
    {"current": "cancelled", "target": "confirmed", "allowed": []},
    status=409,
)


class GuestSerializer(serializers.ModelSerializer):
    # CharField, not EmailField: a guest may have no e-mail ("" is not a valid "format: email")
    email = serializers.CharField(read_only=True, help_text="Lower-case; empty if unknown.")

    class Meta:
        model = Guest
        fields = [
            "id", "first_name", "last_name", "email", "phone", "country", "language", "notes", "owner",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class GuestInputSerializer(serializers.Serializer):
    first_name = serializers.CharField(max_length=100)
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    country = serializers.CharField(max_length=2, required=False, allow_blank=True, default="")
    language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False, default="en")

    def validate_first_name(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("The guest's first name is required.")
        return value


class GuestWriteSerializer(serializers.Serializer):
    """Create (POST, with an optional ``owner`` for staff), replace (PUT) or change (PATCH) a guest."""

    first_name = serializers.CharField(max_length=100)
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    country = serializers.RegexField(
        r"^([A-Za-z]{2})?$", max_length=2, required=False, allow_blank=True, default="",
        help_text="ISO 3166-1 alpha-2 code (stored upper-case).",
    )  # fmt: skip
    language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False, default="en")
    notes = serializers.CharField(
        max_length=10000, required=False, allow_blank=True, default="", help_text="The owner's private notes."
    )
    owner = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.none(),
        required=False,
        help_text="Staff only: whose guest book the guest goes into (default: the token's user).",
    )

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if self.instance is not None:
            fields.pop("owner")
        elif request is not None:
            users = get_user_model().objects.filter(is_active=True)
            if not is_pms_staff(request.user):
                users = users.filter(pk=request.user.pk)
            fields["owner"].queryset = users
        return fields

    def validate_first_name(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("The guest's first name is required.")
        return value


class BookingSerializer(CurrencyAmountsMixin, serializers.ModelSerializer):
    money_fields = ("total_price",)
    guest = GuestSerializer(read_only=True, allow_null=True)  # a hold or channel booking may have no guest
    property_name = serializers.CharField(source="property.name", read_only=True)
    nights = serializers.IntegerField(read_only=True)

    class Meta:
        model = Booking
        fields = [
            "id", "reference", "property", "property_name", "guest", "source", "attribution", "status", "check_in",
            "check_out", "nights", "guests", "total_price", "currency", "payment_status", "special_requests",
            "client_reference", "hold_expires_at", "confirmed_at", "checked_in_at", "checked_out_at", "cancelled_at",
            "cancellation_reason", "price_snapshot", "guest_contact", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class BookingCreateSerializer(serializers.Serializer):
    property = serializers.PrimaryKeyRelatedField(queryset=Property.objects.none())
    check_in = serializers.DateField(validators=[validate_api_date])
    check_out = serializers.DateField(validators=[validate_api_date])
    guests = serializers.IntegerField(min_value=1, max_value=100)
    status = serializers.ChoiceField(
        choices=[BookingStatus.RESERVED, BookingStatus.CONFIRMED, BookingStatus.INQUIRY],
        default=BookingStatus.RESERVED,
        help_text="reserved = a hold that lapses unless paid/confirmed; confirmed = taken now; inquiry = no hold.",
    )
    guest = GuestInputSerializer(required=False)
    special_requests = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    client_reference = serializers.RegexField(
        r"^[\x21-\x7e]{1,100}$",
        max_length=100,
        required=False,
        default="",
        help_text="Your own id for this booking (1-100 printable ASCII characters), unique per property. "
        "If the answer to a create is lost and it was sent without an Idempotency-Key, find the booking with "
        "`GET /bookings/?client_reference=`; creating it again answers 409 `client_reference_taken` naming it.",
    )

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            fields["property"].queryset = Property.objects.visible_to(request.user)
        return fields

    def validate(self, attrs):
        if attrs["check_out"] <= attrs["check_in"]:
            raise serializers.ValidationError({"check_out": ["Check-out must be after check-in."]})
        return attrs


class BookingChangeSerializer(serializers.Serializer):
    """PATCH: any of the stay (dates, party size) and the special requests; omitted fields keep their value."""

    check_in = serializers.DateField(required=False, validators=[validate_api_date])
    check_out = serializers.DateField(required=False, validators=[validate_api_date])
    guests = serializers.IntegerField(required=False, min_value=1, max_value=100)
    special_requests = serializers.CharField(max_length=2000, required=False, allow_blank=True)

    def validate(self, attrs):
        booking = self.instance
        check_in = attrs.get("check_in", booking.check_in)
        check_out = attrs.get("check_out", booking.check_out)
        if check_out <= check_in:
            raise serializers.ValidationError({"check_out": ["Check-out must be after check-in."]})
        guests = attrs.get("guests")
        if guests is not None and guests > booking.property.max_guests:
            raise serializers.ValidationError(
                {"guests": [f"This property sleeps at most {booking.property.max_guests} guests."]}
            )
        return attrs


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    refund = serializers.ChoiceField(
        choices=[("policy", "policy"), ("full", "full"), ("none", "none")],
        required=False,
        default="policy",
        help_text="What to refund of a paid booking: `policy` (default) = what the property's cancellation policy "
        "gives back now, `full` = everything still refundable, `none` = nothing. See `refund-options` for the "
        "amounts. Channel bookings and unpaid holds have nothing to refund here.",
    )


class RefundOptionsSerializer(serializers.Serializer):
    currency = serializers.CharField()
    cancellation_policy = serializers.CharField()
    paid = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="Still refundable.")
    policy = serializers.DecimalField(max_digits=12, decimal_places=2)
    full = serializers.DecimalField(max_digits=12, decimal_places=2)
    none = serializers.DecimalField(max_digits=12, decimal_places=2)


LIST_PARAMS = [
    OpenApiParameter("property", int, description="Filter by property id."),
    OpenApiParameter("status", str, enum=[s.value for s in BookingStatus], description="Filter by status."),
    OpenApiParameter("source", str, enum=[s.value for s in BookingSource], description="Filter by source."),
    OpenApiParameter("start", str, description="Stays that end after this date (YYYY-MM-DD)."),
    OpenApiParameter("end", str, description="Stays that start before this date (YYYY-MM-DD)."),
    OpenApiParameter("reference", str, description="Exact booking reference."),
    OpenApiParameter("client_reference", str, description="Exact client reference sent when creating it."),
]


def _transition_schema(summary: str, description: str, *, with_reason: bool = False):
    return extend_schema(
        summary=summary,
        description=description,
        request=CancelSerializer if with_reason else None,
        responses={200: BookingSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
        examples=[OpenApiExample("Booking", value=BOOKING_EXAMPLE, response_only=True), TRANSITION_EXAMPLE]
        + (
            [OpenApiExample("Reason", value={"reason": "Guest changed plans"}, request_only=True)]
            if with_reason
            else []
        ),
    )


@extend_schema_view(
    list=extend_schema(
        summary="List bookings",
        parameters=LIST_PARAMS,
        examples=[
            OpenApiExample(
                "A page",
                value=BOOKING_EXAMPLE,
                response_only=True,
            )
        ],
    ),
    retrieve=extend_schema(
        summary="Get a booking",
        examples=[
            OpenApiExample("Booking", value=BOOKING_EXAMPLE, response_only=True),
            error_example("Not yours", "not_found", "Not found.", status=404),
        ],
    ),
)
class BookingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    serializer_class = BookingSerializer
    ordering_fields = ["check_in", "check_out", "created_at", "total_price", "id"]
    ordering = ["-check_in"]

    def scoped_queryset(self):
        qs = Booking.objects.visible_to(self.request.user).select_related("property", "guest")
        if self.action == "list":
            request = self.request
            if (value := q_int(request, "property")) is not None:
                qs = qs.filter(property_id=value)
            if (value := q_choice(request, "status", BookingStatus.values)) is not None:
                qs = qs.filter(status=value)
            if (value := q_choice(request, "source", BookingSource.values)) is not None:
                qs = qs.filter(source=value)
            if (value := q_date(request, "start")) is not None:
                qs = qs.filter(check_out__gt=value)
            if (value := q_date(request, "end")) is not None:
                qs = qs.filter(check_in__lt=value)
            if (value := q_str(request, "reference")) is not None:
                qs = qs.filter(reference=value)
            if (value := q_str(request, "client_reference")) is not None:
                qs = qs.filter(client_reference=value)
        return qs

    def _respond(self, booking: Booking, code: int = status.HTTP_200_OK) -> Response:
        booking = self.scoped_queryset().get(pk=booking.pk)
        headers = {}
        if code == status.HTTP_201_CREATED:
            headers["Location"] = f"{self.request.path.rstrip('/')}/{booking.pk}/"
        return Response(
            BookingSerializer(booking, context=self.get_serializer_context()).data, status=code, headers=headers
        )

    def idempotent_response(self, booking: Booking, code: int) -> Response:
        """The answer to a retried request whose write committed but whose response was lost."""
        return self._respond(booking, code)

    @extend_schema(
        summary="Create a booking",
        description="Goes through the same booking service as every other source (source `api`), with the "
        "property's stay rules. Overlapping dates -> 409 `booking_conflict` with the conflicting stays' dates. "
        "The `guest` details are stored on the booking (`guest_contact`) and never change an existing guest: an "
        "e-mail the owner's guest book already has attaches that guest as it is (when the token's user may see "
        "it; otherwise the booking keeps only its contact and `guest` is null). "
        "Send an `Idempotency-Key` to retry safely.",
        request=BookingCreateSerializer,
        responses={201: BookingSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
        examples=[
            OpenApiExample(
                "Request",
                request_only=True,
                value={
                    "property": 12,
                    "check_in": "2026-08-03",
                    "check_out": "2026-08-06",
                    "guests": 2,
                    "status": "reserved",
                    "special_requests": "Late arrival",
                    "guest": {
                        "first_name": "Erika",
                        "last_name": "Mustermann",
                        "email": "erika@example.com",
                        "country": "DE",
                        "language": "de",
                    },
                },
            ),
            OpenApiExample("Created", value=BOOKING_EXAMPLE, response_only=True, status_codes=["201"]),
            CONFLICT_EXAMPLE,
            error_example(
                "Rules",
                "validation_error",
                "The minimum stay is 2 nights.",
                {"reasons": [{"code": "min_stay", "message": "The minimum stay is 2 nights."}]},
            ),
        ],
    )
    def create(self, request):
        data = BookingCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        values = data.validated_data
        prop = values["property"]
        self.ensure_can_manage(prop)
        guest = services.GuestData(**values["guest"]) if values.get("guest") else None
        # the booking and the Idempotency-Key's ledger row commit together: a retry after a lost
        # answer gets this booking, never a conflict with it
        booking = idempotency.write_linked(
            lambda: services.booking_create(
                property_id=prop.pk,
                check_in=values["check_in"],
                check_out=values["check_out"],
                guests=values["guests"],
                source=BookingSource.API,
                guest=guest,
                status=values["status"],
                special_requests=values["special_requests"],
                client_reference=values["client_reference"],
                actor=request.user,
            ),
            status_code=status.HTTP_201_CREATED,
        )
        return self._respond(booking, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a booking's dates, party size or special requests",
        description="New dates go through the same booking service as the admin: the property is locked and the "
        "calendar checked again, so dates taken meanwhile -> 409 `booking_conflict` with the conflicting stays' "
        "dates, and nothing is changed. The total price is kept (re-quote with `/quotes/` and settle the "
        "difference yourself). Cancelled and checked-out bookings cannot be changed (400); a channel booking's "
        "dates and party size change on its platform only (400). All given fields change together or none "
        "does (one `booking.updated` event). Omitted fields keep their value; source and platform ids are "
        "never writable; PUT is not offered.",
        request=BookingChangeSerializer,
        responses={200: BookingSerializer},
        examples=[
            OpenApiExample("New dates", request_only=True, value={"check_in": "2026-08-04", "check_out": "2026-08-08"}),
            OpenApiExample(
                "Party and requests", request_only=True, value={"guests": 3, "special_requests": "Baby cot, please"}
            ),
            OpenApiExample("Booking", value=BOOKING_EXAMPLE, response_only=True),
            CONFLICT_EXAMPLE,
            error_example(
                "Cancelled",
                "validation_error",
                "A cancelled booking cannot be changed.",
                status=400,
            ),
            error_example(
                "View only", "permission_denied", "You may view this property but not change it.", status=403
            ),
        ],
    )
    def partial_update(self, request, pk=None):
        booking = self.get_object()
        self.ensure_can_manage(booking.property)
        body = BookingChangeSerializer(booking, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        services.booking_update(booking_id=booking.pk, source=BookingSource.API, **body.validated_data)
        return self._respond(booking)

    def _transition(self, request, func, **kwargs) -> Response:
        booking = self.get_object()
        self.ensure_can_manage(booking.property)
        changed = idempotency.write_linked(
            lambda: func(booking_id=booking.pk, source=BookingSource.API, **kwargs), status_code=status.HTTP_200_OK
        )
        return self._respond(changed)

    @_transition_schema("Confirm a booking", "reserved/inquiry -> confirmed (e.g. paid outside Stripe).")
    @action(detail=True, methods=["post"], filter_backends=[])
    def confirm(self, request, pk=None):
        return self._transition(request, services.booking_confirm)

    @_transition_schema(
        "Check a guest in",
        "confirmed -> checked_in, from the arrival day on (the property's local date); earlier -> 409 `too_early`.",
    )
    @action(detail=True, methods=["post"], url_path="check-in", filter_backends=[])
    def check_in(self, request, pk=None):
        return self._transition(request, services.booking_check_in)

    @_transition_schema(
        "Check a guest out",
        "checked_in -> checked_out; never before the check-in (409 `too_early`); leaving before the departure day "
        "is fine.",
    )
    @action(detail=True, methods=["post"], url_path="check-out", filter_backends=[])
    def check_out(self, request, pk=None):
        return self._transition(request, services.booking_check_out)

    @_transition_schema(
        "Cancel a booking",
        "Any state before check-in -> cancelled; frees the dates. A paid direct booking is refunded by the "
        "property's cancellation policy unless `refund` says `full` or `none` (the refund shows in "
        "`payment_status` and under `/payments/`); the guest's cancellation e-mail states it.",
        with_reason=True,
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def cancel(self, request, pk=None):
        from apps.payments.services import booking_cancel_with_refund

        body = CancelSerializer(data=request.data if isinstance(request.data, dict) else {})
        body.is_valid(raise_exception=True)
        booking = self.get_object()
        self.ensure_can_manage(booking.property)
        result = booking_cancel_with_refund(
            booking_id=booking.pk,
            refund=body.validated_data["refund"],
            reason=body.validated_data["reason"],
            source=BookingSource.API,
            user=request.user,
        )
        return self._respond(result.booking)

    @extend_schema(
        summary="What cancelling would refund",
        description="The amounts each `refund` choice of `cancel` would give back if the booking were cancelled "
        "now (`policy` follows the property's cancellation policy and the time left before check-in).",
        responses={200: RefundOptionsSerializer},
        examples=[
            OpenApiExample(
                "Moderate, 3 days before",
                response_only=True,
                value={
                    "currency": "EUR",
                    "cancellation_policy": "moderate",
                    "paid": "330.00",
                    "policy": "165.00",
                    "full": "330.00",
                    "none": "0.00",
                },
            )  # fmt: skip
        ],
    )
    @action(detail=True, methods=["get"], url_path="refund-options", filter_backends=[], pagination_class=None)
    def refund_options(self, request, pk=None):
        from apps.payments.services import cancellation_refund_options

        booking = self.get_object()
        options = cancellation_refund_options(booking=booking)
        return Response(
            {
                "currency": booking.currency,
                "cancellation_policy": booking.property.cancellation_policy,
                **{key: str(value) for key, value in options.items()},
            }
        )


GUEST_CREATE_EXAMPLE = {
    "first_name": "Erika",
    "last_name": "Mustermann",
    "email": "erika@example.com",
    "phone": "+49 30 1234567",
    "country": "DE",
    "language": "de",
    "notes": "Prefers the top floor.",
}
EMAIL_TAKEN_EXAMPLE = error_example(
    "E-mail taken",
    "guest_email_taken",
    "Another guest in this guest book already has this e-mail address.",
    {"email": "erika@example.com", "guest_id": 40},
    status=409,
)


@extend_schema_view(
    list=extend_schema(
        summary="List guests",
        description="The owner's guest book plus guests who booked a property the token's user may see.",
        parameters=[OpenApiParameter("email", str, description="Exact e-mail (case-insensitive).")],
        examples=[
            OpenApiExample(
                "A page",
                value=GUEST_EXAMPLE,
                response_only=True,
            )
        ],
    ),
    retrieve=extend_schema(
        summary="Get a guest", examples=[OpenApiExample("Guest", value=GUEST_EXAMPLE, response_only=True)]
    ),
    create=extend_schema(
        summary="Add a guest to a guest book",
        description="The guest goes into the token user's guest book (staff may name another `owner`). E-mails are "
        "unique per guest book: posting an e-mail the guest book already has updates that guest and answers 200 "
        "instead of 201 (the same upsert bookings use). Send an `Idempotency-Key` to retry safely.",
        request=GuestWriteSerializer,
        responses={201: GuestSerializer, 200: GuestSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
        examples=[
            OpenApiExample("Request", request_only=True, value=GUEST_CREATE_EXAMPLE),
            OpenApiExample("Created", value=GUEST_EXAMPLE, response_only=True, status_codes=["201"]),
            OpenApiExample("Existing e-mail updated", value=GUEST_EXAMPLE, response_only=True, status_codes=["200"]),
        ],
    ),
    update=extend_schema(
        summary="Replace a guest's details",
        description="Omitted optional fields are reset to empty. Guests cannot be deleted (bookings refer to them).",
        request=GuestWriteSerializer,
        responses={200: GuestSerializer},
        examples=[
            OpenApiExample("Request", request_only=True, value=GUEST_CREATE_EXAMPLE),
            OpenApiExample("Guest", value=GUEST_EXAMPLE, response_only=True),
            EMAIL_TAKEN_EXAMPLE,
        ],
    ),
    partial_update=extend_schema(
        summary="Change a guest's details",
        description="Any of name, e-mail, phone, country, language and notes; omitted fields keep their value. "
        "A guest seen only through a property shared read-only (co-host with view access) -> 403.",
        request=GuestWriteSerializer,
        responses={200: GuestSerializer},
        examples=[
            OpenApiExample("New phone", request_only=True, value={"phone": "+49 170 1234567", "language": "en"}),
            OpenApiExample("Guest", value=GUEST_EXAMPLE, response_only=True),
            EMAIL_TAKEN_EXAMPLE,
            error_example("View only", "permission_denied", "You may view this guest but not change it.", status=403),
        ],
    ),
)
class GuestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """No DELETE: bookings refer to their guest (PROTECT), so DELETE answers 405."""

    serializer_class = GuestSerializer
    # names are encrypted at rest (they would sort as ciphertext): guests are listed in creation order
    ordering_fields = ["created_at", "id"]
    ordering = ["id"]

    def scoped_queryset(self):
        qs = Guest.objects.visible_to(self.request.user)
        if self.action == "list" and (value := q_str(self.request, "email")) is not None:
            qs = qs.filter(email__iexact=value)
        return qs

    def _respond(self, guest: Guest, code: int = status.HTTP_200_OK) -> Response:
        headers = {}
        if code == status.HTTP_201_CREATED:
            headers["Location"] = f"{self.request.path.rstrip('/')}/{guest.pk}/"
        return Response(GuestSerializer(guest).data, status=code, headers=headers)

    def create(self, request):
        if not request.user.has_perm("bookings.add_guest"):
            raise exceptions.PermissionDenied("Your account may not keep a guest book.")
        body = GuestWriteSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        values = dict(body.validated_data)
        owner = values.pop("owner", None) or request.user
        if "notes" not in request.data:
            values.pop("notes")  # an upsert onto an existing guest keeps the owner's notes
        guest, created = services.guest_create(owner_id=owner.pk, data=services.GuestData(**values))
        return self._respond(guest, status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    def update(self, request, pk=None, partial: bool = False):
        guest = self.get_object()
        if not Guest.objects.managed_by(request.user).filter(pk=guest.pk).exists():
            raise exceptions.PermissionDenied("You may view this guest but not change it.")
        body = GuestWriteSerializer(guest, data=request.data, partial=partial, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        guest = services.guest_update(guest_id=guest.pk, **body.validated_data)
        return self._respond(guest)

    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk, partial=True)
