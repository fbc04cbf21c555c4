"""Integrator API: properties, their photos and their calendar."""

from __future__ import annotations

from datetime import timedelta

from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.api.base import ApiViewSet, q_choice, q_date, q_str, reject_nul
from apps.api.schema import error_example

from . import services
from .models import Property, PropertyPhoto


@extend_schema_field(
    {"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$", "example": "15:00:00"}
)
class LocalTimeField(serializers.TimeField):
    """A wall-clock time in the property's time zone (no offset), e.g. 15:00 or 15:00:00."""


class PropertyPhotoSerializer(serializers.ModelSerializer):
    property = serializers.PrimaryKeyRelatedField(queryset=Property.objects.none())
    src = serializers.CharField(read_only=True)

    class Meta:
        model = PropertyPhoto
        fields = ["id", "property", "image", "url", "caption", "position", "src"]
        extra_kwargs = {"image": {"required": False}}

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            fields["property"].queryset = Property.objects.visible_to(request.user)
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            fields["property"].read_only = True
        return fields

    def validate(self, attrs):
        image = attrs.get("image", getattr(self.instance, "image", None))
        url = attrs.get("url", getattr(self.instance, "url", ""))
        if not image and not url:
            raise serializers.ValidationError({"url": ["Give an image file or an image URL."]})
        return attrs


class NestedPhotoSerializer(serializers.ModelSerializer):
    src = serializers.CharField(read_only=True)

    class Meta:
        model = PropertyPhoto
        fields = ["id", "src", "caption", "position"]


class PropertySerializer(serializers.ModelSerializer):
    owner = serializers.IntegerField(source="owner_id", read_only=True)
    slug = serializers.SlugField(max_length=220, required=False)
    photos = NestedPhotoSerializer(many=True, read_only=True)
    amenities = serializers.ListField(child=serializers.CharField(max_length=64), required=False, max_length=100)
    address = serializers.JSONField(required=False, validators=[reject_nul])
    latitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=-90, max_value=90, required=False, allow_null=True
    )
    longitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=-180, max_value=180, required=False, allow_null=True
    )
    check_in_time = LocalTimeField(required=False, format="%H:%M:%S", input_formats=["%H:%M", "%H:%M:%S"])
    check_out_time = LocalTimeField(required=False, format="%H:%M:%S", input_formats=["%H:%M", "%H:%M:%S"])

    class Meta:
        model = Property
        fields = [
            "id", "owner", "name", "slug", "status", "description", "house_rules", "address", "city", "country",
            "latitude", "longitude", "amenities", "max_guests", "bedrooms", "bathrooms", "base_price", "currency",
            "timezone", "check_in_time", "check_out_time", "cleaning_fee", "default_min_stay", "default_max_stay",
            "min_notice_hours", "max_advance_days", "cancellation_policy", "photos", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["id", "owner", "photos", "created_at", "updated_at"]
        extra_kwargs = {
            "max_guests": {"min_value": 1, "max_value": 100},
            "bedrooms": {"max_value": 100},
            "bathrooms": {"min_value": 0},
            "default_min_stay": {"min_value": 1, "max_value": 365},
            "default_max_stay": {"min_value": 1, "max_value": 365},
            "min_notice_hours": {"max_value": 8760},
            "max_advance_days": {"max_value": 3650},
        }

    def validate_country(self, value: str) -> str:
        value = value.upper()
        if len(value) != 2 or not value.isalpha() or not value.isascii():
            raise serializers.ValidationError("Use an ISO 3166-1 alpha-2 code, e.g. DE.")
        return value

    def validate_address(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("Must be a JSON object (street, postal_code, city, region, country).")
        return value

    def validate(self, attrs):
        min_stay = attrs.get("default_min_stay", getattr(self.instance, "default_min_stay", 1))
        max_stay = attrs.get("default_max_stay", getattr(self.instance, "default_max_stay", 28))
        if max_stay < min_stay:
            raise serializers.ValidationError(
                {"default_max_stay": ["The maximum stay must not be shorter than the minimum stay."]}
            )
        slug = attrs.get("slug")
        if (
            slug is not None
            and Property.objects.filter(slug=slug).exclude(pk=getattr(self.instance, "pk", None)).exists()
        ):
            raise serializers.ValidationError({"slug": ["This slug is already taken."]})
        return attrs


PROPERTY_EXAMPLE = {
    "id": 12,
    "owner": 3,
    "name": "Altbau Loft Mitte",
    "slug": "altbau-loft-mitte",
    "status": "active",
    "description": "Bright loft near the river.",
    "house_rules": "No parties.",
    "address": {"street": "Hauptstr. 1", "postal_code": "10115", "city": "Berlin", "country": "DE"},
    "city": "Berlin",
    "country": "DE",
    "latitude": "52.520008",
    "longitude": "13.404954",
    "amenities": ["wifi", "kitchen"],
    "max_guests": 4,
    "bedrooms": 2,
    "bathrooms": "1.0",
    "base_price": "120.00",
    "currency": "EUR",
    "timezone": "Europe/Berlin",
    "check_in_time": "15:00:00",
    "check_out_time": "11:00:00",
    "cleaning_fee": "40.00",
    "default_min_stay": 2,
    "default_max_stay": 28,
    "min_notice_hours": 0,
    "max_advance_days": 365,
    "cancellation_policy": "moderate",
    "photos": [{"id": 5, "src": "https://example.com/loft.jpg", "caption": "Living room", "position": 0}],
    "created_at": "2026-01-05T10:00:00Z",
    "updated_at": "2026-01-05T10:00:00Z",
}
PROPERTY_CREATE_EXAMPLE = {
    "name": "Altbau Loft Mitte",
    "city": "Berlin",
    "country": "DE",
    "max_guests": 4,
    "bedrooms": 2,
    "base_price": "120.00",
    "cleaning_fee": "40.00",
    "currency": "EUR",
    "amenities": ["wifi", "kitchen"],
}

STATUS_PARAM = OpenApiParameter("status", str, enum=[s.value for s in Property.Status], description="Filter.")
CITY_PARAM = OpenApiParameter("city", str, description="Filter by city (case-insensitive, exact).")
COUNTRY_PARAM = OpenApiParameter("country", str, description="Filter by ISO country code.")


@extend_schema_view(
    list=extend_schema(
        summary="List properties",
        description="Properties the token's user may see (own ones, co-hosted ones; staff: all).",
        parameters=[STATUS_PARAM, CITY_PARAM, COUNTRY_PARAM],
        examples=[
            OpenApiExample(
                "A page",
                value=PROPERTY_EXAMPLE,
                response_only=True,
            )
        ],
    ),
    retrieve=extend_schema(
        summary="Get a property",
        examples=[
            OpenApiExample("Property", value=PROPERTY_EXAMPLE, response_only=True),
            error_example("Not yours", "not_found", "Not found.", status=404),
        ],
    ),
    create=extend_schema(
        summary="Create a property",
        description="The token's user becomes the owner. The slug is derived from the name when omitted.",
        examples=[
            OpenApiExample("New loft", value=PROPERTY_CREATE_EXAMPLE, request_only=True),
            OpenApiExample("Created", value=PROPERTY_EXAMPLE, response_only=True, status_codes=["201"]),
            error_example(
                "Bad input",
                "validation_error",
                "Invalid input. max_guests: required",
                {"max_guests": ["This field is required."]},
            ),
        ],
    ),
    update=extend_schema(
        summary="Replace a property",
        examples=[
            OpenApiExample("Loft", value=PROPERTY_CREATE_EXAMPLE, request_only=True),
            OpenApiExample("Updated", value=PROPERTY_EXAMPLE, response_only=True),
        ],
    ),
    partial_update=extend_schema(
        summary="Change some fields of a property",
        description="Changes the channels must show (base price, cleaning fee, default min/max stay, capacity, "
        "status, ...) are written with their outbox event in the same transaction and pushed to every "
        "connected channel within seconds. `status: inactive` archives the property: hidden from guests and "
        "closed on every channel.",
        examples=[
            OpenApiExample("New price", value={"base_price": "135.00"}, request_only=True),
            OpenApiExample("Archive", value={"status": "inactive"}, request_only=True),
            OpenApiExample("Updated", value=PROPERTY_EXAMPLE, response_only=True),
        ],
    ),
    destroy=extend_schema(
        summary="Delete a property",
        description="Only the owner (or staff) may delete a property; co-hosts get 403. Refused with 409 "
        "`protected` while bookings or channel connections reference it (archive it instead: "
        '`PATCH {"status": "inactive"}` closes it on every channel).',
        examples=[error_example("Has bookings", "protected", "This object is still referenced.", status=409)],
    ),
)
class PropertyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ApiViewSet,
):
    serializer_class = PropertySerializer
    ordering_fields = ["name", "created_at", "base_price", "city", "id"]
    ordering = ["name"]

    def scoped_queryset(self):
        qs = Property.objects.visible_to(self.request.user).prefetch_related("photos")
        if self.action == "list":
            if (value := q_choice(self.request, "status", Property.Status.values)) is not None:
                qs = qs.filter(status=value)
            if (value := q_str(self.request, "city")) is not None:
                qs = qs.filter(city__iexact=value)
            if (value := q_str(self.request, "country")) is not None:
                qs = qs.filter(country=value.upper())
        return qs

    def perform_create(self, serializer):
        if not self.request.user.has_perm("properties.add_property"):
            raise exceptions.PermissionDenied("Your account may not create properties.")
        serializer.instance = services.property_create(
            owner_id=self.request.user.pk, source="api", **serializer.validated_data
        )

    def perform_update(self, serializer):
        self.ensure_can_manage(serializer.instance)
        serializer.instance = services.property_update(
            property_id=serializer.instance.pk, source="api", **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.property_delete(property_id=instance.pk, user=self.request.user)

    @extend_schema(
        summary="Calendar of a property",
        description="Per day in [start, end): status (available, booked, blocked), the night's price after "
        "per-night rules, min/max stay for arrivals that day and closed-to-arrival/departure flags. "
        "At most 366 days; defaults to the next 30 days. Change it through `/blocks/`.",
        parameters=[
            OpenApiParameter("start", str, description="First day (YYYY-MM-DD), default today."),
            OpenApiParameter("end", str, description="Day after the last (exclusive), default start + 30 days."),
        ],
        responses={
            200: inline_serializer(
                "Calendar",
                {
                    "property": serializers.IntegerField(),
                    "start": serializers.DateField(),
                    "end": serializers.DateField(),
                    "currency": serializers.CharField(),
                    "days": inline_serializer(
                        "CalendarDay",
                        {
                            "date": serializers.DateField(),
                            "status": serializers.ChoiceField(choices=["available", "booked", "blocked"]),
                            "price": serializers.DecimalField(max_digits=12, decimal_places=2),
                            "min_stay": serializers.IntegerField(),
                            "max_stay": serializers.IntegerField(),
                            "closed_to_arrival": serializers.BooleanField(),
                            "closed_to_departure": serializers.BooleanField(),
                        },
                        many=True,
                    ),
                },
            )
        },
        examples=[
            OpenApiExample(
                "Two days",
                response_only=True,
                value={
                    "property": 12,
                    "start": "2026-07-01",
                    "end": "2026-07-03",
                    "currency": "EUR",
                    "days": [
                        {
                            "date": "2026-07-01",
                            "status": "available",
                            "price": "120.00",
                            "min_stay": 2,
                            "max_stay": 28,
                            "closed_to_arrival": False,
                            "closed_to_departure": False,
                        },
                        {
                            "date": "2026-07-02",
                            "status": "booked",
                            "price": "120.00",
                            "min_stay": 2,
                            "max_stay": 28,
                            "closed_to_arrival": False,
                            "closed_to_departure": False,
                        },
                    ],
                },
            )
        ],
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def calendar(self, request, pk=None):
        from django.utils import timezone

        from apps.availability.selectors import calendar_days

        prop = self.get_object()
        start = q_date(request, "start") or timezone.localdate()
        end = q_date(request, "end") or start + timedelta(days=30)
        if end <= start:
            raise exceptions.ValidationError({"end": ["The end must be after the start."]})
        if (end - start).days > 366:
            raise exceptions.ValidationError({"end": ["A calendar covers at most 366 days."]})
        days = calendar_days(prop=prop, start=start, end=end)
        return Response(
            {
                "property": prop.pk,
                "start": start.isoformat(),
                "end": end.isoformat(),
                "currency": prop.currency,
                "days": [d.as_dict() for d in days],
            }
        )


PHOTO_EXAMPLE = {
    "id": 5,
    "property": 12,
    "image": None,
    "url": "https://example.com/loft.jpg",
    "caption": "Living room",
    "position": 0,
    "src": "https://example.com/loft.jpg",
}


@extend_schema_view(
    list=extend_schema(
        summary="List photos",
        parameters=[OpenApiParameter("property", int, description="Filter.")],
        examples=[
            OpenApiExample(
                "A page",
                value=PHOTO_EXAMPLE,
                response_only=True,
            )
        ],
    ),
    retrieve=extend_schema(
        summary="Get a photo", examples=[OpenApiExample("Photo", value=PHOTO_EXAMPLE, response_only=True)]
    ),
    create=extend_schema(
        summary="Add a photo (image upload as multipart, or an image URL)",
        examples=[
            OpenApiExample(
                "By URL",
                request_only=True,
                value={"property": 12, "url": "https://example.com/loft.jpg", "caption": "Living room", "position": 0},
            ),
            OpenApiExample("Created", value=PHOTO_EXAMPLE, response_only=True, status_codes=["201"]),
        ],
    ),
    update=extend_schema(
        summary="Replace a photo", examples=[OpenApiExample("Photo", value=PHOTO_EXAMPLE, response_only=True)]
    ),
    partial_update=extend_schema(
        summary="Change a photo's caption or position",
        examples=[OpenApiExample("Reorder", value={"position": 2}, request_only=True)],
    ),
    destroy=extend_schema(
        summary="Delete a photo", examples=[error_example("Not yours", "not_found", "Not found.", status=404)]
    ),
)
class PropertyPhotoViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ApiViewSet,
):
    serializer_class = PropertyPhotoSerializer
    ordering_fields = ["position", "id"]
    ordering = ["property", "position"]

    def scoped_queryset(self):
        qs = PropertyPhoto.objects.visible_to(self.request.user)
        if self.action == "list":
            from apps.api.base import q_int

            if (value := q_int(self.request, "property")) is not None:
                qs = qs.filter(property_id=value)
        return qs

    def perform_create(self, serializer):
        self.ensure_can_manage(serializer.validated_data["property"])
        serializer.save()

    def perform_update(self, serializer):
        self.ensure_can_manage(serializer.instance.property)
        serializer.save()

    def perform_destroy(self, instance):
        self.ensure_can_manage(instance.property)
        instance.delete()

    def get_queryset(self):
        return self.scoped_queryset().select_related("property")


__all__ = ["PropertyViewSet", "PropertyPhotoViewSet", "PropertySerializer", "status"]
