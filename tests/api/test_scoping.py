"""Tenant isolation: another owner's objects answer 404 everywhere and appear in no list."""

from __future__ import annotations

import pytest
from guardian.shortcuts import assign_perm

from tests.api.conftest import client_for
from tests.api.test_basics import assert_error
from tests.factories import UserFactory, future

pytestmark = pytest.mark.django_db

LISTS = [
    "/api/v1/properties/",
    "/api/v1/photos/",
    "/api/v1/blocks/",
    "/api/v1/pricing-rules/",
    "/api/v1/bookings/",
    "/api/v1/guests/",
    "/api/v1/sync-events/",
    "/api/v1/channel-connections/",
    "/api/v1/payments/",
    "/api/v1/search/",
]
WRITABLE = {"property", "photo", "block", "pricing-rule"}
#: changeable but not deletable (PATCH only for bookings; PUT and PATCH for guests)
PATCH_ONLY = {
    "booking": {"special_requests": "mine now", "check_in": str(future(20)), "check_out": str(future(22))},
    "guest": {"first_name": "Mallory", "email": "mallory@example.com"},
}
PLURAL = {"property": "properties"}


def detail_url(kind: str, obj) -> str:
    return f"/api/v1/{PLURAL.get(kind, kind + 's')}/{obj.pk}/"


ACTIONS = {"booking": ["confirm", "check-in", "check-out", "cancel"], "property": ["calendar"]}


@pytest.mark.parametrize("outsider", ["bob", "charlie"])
def test_outsider_gets_404_on_every_detail_url(request, world, outsider):
    api = client_for(request.getfixturevalue(outsider))
    for kind, obj in world.items():
        url = detail_url(kind, obj)
        assert_error(api.get(url), 404, "not_found")
        if kind in WRITABLE:
            assert_error(api.patch(url, {"name": "x", "caption": "x"}, format="json"), 404, "not_found")
            assert_error(api.put(url, {}, format="json"), 404, "not_found")
            assert_error(api.delete(url), 404, "not_found")
        if kind in PATCH_ONLY:
            assert_error(api.patch(url, PATCH_ONLY[kind], format="json"), 404, "not_found")
        if kind == "guest":
            assert_error(api.put(url, PATCH_ONLY[kind], format="json"), 404, "not_found")
        for name in ACTIONS.get(kind, []):
            method = api.get if name == "calendar" else api.post
            assert_error(method(f"{url}{name}/"), 404, "not_found")
    # the owner still sees every one of them, unchanged
    owner = client_for(world["property"].owner)
    for kind, obj in world.items():
        response = owner.get(detail_url(kind, obj))
        assert response.status_code == 200, kind
        for field, value in PATCH_ONLY.get(kind, {}).items():
            assert response.json()[field] != value, (kind, field)


@pytest.mark.parametrize("outsider", ["bob", "charlie"])
def test_outsider_lists_show_nothing_of_alice(request, world, outsider):
    api = client_for(request.getfixturevalue(outsider))
    for url in LISTS:
        response = api.get(url)
        assert response.status_code == 200, (url, response.content)
        body = response.json()
        assert body["count"] == 0, (url, body)
        assert body["results"] == []


def test_outsider_cannot_write_into_alices_property(bob_api, world):
    prop = world["property"]
    for url, payload in [
        ("/api/v1/blocks/", {"property": prop.pk, "start_date": str(future(90)), "end_date": str(future(91))}),
        ("/api/v1/photos/", {"property": prop.pk, "url": "https://example.com/x.jpg"}),
        ("/api/v1/pricing-rules/", {"property": prop.pk, "rule_type": "tax_percentage",
                                    "adjustment_type": "percentage", "adjustment_value": "7"}),
        ("/api/v1/bookings/", {"property": prop.pk, "check_in": str(future(90)), "check_out": str(future(92)),
                               "guests": 1}),
    ]:  # fmt: skip
        err = assert_error(bob_api.post(url, payload, format="json"), 400, "validation_error")
        assert "property" in err["details"], url
    assert_error(bob_api.post("/api/v1/quotes/", {"property": prop.pk, "check_in": str(future(90)),
                                                  "check_out": str(future(92))}, format="json"), 404)  # fmt: skip


def test_cohost_sees_but_cannot_change(world):
    cohost = UserFactory(username="cohost")
    prop = world["property"]
    assign_perm("properties.view_property", cohost, prop)
    api = client_for(cohost)
    assert api.get(f"/api/v1/properties/{prop.pk}/").status_code == 200
    assert api.get("/api/v1/bookings/").json()["count"] == 1
    assert_error(api.patch(f"/api/v1/properties/{prop.pk}/", {"name": "Mine"}, format="json"), 403)
    assert_error(api.post(f"/api/v1/bookings/{world['booking'].pk}/cancel/"), 403, "permission_denied")
    for kind, body in PATCH_ONLY.items():  # the co-host sees the booking and its guest, may not change them
        url = detail_url(kind, world[kind])
        assert api.get(url).status_code == 200
        assert_error(api.patch(url, body, format="json"), 403, "permission_denied")
    assert api.get(detail_url("payment", world["payment"])).status_code == 200
    assert api.get(f"/api/v1/payments/?booking={world['booking'].pk}").json()["count"] == 1
    assign_perm("properties.change_property", cohost, prop)
    assert api.patch(f"/api/v1/properties/{prop.pk}/", {"name": "Shared"}, format="json").status_code == 200
    for kind, body in PATCH_ONLY.items():
        assert api.patch(detail_url(kind, world[kind]), body, format="json").status_code == 200, kind
