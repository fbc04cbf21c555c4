"""Integrator API: bookings (list, create, lifecycle) and guests."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.api.base import ApiViewSet, q_choice, q_date, q_int, q_str, validate_api_date
from apps.api.schema import IDEMPOTENCY_PARAMETER, error_example
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
    "created_at": "2026-01-05T10:00:00Z",
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
    "hold_expires_at": "2026-01-05T10:10:00Z",
    "confirmed_at": None,
    "checked_in_at": None,
    "checked_out_at": None,
    "cancelled_at": None,
    "cancellation_reason": "",
    "price_snapshot": {"currency": "EUR", "total": "400.00"},
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
    class Meta:
        model = Guest
        fields = ["id", "first_name", "last_name", "email", "phone", "country", "language", "created_at"]
        read_only_fields = fields


class GuestInputSerializer(serializers.Serializer):
    first_name = serializers.CharField(max_length=100)
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    country = serializers.CharField(max_length=2, required=False, allow_blank=True, default="")
    language = serializers.ChoiceField(choices=[c for c, _ in settings.LANGUAGES], required=False, default="en")

    def validate_first_name(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("The guest's first name is required.")
        return value


class BookingSerializer(serializers.ModelSerializer):
    guest = GuestSerializer(read_only=True)
    property_name = serializers.CharField(source="property.name", read_only=True)
    nights = serializers.IntegerField(read_only=True)

    class Meta:
        model = Booking
        fields = [
            "id", "reference", "property", "property_name", "guest", "source", "status", "check_in", "check_out",
            "nights", "guests", "total_price", "currency", "payment_status", "special_requests", "hold_expires_at",
            "confirmed_at", "checked_in_at", "checked_out_at", "cancelled_at", "cancellation_reason",
            "price_snapshot", "created_at", "updated_at",
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


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


LIST_PARAMS = [
    OpenApiParameter("property", int, description="Filter by property id."),
    OpenApiParameter("status", str, enum=[s.value for s in BookingStatus], description="Filter by status."),
    OpenApiParameter("source", str, enum=[s.value for s in BookingSource], description="Filter by source."),
    OpenApiParameter("start", str, description="Stays that end after this date (YYYY-MM-DD)."),
    OpenApiParameter("end", str, description="Stays that start before this date (YYYY-MM-DD)."),
    OpenApiParameter("reference", str, description="Exact booking reference."),
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
        return qs

    def _respond(self, booking: Booking, code: int = status.HTTP_200_OK) -> Response:
        booking = self.scoped_queryset().get(pk=booking.pk)
        headers = {}
        if code == status.HTTP_201_CREATED:
            headers["Location"] = f"{self.request.path.rstrip('/')}/{booking.pk}/"
        return Response(
            BookingSerializer(booking, context=self.get_serializer_context()).data, status=code, headers=headers
        )

    @extend_schema(
        summary="Create a booking",
        description="Goes through the same booking service as every other source (source `api`), with the "
        "property's stay rules. Overlapping dates -> 409 `booking_conflict` with the conflicting stays' dates. "
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
        booking = services.booking_create(
            property_id=prop.pk,
            check_in=values["check_in"],
            check_out=values["check_out"],
            guests=values["guests"],
            source=BookingSource.API,
            guest=guest,
            status=values["status"],
            special_requests=values["special_requests"],
        )
        return self._respond(booking, status.HTTP_201_CREATED)

    def _transition(self, request, func, **kwargs) -> Response:
        booking = self.get_object()
        self.ensure_can_manage(booking.property)
        return self._respond(func(booking_id=booking.pk, source=BookingSource.API, **kwargs))

    @_transition_schema("Confirm a booking", "reserved/inquiry -> confirmed (e.g. paid outside Stripe).")
    @action(detail=True, methods=["post"], filter_backends=[])
    def confirm(self, request, pk=None):
        return self._transition(request, services.booking_confirm)

    @_transition_schema("Check a guest in", "confirmed -> checked_in.")
    @action(detail=True, methods=["post"], url_path="check-in", filter_backends=[])
    def check_in(self, request, pk=None):
        return self._transition(request, services.booking_check_in)

    @_transition_schema("Check a guest out", "checked_in -> checked_out.")
    @action(detail=True, methods=["post"], url_path="check-out", filter_backends=[])
    def check_out(self, request, pk=None):
        return self._transition(request, services.booking_check_out)

    @_transition_schema(
        "Cancel a booking", "Any state before check-in -> cancelled; frees the dates.", with_reason=True
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def cancel(self, request, pk=None):
        body = CancelSerializer(data=request.data if isinstance(request.data, dict) else {})
        body.is_valid(raise_exception=True)
        return self._transition(request, services.booking_cancel, reason=body.validated_data["reason"])


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
)
class GuestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    serializer_class = GuestSerializer
    ordering_fields = ["last_name", "first_name", "created_at", "id"]
    ordering = ["last_name", "first_name"]

    def scoped_queryset(self):
        qs = Guest.objects.visible_to(self.request.user)
        if self.action == "list" and (value := q_str(self.request, "email")) is not None:
            qs = qs.filter(email__iexact=value)
        return qs
