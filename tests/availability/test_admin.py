"""Admin for blocks and pricing rules: owner scoping, writes through services, the test-a-stay preview."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from apps.availability import services
from apps.availability.models import AvailabilityBlock, OccupiedNight, PricingRule
from apps.core.models import SyncEvent
from tests.factories import future

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


def test_block_add_goes_through_the_service(alice_client, prop):
    url = reverse("admin:availability_availabilityblock_add")
    resp = alice_client.post(
        url,
        {
            "property": prop.pk,
            "block_type": "blocked",
            "start_date": future(5),
            "end_date": future(8),
            "note": "paint",
        },
    )
    assert resp.status_code == 302, resp.content[:2000]
    block = AvailabilityBlock.objects.get(property=prop)
    assert OccupiedNight.objects.filter(block=block).count() == 3
    assert SyncEvent.objects.filter(property_id=prop.pk).exists()


def test_block_overlap_is_a_form_error(alice_client, prop):
    services.block_create(property_id=prop.pk, start_date=future(5), end_date=future(8))
    resp = alice_client.post(
        reverse("admin:availability_availabilityblock_add"),
        {
            "property": prop.pk,
            "block_type": "maintenance",
            "start_date": future(7),
            "end_date": future(9),
        },
    )
    assert resp.status_code == 200
    assert b"These dates overlap" in resp.content
    assert AvailabilityBlock.objects.count() == 1


def test_block_change_and_delete_through_services(alice_client, prop):
    block = services.block_create(property_id=prop.pk, start_date=future(5), end_date=future(8))
    resp = alice_client.post(
        reverse("admin:availability_availabilityblock_change", args=[block.pk]),
        {
            "property": prop.pk,
            "block_type": "blocked",
            "start_date": future(5),
            "end_date": future(6),
            "note": "",
        },
    )
    assert resp.status_code == 302
    assert list(OccupiedNight.objects.filter(block=block).values_list("night", flat=True)) == [future(5)]
    resp = alice_client.post(reverse("admin:availability_availabilityblock_delete", args=[block.pk]), {"post": "yes"})
    assert resp.status_code == 302
    assert not AvailabilityBlock.objects.exists() and not OccupiedNight.objects.exists()


def test_owner_sees_only_own_blocks_and_rules(alice_client, prop, bob_prop):
    services.block_create(property_id=bob_prop.pk, start_date=future(5), end_date=future(8))
    rule = PricingRule.objects.create(
        property=bob_prop, rule_type="weekend", adjustment_type="percentage", adjustment_value=10
    )
    resp = alice_client.get(reverse("admin:availability_availabilityblock_changelist"))
    assert resp.status_code == 200 and b"Bob" not in resp.content
    assert alice_client.get(reverse("admin:availability_pricingrule_change", args=[rule.pk])).status_code in (302, 404)
    resp = alice_client.post(
        reverse("admin:availability_pricingrule_add"),
        {
            "property": bob_prop.pk,
            "name": "x",
            "rule_type": "weekend",
            "adjustment_type": "percentage",
            "adjustment_value": "10",
            "conditions": "{}",
            "priority": 0,
            "active": "on",
        },
    )
    assert resp.status_code == 200 and PricingRule.objects.count() == 1  # Bob's property is not a choice


def test_rule_conditions_validated_with_clear_errors(alice_client, prop):
    resp = alice_client.post(
        reverse("admin:availability_pricingrule_add"),
        {
            "property": prop.pk,
            "name": "summer",
            "rule_type": "seasonal",
            "adjustment_type": "percentage",
            "adjustment_value": "20",
            "conditions": '{"start_date": "2025-13-01"}',
            "priority": 0,
            "active": "on",
        },
    )
    assert resp.status_code == 200
    assert "conditions.start_date must be a date" in resp.content.decode()
    resp = alice_client.post(
        reverse("admin:availability_pricingrule_add"),
        {
            "property": prop.pk,
            "name": "summer",
            "rule_type": "seasonal",
            "adjustment_type": "percentage",
            "adjustment_value": "20",
            "conditions": '{"start_date": "2025-06-01", "end_date": "2025-09-01"}',
            "priority": 0,
            "active": "on",
        },
    )
    assert resp.status_code == 302
    assert SyncEvent.objects.filter(event_type=SyncEvent.Type.PRICING_UPDATED).exists()


def test_test_a_stay_shows_breakdown(alice_client, prop):
    PricingRule.objects.create(
        property=prop,
        name="Tourist tax",
        rule_type="tax_per_person_night",
        adjustment_type="fixed",
        adjustment_value=Decimal("2"),
    )
    url = reverse("admin:availability_test_stay")
    assert b"Test a stay" in alice_client.get(reverse("admin:availability_pricingrule_changelist")).content
    resp = alice_client.get(url, {"property": prop.pk, "check_in": future(10), "check_out": future(12), "guests": 2})
    html = resp.content.decode()
    assert resp.status_code == 200 and 'id="bookable"' in html
    assert "Tourist tax" in html and '<th id="quote-total">238.00</th>' in html


def test_test_a_stay_shows_reasons(alice_client, prop):
    resp = alice_client.get(
        reverse("admin:availability_test_stay"),
        {"property": prop.pk, "check_in": future(10), "check_out": future(12), "guests": 9},
    )
    assert 'data-code="over_capacity"' in resp.content.decode()


def test_test_a_stay_refuses_other_owners_property(alice_client, bob_prop):
    resp = alice_client.get(
        reverse("admin:availability_test_stay"),
        {"property": bob_prop.pk, "check_in": future(10), "check_out": future(12), "guests": 2},
    )
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "Select a valid choice" in html and "quote-total" not in html


def test_outsider_cannot_open_test_a_stay(client, charlie):
    client.force_login(charlie)
    assert client.get(reverse("admin:availability_test_stay")).status_code == 403
