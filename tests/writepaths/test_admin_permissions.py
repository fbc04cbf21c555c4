"""Admin change permission is checked per object everywhere: change pages, list_editable POSTs,
actions and inlines; forged POSTs answer 4xx or a form error, never 500 (finding 8)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from apps.availability.models import PricingRule
from apps.core.models import SyncEvent
from apps.properties.models import PropertyPhoto
from tests.factories import PropertyFactory

from .conftest import property_form_data
from .test_pricing_rules import changelist_post

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:availability_pricingrule_changelist"


def rule_of(prop, name="Weekend"):
    """Set-up only (the admin is what is tested here)."""
    return PricingRule.objects.create(
        property=prop, name=name, rule_type="weekend", adjustment_type="percentage",
        adjustment_value=Decimal("10"), conditions={"days": [4, 5]},
    )  # fmt: skip


def test_view_only_cohost_cannot_change_through_list_editable(client, viewer, prop):
    rule = rule_of(prop)
    client.force_login(viewer)
    page = client.get(reverse(CHANGELIST))
    assert page.status_code == 200
    html = page.content.decode()
    assert rule.name in html
    # the checkbox renders read-only for a row they may not change
    assert 'name="form-0-active"' not in html or "disabled" in _input(html, "form-0-active")
    response = client.post(reverse(CHANGELIST), changelist_post([rule], active=False))
    assert response.status_code in (200, 302, 403)
    rule.refresh_from_db()
    assert rule.active is True
    assert not SyncEvent.objects.filter(property=prop, payload__reason="rule.updated").exists()


def test_cohost_with_change_access_can_use_list_editable_only_on_granted_rows(client, cohost, prop, bob_prop):
    own = rule_of(prop)
    foreign = rule_of(bob_prop, name="Bob's rule")
    client.force_login(cohost)
    response = client.post(reverse(CHANGELIST), changelist_post([own], active=False))
    assert response.status_code == 302
    own.refresh_from_db()
    assert own.active is False
    # a forged POST naming Bob's rule: a form error or 4xx, never a change, never 500
    response = client.post(reverse(CHANGELIST), changelist_post([foreign], active=False))
    assert response.status_code in (200, 400, 403, 404)
    foreign.refresh_from_db()
    assert foreign.active is True


@pytest.mark.parametrize("forged_id", ["999999", "abc", "", "1" * 30, "-1", "1\x00"])
def test_forged_list_editable_ids_never_500(client, alice, prop, forged_id):
    rule_of(prop)
    client.force_login(alice)
    data = changelist_post(["x"], active=False)
    data["form-0-id"] = forged_id
    response = client.post(reverse(CHANGELIST), data)
    assert response.status_code in (200, 302, 400, 403, 404), response.status_code
    assert PricingRule.objects.filter(active=False).count() == 0
    assert PricingRule.objects.count() == 1  # no new row either


def test_forged_extra_form_cannot_create_rows(client, alice, prop):
    rule = rule_of(prop)
    client.force_login(alice)
    data = changelist_post([rule])
    data.update({"form-TOTAL_FORMS": "2", "form-1-id": "", "form-1-active": "on"})
    response = client.post(reverse(CHANGELIST), data)
    assert response.status_code in (200, 302, 400, 403)
    assert PricingRule.objects.count() == 1


def test_outsider_list_editable_post_changes_nothing(client, charlie, prop):
    rule = rule_of(prop)
    client.force_login(charlie)
    response = client.post(reverse(CHANGELIST), changelist_post([rule], active=False))
    assert response.status_code in (302, 403)
    rule.refresh_from_db()
    assert rule.active is True


def test_view_only_cohost_cannot_add_photos_through_the_inline(client, viewer, prop):
    client.force_login(viewer)
    url = reverse("admin:properties_property_change", args=[prop.pk])
    data = property_form_data(
        prop,
        **{"photos-TOTAL_FORMS": "1", "photos-0-url": "https://example.com/x.jpg", "photos-0-position": "0",
           "photos-0-caption": "sneaky"},
    )  # fmt: skip
    assert client.post(url, data).status_code == 403
    assert not PropertyPhoto.objects.filter(property=prop).exists()


def test_inline_rows_of_a_view_only_property_are_read_only_for_an_owner_cohost(client, prop, bob):
    """Bob owns his cabin and may only view Alice's loft: its photo inline is read-only for him."""
    from guardian.shortcuts import assign_perm

    assign_perm("properties.view_property", bob, prop)
    PropertyPhoto.objects.create(property=prop, url="https://example.com/a.jpg", caption="A")
    client.force_login(bob)
    page = client.get(reverse("admin:properties_property_change", args=[prop.pk])).content.decode()
    assert 'name="photos-0-caption"' not in page
    # his own cabin is fully editable
    cabin = PropertyFactory(owner=bob)
    PropertyPhoto.objects.create(property=cabin, url="https://example.com/b.jpg", caption="B")
    own = client.get(reverse("admin:properties_property_change", args=[cabin.pk])).content.decode()
    assert 'name="photos-0-caption"' in own


def test_actions_with_forged_ids_never_500(client, alice, prop):
    client.force_login(alice)
    for ids in (["999999"], ["abc"], ["1\x00"], [""]):
        response = client.post(reverse(CHANGELIST), {"action": "delete_selected", "_selected_action": ids})
        assert response.status_code in (200, 302, 400, 403), (ids, response.status_code)


def _input(html: str, name: str) -> str:
    start = html.find(f'name="{name}"')
    return html[html.rfind("<", 0, start) : html.find(">", start) + 1]
