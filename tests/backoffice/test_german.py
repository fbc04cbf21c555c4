"""The back office speaks German to a browser that asks for it (Accept-Language), like the guest pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import future
from tests.storefront.conftest import german_catalog  # noqa: F401  (compiles locale/de when out of date)


@pytest.mark.django_db
def test_back_office_pages_in_german(client, alice, prop):
    client.force_login(alice)
    de = {"HTTP_ACCEPT_LANGUAGE": "de"}
    calendar = client.get(reverse("admin:backoffice_calendar"), **de).content.decode()
    assert "Kalender" in calendar and "Früher" in calendar and "Wartung" in calendar and "2 Wochen" in calendar
    dashboard = client.get(reverse("admin:index"), **de).content.decode()
    assert "Anreisen heute" in dashboard and "Dieser Monat" in dashboard and "PMS-Webapp Backoffice" in dashboard
    sync = client.get(reverse("admin:backoffice_sync_health"), **de).content.decode()
    assert "Ihre iCal-Export-Feeds" in sync and "nicht in den letzten 30 Tagen" in sync
    edit = client.get(
        reverse("admin:backoffice_calendar_edit"), {"property": prop.pk, "first_night": future(5)}, **de
    ).content.decode()
    assert "Erste Nacht" in edit and "Diese Nächte sperren (Eigennutzung)" in edit
    english = client.get(reverse("admin:backoffice_calendar"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Earlier" in english and "Früher" not in english


@pytest.mark.django_db
def test_admin_app_names_actions_and_sections_in_german(client, alice, prop):
    client.force_login(alice)
    de = {"HTTP_ACCEPT_LANGUAGE": "de"}
    index = client.get(reverse("admin:index"), **de).content.decode()
    assert "Unterkünfte" in index and "Verfügbarkeit &amp; Preise" in index
    bookings = client.get(reverse("admin:bookings_booking_changelist"), **de).content.decode()
    assert "Ausgewählte Buchungen bestätigen" in bookings and "Ausgewählte Buchungen einchecken" in bookings
    change = client.get(reverse("admin:properties_property_change", args=[prop.pk]), **de).content.decode()
    assert "Kalenderexport (iCal)" in change and "Preise und Regeln" in change and "Lage" in change
