"""Outside-in audit of the back office and money pages added on one day: the last representable date
and month in their query strings are a form error or a clamped page, never a 500."""

from __future__ import annotations

import pytest
from django.urls import reverse


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "first_night=9999-12-31",
        "first_night=9999-12-30&last_night=9999-12-31",
        "first_night=0001-01-01",
        "first_night=0001-01-01&last_night=9999-12-31",
    ],
)
def test_calendar_edit_extreme_nights_are_no_500(client, alice, prop, query):
    client.force_login(alice)
    response = client.get(reverse("admin:backoffice_calendar_edit") + f"?property={prop.pk}&{query}")
    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query", ["first_month=9999-01&months=12", "first_month=9999-12&months=1", "first_month=0001-01"]
)
def test_reports_page_last_months_are_a_form_error(client, alice, prop, query):
    client.force_login(alice)
    response = client.get(reverse("admin:ledger_reports") + "?" + query)
    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    ["start=9999-12-31&end=9999-12-31", "start=0001-01-01&end=9999-12-30", "month=9999-12", "month=0000-01"],
)
def test_statements_page_extreme_ranges_are_no_500(client, alice, prop, query):
    client.force_login(alice)
    response = client.get(reverse("admin:ledger_statements") + f"?owner={alice.pk}&{query}")
    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "check_in=9999-12-30&check_out=9999-12-31&guests=2",
        "check_in=0001-01-01&check_out=0001-01-03&guests=2",
        "check_in=2027-01-01&check_out=9999-12-31&guests=2",
    ],
)
def test_test_a_stay_with_dates_outside_the_window_is_a_form_error(client, alice, prop, query):
    client.force_login(alice)
    response = client.get(reverse("admin:availability_test_stay") + f"?property={prop.pk}&{query}")
    assert response.status_code == 200
    assert response.context["form"].errors


@pytest.mark.django_db
def test_stay_check_on_the_last_representable_night_is_an_answer(prop):
    from datetime import date

    from apps.availability.selectors import stay_check

    check = stay_check(prop=prop, check_in=date(9999, 12, 30), check_out=date(9999, 12, 31), guests=2)
    assert check is not None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "query", "message"),
    [
        ("/api/v1/statements/", "month=9999-12", "before 9999-12"),
        ("/api/v1/statements/", "month=%2B202-01", "YYYY-MM"),
        ("/api/v1/statements/", "month=%20202-01", "YYYY-MM"),
        ("/api/v1/reports/", "first_month=9999-01&months=36", "before the year 10000"),
    ],
)
def test_api_months_out_of_range_say_so(alice, prop, path, query, message):
    from tests.api.conftest import client_for

    response = client_for(alice).get(f"{path}?{query}")
    assert response.status_code == 400, response.content
    assert message in response.json()["error"]["message"]


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["block", "booking", "rates"])
@pytest.mark.parametrize(
    ("first", "last"), [("9999-12-31", "9999-12-31"), ("0001-01-01", "9999-12-31"), ("0001-01-01", "0001-01-02")]
)
def test_calendar_change_form_with_nights_outside_the_window_is_a_form_error(client, alice, prop, action, first, last):
    from apps.availability.models import AvailabilityBlock

    client.force_login(alice)
    response = client.post(
        reverse("admin:backoffice_calendar_edit"),
        {"property": prop.pk, "action": action, "first_night": first, "last_night": last, "min_stay": 2},
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not AvailabilityBlock.objects.filter(property=prop).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("total", ["1e20", "1e999", "99999999999"])
def test_import_with_an_absurd_total_refuses_the_row(client, alice, prop, total):
    from datetime import timedelta

    from django.core.files.uploadedfile import SimpleUploadedFile

    from apps.bookings.models import Booking
    from tests.factories import future

    start = future(40)
    csv = (
        "type,property,check_in,check_out,guests,first_name,last_name,email,total_price\n"
        f"booking,{prop.pk},{start},{start + timedelta(days=2)},2,Ann,Lee,ann@example.com,{total}\n"
    )
    client.force_login(alice)
    response = client.post(reverse("admin:ledger_exchange"), {"file": SimpleUploadedFile("b.csv", csv.encode())})
    assert response.status_code == 200
    assert "total_price" in response.content.decode()
    assert not Booking.objects.filter(property=prop).exists()
