"""Integrator API: calendar blocks and price overrides, pricing rules, quotes and search."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.response import Response

from apps.api import idempotency
from apps.api.base import ApiView, ApiViewSet, q_choice, q_date, q_int, reject_nul, validate_api_date
from apps.api.schema import IDEMPOTENCY_PARAMETER, error_example
from apps.properties.models import Property

from . import services
from .models import AvailabilityBlock, PricingRule
from .rules import validate_rule

# --- blocks and price overrides ------------------------------------------------------------------

BLOCK_EXAMPLE = {
    "id": 31,
    "property": 12,
    "start_date": "2026-08-01",
    "end_date": "2026-08-15",
    "block_type": "available",
    "price_override": "150.00",
    "min_stay": 3,
    "max_stay": None,
    "closed_to_arrival": False,
    "closed_to_departure": False,
    "note": "Summer season",
    "source": "owner",
    "created_at": "2026-01-05T10:00:00Z",
    "updated_at": "2026-01-05T10:00:00Z",
}
CONFLICT_EXAMPLE = error_example(
    "Dates taken",
    "booking_conflict",
    "The dates 2026-08-01 to 2026-08-05 are not available: taken 2026-08-03 to 2026-08-06 (booking).",
    {
        "property_id": 12,
        "check_in": "2026-08-01",
        "check_out": "2026-08-05",
        "conflicts": [
            {"kind": "booking", "id": 77, "reference": "PMS-2026-000077", "start": "2026-08-03", "end": "2026-08-06"}
        ],
    },
    status=409,
)


class BlockSerializer(serializers.ModelSerializer):
    property = serializers.PrimaryKeyRelatedField(queryset=Property.objects.none())
    start_date = serializers.DateField(validators=[validate_api_date])
    end_date = serializers.DateField(validators=[validate_api_date], help_text="Exclusive.")

    class Meta:
        model = AvailabilityBlock
        fields = [
            "id", "property", "start_date", "end_date", "block_type", "price_override", "min_stay", "max_stay",
            "closed_to_arrival", "closed_to_departure", "note", "source", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["id", "source", "created_at", "updated_at"]
        extra_kwargs = {
            "min_stay": {"min_value": 1, "max_value": 365},
            "max_stay": {"min_value": 1, "max_value": 365},
        }

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            fields["property"].queryset = Property.objects.visible_to(request.user)
        if self.instance is not None:
            fields["property"].read_only = True
        return fields


@extend_schema_view(
    list=extend_schema(
        summary="List calendar blocks and price overrides",
        description="`blocked`/`maintenance` close the dates; `available` ranges carry price overrides and "
        "min/max stay and arrival/departure restrictions.",
        parameters=[
            OpenApiParameter("property", int, description="Filter by property id."),
            OpenApiParameter("block_type", str, enum=[t.value for t in AvailabilityBlock.Type]),
            OpenApiParameter("start", str, description="Only blocks ending after this date (YYYY-MM-DD)."),
            OpenApiParameter("end", str, description="Only blocks starting before this date (YYYY-MM-DD)."),
        ],
        examples=[
            OpenApiExample(
                "A page",
                value=BLOCK_EXAMPLE,
                response_only=True,
            )
        ],
    ),
    retrieve=extend_schema(
        summary="Get a block", examples=[OpenApiExample("Block", value=BLOCK_EXAMPLE, response_only=True)]
    ),
    create=extend_schema(
        summary="Block dates or set a price override",
        parameters=[IDEMPOTENCY_PARAMETER],
        examples=[
            OpenApiExample(
                "Maintenance",
                request_only=True,
                value={
                    "property": 12,
                    "start_date": "2026-08-01",
                    "end_date": "2026-08-05",
                    "block_type": "maintenance",
                    "note": "Painting",
                },
            ),
            OpenApiExample(
                "Price override",
                request_only=True,
                value={
                    "property": 12,
                    "start_date": "2026-08-01",
                    "end_date": "2026-08-15",
                    "block_type": "available",
                    "price_override": "150.00",
                    "min_stay": 3,
                },
            ),
            OpenApiExample("Created", value=BLOCK_EXAMPLE, response_only=True, status_codes=["201"]),
            CONFLICT_EXAMPLE,
        ],
    ),
    update=extend_schema(
        summary="Replace a block",
        examples=[OpenApiExample("Block", value=BLOCK_EXAMPLE, response_only=True), CONFLICT_EXAMPLE],
    ),
    partial_update=extend_schema(
        summary="Change a block (e.g. its price or dates)",
        examples=[
            OpenApiExample("New price", value={"price_override": "165.00"}, request_only=True),
            OpenApiExample("Block", value=BLOCK_EXAMPLE, response_only=True),
            CONFLICT_EXAMPLE,
        ],
    ),
    destroy=extend_schema(
        summary="Remove a block (frees the dates)",
        examples=[error_example("Not yours", "not_found", "Not found.", status=404)],
    ),
)
class BlockViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ApiViewSet,
):
    serializer_class = BlockSerializer
    ordering_fields = ["start_date", "end_date", "created_at", "id"]
    ordering = ["start_date"]

    def scoped_queryset(self):
        qs = AvailabilityBlock.objects.visible_to(self.request.user).select_related("property")
        if self.action == "list":
            request = self.request
            if (value := q_int(request, "property")) is not None:
                qs = qs.filter(property_id=value)
            if (value := q_choice(request, "block_type", AvailabilityBlock.Type.values)) is not None:
                qs = qs.filter(block_type=value)
            if (value := q_date(request, "start")) is not None:
                qs = qs.filter(end_date__gt=value)
            if (value := q_date(request, "end")) is not None:
                qs = qs.filter(start_date__lt=value)
        return qs

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        prop = data.pop("property")
        self.ensure_can_manage(prop)
        # linked to the request's Idempotency-Key in the block's transaction (a retry gets this block)
        serializer.instance = idempotency.write_linked(
            lambda: services.block_create(property_id=prop.pk, source="owner", **data), status_code=201
        )

    def perform_update(self, serializer):
        block = serializer.instance
        self.ensure_can_manage(block.property)
        changes = dict(serializer.validated_data)
        changes.pop("property", None)
        serializer.instance = services.block_update(block_id=block.pk, source="api", **changes)

    def perform_destroy(self, instance):
        self.ensure_can_manage(instance.property)
        services.block_delete(block_id=instance.pk, source="api")


# --- pricing rules ------------------------------------------------------------------------------

RULE_EXAMPLE = {
    "id": 8,
    "property": 12,
    "name": "Weekend",
    "rule_type": "weekend",
    "adjustment_type": "percentage",
    "adjustment_value": "15.00",
    "conditions": {"days": [4, 5]},
    "priority": 10,
    "active": True,
    "created_at": "2026-01-05T10:00:00Z",
    "updated_at": "2026-01-05T10:00:00Z",
}


class PricingRuleSerializer(serializers.ModelSerializer):
    property = serializers.PrimaryKeyRelatedField(queryset=Property.objects.none())
    conditions = serializers.JSONField(
        required=False, validators=[reject_nul], help_text="Depends on rule_type; see the rules table in the docs."
    )
    priority = serializers.IntegerField(required=False, min_value=-10000, max_value=10000)

    class Meta:
        model = PricingRule
        fields = [
            "id", "property", "name", "rule_type", "adjustment_type", "adjustment_value", "conditions",
            "priority", "active", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["id", "created_at", "updated_at"]

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            fields["property"].queryset = Property.objects.visible_to(request.user)
        if self.instance is not None:
            fields["property"].read_only = True
        return fields

    def validate(self, attrs):
        current = self.instance

        def pick(name, default=None):
            return attrs.get(name, getattr(current, name, default) if current is not None else default)

        try:
            validate_rule(
                rule_type=pick("rule_type"),
                adjustment_type=pick("adjustment_type"),
                adjustment_value=pick("adjustment_value"),
                conditions=pick("conditions", {}),
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict)
        return attrs


@extend_schema_view(
    list=extend_schema(
        summary="List pricing rules",
        parameters=[
            OpenApiParameter("property", int, description="Filter by property id."),
            OpenApiParameter("rule_type", str, enum=[t.value for t in PricingRule.RuleType]),
            OpenApiParameter("active", bool),
        ],
        examples=[
            OpenApiExample(
                "A page",
                value=RULE_EXAMPLE,
                response_only=True,
            )
        ],
    ),
    retrieve=extend_schema(
        summary="Get a pricing rule", examples=[OpenApiExample("Rule", value=RULE_EXAMPLE, response_only=True)]
    ),
    create=extend_schema(
        summary="Create a pricing rule",
        description="conditions by rule_type: seasonal {start_date, end_date (exclusive), recurring_yearly}; "
        "weekend {days: [4, 5]}; length_of_stay {min_nights}; last_minute {max_days_before}; extra_guest_fee "
        "{above_guests}; tax_percentage {}; tax_per_person_night {}.",
        parameters=[IDEMPOTENCY_PARAMETER],
        examples=[
            OpenApiExample(
                "Weekend +15%",
                request_only=True,
                value={
                    "property": 12,
                    "name": "Weekend",
                    "rule_type": "weekend",
                    "adjustment_type": "percentage",
                    "adjustment_value": "15.00",
                    "conditions": {"days": [4, 5]},
                    "priority": 10,
                },
            ),
            OpenApiExample("Created", value=RULE_EXAMPLE, response_only=True, status_codes=["201"]),
            error_example(
                "Bad conditions",
                "validation_error",
                "Invalid input.",
                {"conditions": ["conditions.min_nights must be a whole number ≥ 1."]},
            ),
        ],
    ),
    update=extend_schema(
        summary="Replace a pricing rule", examples=[OpenApiExample("Rule", value=RULE_EXAMPLE, response_only=True)]
    ),
    partial_update=extend_schema(
        summary="Change a pricing rule",
        examples=[OpenApiExample("Deactivate", value={"active": False}, request_only=True)],
    ),
    destroy=extend_schema(
        summary="Delete a pricing rule", examples=[error_example("Not yours", "not_found", "Not found.", status=404)]
    ),
)
class PricingRuleViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ApiViewSet,
):
    serializer_class = PricingRuleSerializer
    ordering_fields = ["priority", "created_at", "id"]
    ordering = ["property", "priority"]

    def scoped_queryset(self):
        qs = PricingRule.objects.visible_to(self.request.user).select_related("property")
        if self.action == "list":
            from apps.api.base import q_bool

            if (value := q_int(self.request, "property")) is not None:
                qs = qs.filter(property_id=value)
            if (value := q_choice(self.request, "rule_type", PricingRule.RuleType.values)) is not None:
                qs = qs.filter(rule_type=value)
            if (value := q_bool(self.request, "active")) is not None:
                qs = qs.filter(active=value)
        return qs

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        prop = data.pop("property")
        self.ensure_can_manage(prop)
        serializer.instance = services.pricing_rule_create(property_id=prop.pk, source="api", **data)

    def perform_update(self, serializer):
        self.ensure_can_manage(serializer.instance.property)
        changes = dict(serializer.validated_data)
        changes.pop("property", None)
        serializer.instance = services.pricing_rule_update(rule_id=serializer.instance.pk, source="api", **changes)

    def perform_destroy(self, instance):
        self.ensure_can_manage(instance.property)
        services.pricing_rule_delete(rule_id=instance.pk, source="api")


# --- quotes -------------------------------------------------------------------------------------


class QuoteRequestSerializer(serializers.Serializer):
    property = serializers.IntegerField(min_value=1)
    check_in = serializers.DateField(validators=[validate_api_date])
    check_out = serializers.DateField(validators=[validate_api_date])
    guests = serializers.IntegerField(min_value=1, max_value=100, default=1)


QUOTE_RESPONSE = inline_serializer(
    "QuoteResponse",
    {
        "property": serializers.IntegerField(),
        "check_in": serializers.DateField(),
        "check_out": serializers.DateField(),
        "guests": serializers.IntegerField(),
        "bookable": serializers.BooleanField(),
        "reasons": serializers.ListField(child=serializers.DictField()),
        "quote": serializers.DictField(allow_null=True),
    },
)
QUOTE_EXAMPLE = {
    "property": 12,
    "check_in": "2026-07-01",
    "check_out": "2026-07-03",
    "guests": 2,
    "bookable": True,
    "reasons": [],
    "quote": {
        "currency": "EUR",
        "nights": [
            {"night": "2026-07-01", "base": "120.00", "adjustments": [], "final": "120.00"},
            {"night": "2026-07-02", "base": "120.00", "adjustments": [], "final": "120.00"},
        ],
        "stay_adjustments": [],
        "fees": [{"code": "cleaning_fee", "label": "Cleaning fee", "amount": "40.00"}],
        "taxes": [],
        "rent": "240.00",
        "subtotal": "280.00",
        "total": "280.00",
    },
}


class QuoteView(ApiView):
    @extend_schema(
        summary="Quote a stay",
        description="Either `bookable: true` with the price broken down per night, or every reason the stay "
        "cannot be booked (min stay, taken dates, capacity, ...). Changes nothing.",
        request=QuoteRequestSerializer,
        responses={200: QUOTE_RESPONSE},
        parameters=[IDEMPOTENCY_PARAMETER],
        examples=[
            OpenApiExample(
                "Request",
                request_only=True,
                value={"property": 12, "check_in": "2026-07-01", "check_out": "2026-07-03", "guests": 2},
            ),
            OpenApiExample("Bookable", value=QUOTE_EXAMPLE, response_only=True),
            OpenApiExample(
                "Not bookable",
                response_only=True,
                value={
                    "property": 12,
                    "check_in": "2026-07-01",
                    "check_out": "2026-07-02",
                    "guests": 2,
                    "bookable": False,
                    "quote": None,
                    "reasons": [{"code": "min_stay", "message": "The minimum stay is 2 nights."}],
                },
            ),
        ],
    )
    def post(self, request):
        from .selectors import stay_check

        data = QuoteRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        prop = Property.objects.visible_to(request.user).filter(pk=values["property"]).first()
        if prop is None:
            from apps.core.errors import NotFound

            raise NotFound("Property not found.", details={"property": values["property"]})
        check = stay_check(
            prop=prop, check_in=values["check_in"], check_out=values["check_out"], guests=values["guests"]
        )
        body = {
            "property": prop.pk,
            "check_in": values["check_in"].isoformat(),
            "check_out": values["check_out"].isoformat(),
            "guests": values["guests"],
            **check.as_dict(),
        }
        return Response(body, status=status.HTTP_200_OK)


# --- availability search ------------------------------------------------------------------------

SEARCH_RESULT = inline_serializer(
    "SearchResults",
    {
        "count": serializers.IntegerField(),
        "page": serializers.IntegerField(),
        "num_pages": serializers.IntegerField(),
        "results": inline_serializer(
            "SearchResult",
            {
                "property": serializers.IntegerField(),
                "name": serializers.CharField(),
                "city": serializers.CharField(),
                "country": serializers.CharField(),
                "max_guests": serializers.IntegerField(),
                "bedrooms": serializers.IntegerField(),
                "currency": serializers.CharField(),
                "base_price": serializers.DecimalField(max_digits=12, decimal_places=2),
                "total": serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True),
                "quote": serializers.DictField(allow_null=True),
            },
            many=True,
        ),
    },
)


class SearchView(ApiView):
    @extend_schema(
        summary="Search available properties",
        description="Active properties the token's user may see that fit the location, dates, guests and "
        "filters, with the stay's total when dates are given.",
        parameters=[
            OpenApiParameter("location", str, description="City, property name or country code; commas for OR."),
            OpenApiParameter("check_in", str, description="YYYY-MM-DD (with check_out)."),
            OpenApiParameter("check_out", str, description="YYYY-MM-DD (with check_in)."),
            OpenApiParameter("guests", int, description="Default 1."),
            OpenApiParameter("amenities", str, description="Comma-separated; all must be present."),
            OpenApiParameter("min_bedrooms", int),
            OpenApiParameter("max_price", str, description="Maximum base nightly price."),
            OpenApiParameter("order", str, enum=["price", "-price", "name", "-bedrooms", "newest"]),
            OpenApiParameter("page", int),
            OpenApiParameter("per_page", int, description="1-100, default 20."),
        ],
        responses={200: SEARCH_RESULT},
        examples=[
            OpenApiExample(
                "One match",
                response_only=True,
                value={
                    "count": 1,
                    "page": 1,
                    "num_pages": 1,
                    "results": [
                        {
                            "property": 12,
                            "name": "Altbau Loft Mitte",
                            "city": "Berlin",
                            "country": "DE",
                            "max_guests": 4,
                            "bedrooms": 2,
                            "currency": "EUR",
                            "base_price": "120.00",
                            "total": "280.00",
                            "quote": QUOTE_EXAMPLE["quote"],
                        }
                    ],
                },
            ),
        ],
    )
    def get(self, request):
        from apps.availability.search import search_properties
        from apps.core.tenancy import visible_property_ids

        visible = visible_property_ids(request.user)
        found = search_properties(
            location=request.query_params.get("location", "")[:200].replace("\x00", ""),
            check_in=q_date(request, "check_in"),
            check_out=q_date(request, "check_out"),
            guests=q_int(request, "guests", minimum=1, maximum=100) or 1,
            amenities=[a for a in (request.query_params.get("amenities") or "").replace("\x00", "").split(",") if a],
            min_bedrooms=q_int(request, "min_bedrooms", maximum=100),
            max_price=q_str_decimal(request, "max_price"),
            order=q_choice(request, "order", ["price", "-price", "name", "-bedrooms", "newest"]) or "price",
            page=q_int(request, "page", minimum=1, maximum=100000) or 1,
            per_page=q_int(request, "per_page", minimum=1, maximum=100) or 20,
            property_ids=None if visible is None else list(visible.values_list("pk", flat=True)),
        )
        results = []
        for item in found.results:
            p, quote = item.property, item.quote
            results.append({
                "property": p.pk, "name": p.name, "city": p.city, "country": p.country,
                "max_guests": p.max_guests, "bedrooms": p.bedrooms, "currency": p.currency,
                "base_price": str(p.base_price), "total": str(quote.total) if quote else None,
                "quote": quote.as_dict() if quote else None,
            })  # fmt: skip
        count, page, num_pages = found.total_count, found.page, found.num_pages
        return Response({"count": count, "page": page, "num_pages": num_pages, "results": results})


def q_str_decimal(request, name: str) -> Decimal | None:
    from decimal import InvalidOperation

    from apps.api.base import q_str

    value = q_str(request, name)
    if value is None:
        return None
    try:
        parsed = Decimal(value)
    except InvalidOperation:
        parsed = None
    if parsed is None or not parsed.is_finite() or parsed < 0 or parsed > Decimal("99999999"):
        raise serializers.ValidationError({name: ["Must be a non-negative number."]})
    return parsed
