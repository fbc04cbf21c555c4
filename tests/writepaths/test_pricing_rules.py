"""Pricing rules: one service per write (create / update / delete), each emitting the pricing event;
the admin (form, list_editable, delete) and the API call it (finding 3, finding 8)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from apps.availability import services
from apps.availability.models import PricingRule
from apps.core.errors import ValidationFailed
from apps.core.models import SyncEvent
from tests.api.test_basics import assert_error

from .conftest import rule_form_data

pytestmark = pytest.mark.django_db


def pricing_events(prop):
    events = SyncEvent.objects.filter(property=prop, event_type=SyncEvent.Type.PRICING_UPDATED)
    return list(events.order_by("created_at"))


def make_rule(prop, **kw):
    values = {
        "name": "Weekend",
        "rule_type": "weekend",
        "adjustment_type": "percentage",
        "adjustment_value": Decimal("10"),
        "conditions": {"days": [4, 5]},
    }
    values.update(kw)
    return services.pricing_rule_create(property_id=prop.pk, **values)


def test_service_create_update_delete_each_emit(prop):
    rule = make_rule(prop)
    services.pricing_rule_update(rule_id=rule.pk, adjustment_value=Decimal("20"))
    services.pricing_rule_update(rule_id=rule.pk, adjustment_value=Decimal("20"))  # no change, no event
    services.pricing_rule_delete(rule_id=rule.pk)
    events = pricing_events(prop)
    assert [e.payload["reason"] for e in events] == ["rule.created", "rule.updated", "rule.deleted"]
    assert all(e.entity_type == "pricing_rule" and e.payload["rule_id"] == rule.pk for e in events)
    assert not PricingRule.objects.filter(pk=rule.pk).exists()


def test_service_refuses_bad_rules_and_unknown_fields(prop):
    with pytest.raises(ValidationFailed):
        make_rule(prop, conditions={"days": [9]})
    rule = make_rule(prop)
    with pytest.raises(ValidationFailed):
        services.pricing_rule_update(rule_id=rule.pk, property_id=999)
    with pytest.raises(ValidationFailed):
        services.pricing_rule_update(rule_id=rule.pk, rule_type="length_of_stay")  # conditions no longer fit
    rule.refresh_from_db()
    assert rule.rule_type == "weekend" and len(pricing_events(prop)) == 1


def test_admin_add_change_delete_emit_once_each(client, alice, prop):
    client.force_login(alice)
    response = client.post(reverse("admin:availability_pricingrule_add"), rule_form_data(prop))
    assert response.status_code == 302, response.content.decode()[:2000]
    rule = PricingRule.objects.get(property=prop)
    url = reverse("admin:availability_pricingrule_change", args=[rule.pk])
    assert client.post(url, rule_form_data(prop, adjustment_value="25")).status_code == 302
    delete = reverse("admin:availability_pricingrule_delete", args=[rule.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 302
    assert [e.payload["reason"] for e in pricing_events(prop)] == ["rule.created", "rule.updated", "rule.deleted"]


def test_admin_list_editable_goes_through_the_service(client, alice, prop):
    rule = make_rule(prop)
    client.force_login(alice)
    response = client.post(reverse("admin:availability_pricingrule_changelist"), changelist_post([rule], active=False))
    assert response.status_code == 302, response.content.decode()[:3000]
    rule.refresh_from_db()
    assert rule.active is False
    assert [e.payload["reason"] for e in pricing_events(prop)] == ["rule.created", "rule.updated"]


def test_api_create_update_delete_emit_once_each(alice_api, prop):
    body = {"property": prop.pk, "name": "Summer", "rule_type": "seasonal", "adjustment_type": "percentage",
            "adjustment_value": "15", "conditions": {"start_date": "2030-06-01", "end_date": "2030-09-01"}}  # fmt: skip
    response = alice_api.post("/api/v1/pricing-rules/", body, format="json")
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert alice_api.patch(f"/api/v1/pricing-rules/{pk}/", {"active": False}, format="json").status_code == 200
    assert alice_api.delete(f"/api/v1/pricing-rules/{pk}/").status_code == 204
    events = pricing_events(prop)
    assert [(e.payload["reason"], e.source) for e in events] == [
        ("rule.created", "api"), ("rule.updated", "api"), ("rule.deleted", "api"),
    ]  # fmt: skip


def test_api_outsider_and_garbage(bob_api, alice_api, prop):
    rule = make_rule(prop)
    assert_error(bob_api.patch(f"/api/v1/pricing-rules/{rule.pk}/", {"active": False}, format="json"), 404)
    assert_error(bob_api.delete(f"/api/v1/pricing-rules/{rule.pk}/"), 404)
    for body in ({"adjustment_value": "1e30"}, {"conditions": {"days": ["x\x00"]}}, {"priority": 10**10}):
        response = alice_api.patch(f"/api/v1/pricing-rules/{rule.pk}/", body, format="json")
        assert 400 <= response.status_code < 500, (body, response.content)
    rule.refresh_from_db()
    assert rule.active and len(pricing_events(prop)) == 1


def changelist_post(rules, **values) -> dict:
    data = {
        "form-TOTAL_FORMS": str(len(rules)),
        "form-INITIAL_FORMS": str(len(rules)),
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    for i, rule in enumerate(rules):
        data[f"form-{i}-id"] = str(rule.pk if hasattr(rule, "pk") else rule)
        if values.get("active", True):
            data[f"form-{i}-active"] = "on"
    return data
