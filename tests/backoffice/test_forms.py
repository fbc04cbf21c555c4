"""Forms a person can fill: the property's address as fields and amenities from the catalogue; pricing
rule conditions as fields per rule type. Both still write through the services."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.availability.models import PricingRule
from apps.core.models import SyncEvent
from tests.writepaths.conftest import property_form_data


def rule_data(prop, **fields):
    data = {"property": prop.pk, "name": "R", "adjustment_type": "percentage", "adjustment_value": "10",
            "conditions": "", "priority": "0", "active": "on"}  # fmt: skip
    data.update(fields)
    return data


@pytest.mark.django_db
def test_property_address_and_amenities_are_fields(client, alice, prop):
    prop.amenities = ["canoe"]  # a code outside the catalogue is kept
    prop.save()
    client.force_login(alice)
    url = reverse("admin:properties_property_change", args=[prop.pk])
    page = client.get(url).content.decode()
    assert 'name="street"' in page and 'name="postal_code"' in page and 'name="region"' in page
    assert 'value="wifi"' in page and 'value="canoe"' in page and 'name="address"' not in page
    data = property_form_data(prop, street="Seestraße 7", postal_code="14467", region="Brandenburg",
                              city="Potsdam", country="de", amenities=["wifi", "sauna", "canoe"])  # fmt: skip
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    prop.refresh_from_db()
    assert prop.address == {
        "street": "Seestraße 7", "postal_code": "14467", "region": "Brandenburg", "city": "Potsdam", "country": "DE"
    }  # fmt: skip
    assert prop.amenities == ["wifi", "sauna", "canoe"]
    bad = client.post(url, property_form_data(prop, amenities=["wifi", "jacuzzi-on-the-moon"]))
    assert bad.status_code == 200 and "errorlist" in bad.content.decode()


@pytest.mark.django_db
def test_pricing_rule_conditions_are_fields_per_type(client, alice, prop):
    client.force_login(alice)
    add = reverse("admin:availability_pricingrule_add")
    page = client.get(add).content.decode()
    assert 'name="season_start"' in page and 'name="weekend_days"' in page and 'type="hidden" name="conditions"' in page
    response = client.post(add, rule_data(prop, rule_type="seasonal", season_start="2030-06-01",
                                          season_end="2030-09-01", recurring_yearly="on"))  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:3000]
    rule = PricingRule.objects.get(property=prop)
    assert rule.conditions == {"start_date": "2030-06-01", "end_date": "2030-09-01", "recurring_yearly": True}
    response = client.post(add, rule_data(prop, rule_type="weekend", weekend_days=["5", "6"]))
    assert response.status_code == 302
    assert PricingRule.objects.get(property=prop, rule_type="weekend").conditions == {"days": [5, 6]}
    for fields, error in (
        ({"rule_type": "seasonal", "season_start": "2030-06-01"}, "A season needs its end."),
        ({"rule_type": "seasonal", "season_start": "2030-06-01", "season_end": "2030-05-01"}, "must end after"),
        ({"rule_type": "length_of_stay"}, "This rule type needs this number."),
        ({"rule_type": "weekend", "weekend_days": ["9"]}, "Select a valid choice"),
    ):
        response = client.post(add, rule_data(prop, **fields))
        assert response.status_code == 200 and error in response.content.decode(), fields
    # change a stay rule's number through its field: one pricing event, the conditions rewritten
    response = client.post(add, rule_data(prop, rule_type="length_of_stay", adjustment_value="-10", min_nights="7"))
    assert response.status_code == 302
    rule = PricingRule.objects.get(property=prop, rule_type="length_of_stay")
    before = SyncEvent.objects.filter(property=prop, event_type="pricing.updated").count()
    change = reverse("admin:availability_pricingrule_change", args=[rule.pk])
    data = rule_data(prop, rule_type="length_of_stay", adjustment_value="-10.00", min_nights="14",
                     conditions='{"min_nights": 7}')  # fmt: skip
    data.pop("property")
    assert client.post(change, data).status_code == 302
    rule.refresh_from_db()
    assert rule.conditions == {"min_nights": 14}
    assert SyncEvent.objects.filter(property=prop, event_type="pricing.updated").count() == before + 1
