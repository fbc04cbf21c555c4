"""Expedia reservations over real HTTP: the pull model (EQC BR + BC) and the push model (Booking
Notification SOAP POSTed by the simulator to our webhook), each chosen per connection."""

from __future__ import annotations

import re
import threading
import time

import pytest
import requests
from defusedxml import ElementTree as SafeET

from apps.bookings import services as booking_services
from apps.bookings.models import Booking
from apps.channels.inbound import reservations_pull
from apps.channels.models import ChannelAlert, ChannelConnection, InboundMessage
from apps.channels.tasks import pull_reservations
from apps.sandbox import expedia as sim
from apps.sandbox.models import SimFault, SimRequest
from apps.sandbox.models.expedia import ExpBooking, ExpDay, ExpHotel, ExpTransaction
from tests.factories import future

from .conftest import BN_PASSWORD, BN_USER, EQC_PASSWORD, EQC_USER, make_expedia_connection

pytestmark = pytest.mark.django_db(transaction=True)
OTA = "{http://www.opentravel.org/OTA/2003/05}"


def _pull(conn):
    return reservations_pull(connection_id=conn.pk)


def _answer(text: str) -> tuple[str, str]:
    """(ResResponseType or Status or error code, our confirmation id) of a BN answer."""
    root = SafeET.fromstring(text.encode())
    rs = next(el for el in root.iter() if el.tag.startswith(OTA) and el.tag.endswith("RS"))
    err = rs.find(f"{OTA}Errors/{OTA}Error")
    if err is not None:
        return f"error {err.get('Code')}", ""
    ours = next(
        (el.get("ResID_Value") or el.get("ID") for el in rs.iter() if "3" in (el.get("ResID_Type"), el.get("Type"))),
        "",
    )
    return rs.get("ResResponseType") or rs.get("Status"), ours


# --- pull: BR + BC -------------------------------------------------------------------------------
def test_book_modify_cancel_released_in_sequence_become_one_booking_each_confirmed_once(prop, hotel, expedia):
    book = sim.create_booking(hotel=hotel, check_in=future(10), check_out=future(13), given_name="Ana", surname="Ruiz")
    expedia_id = book.booking.booking_id
    modify = sim.modify_booking(booking=book.booking, check_in=future(11), check_out=future(15))
    cancel = sim.cancel_booking(booking=book.booking)

    first = _pull(expedia)  # only the Book is released: the Modify waits for it
    assert first.fetched == 1 and first.created == 1 and first.acked == 1, first
    booking = Booking.objects.get(external_id=expedia_id)
    assert booking.source == "expedia" and booking.property_id == prop.pk and booking.status == "confirmed"
    assert (booking.check_in, booking.check_out, booking.guest.first_name) == (future(10), future(13), "Ana")
    book.refresh_from_db()
    modify.refresh_from_db()
    assert book.status == "confirmed" and book.confirm_count == 1 and book.confirm_number == booking.reference
    assert modify.status == "pending"
    bc = SimRequest.objects.filter(simulator="expedia", path__endswith="/eqc/bc").get()
    assert 'xmlns="http://www.expediaconnect.com/EQC/BC/2007/09"' in bc.body
    assert f'confirmNumber="{booking.reference}"' in bc.body and 'bookingType="Book"' in bc.body
    assert "<BookingConfirmRS" in bc.response and "<Success" in bc.response

    second = _pull(expedia)
    assert second.fetched == 1 and second.outcomes == ["changed"], second
    booking.refresh_from_db()
    assert (booking.check_in, booking.check_out, booking.status) == (future(11), future(15), "confirmed")

    third = _pull(expedia)
    assert third.outcomes == ["cancelled"], third
    booking.refresh_from_db()
    assert booking.status == "cancelled"

    for _ in range(2):  # pulled again: nothing new, nothing duplicated, nothing confirmed twice
        again = _pull(expedia)
        assert again.fetched == 0 and again.acked == 0
    assert Booking.objects.filter(external_id=expedia_id).count() == 1
    for txn in (book, modify, cancel):
        txn.refresh_from_db()
        assert txn.status == "confirmed" and txn.confirm_count == 1 and txn.retrieved_count == 1, txn
    assert InboundMessage.objects.filter(connection=expedia, via="pull").count() == 3
    br = SimRequest.objects.filter(simulator="expedia", path__endswith="/eqc/br").first()
    assert 'xmlns="http://www.expediaconnect.com/EQC/BR/2014/01"' in br.body and 'Status value="pending"' in br.body


def test_a_lost_confirmation_is_sent_again_without_a_second_booking(prop, hotel, expedia):
    txn = sim.create_booking(hotel=hotel, check_in=future(10), check_out=future(12))
    SimFault.objects.create(simulator="expedia", kind="5xx", path_contains="/eqc/bc", remaining=1)
    first = _pull(expedia)
    assert first.created == 1 and first.acked == 0 and "confirm" in first.error
    txn.refresh_from_db()
    assert txn.status == "retrieved" and txn.confirm_count == 0
    second = _pull(expedia)  # the retrieved, unconfirmed transaction comes back: confirmed, not re-applied
    assert second.fetched == 1 and second.duplicates == 1 and second.acked == 1 and second.created == 0
    txn.refresh_from_db()
    assert txn.status == "confirmed" and txn.confirm_count == 1
    assert Booking.objects.filter(external_id=txn.booking.booking_id).count() == 1


def test_a_conflicting_pulled_booking_is_refused_alerted_and_never_confirmed(prop, hotel, expedia):
    booking_services.booking_create(
        property_id=prop.pk, check_in=future(10), check_out=future(13), guests=2, status="confirmed"
    )
    assert not ExpDay.objects.get(hotel=hotel, day=future(10)).open
    txn = sim.create_booking(hotel=hotel, check_in=future(11), check_out=future(12), force=True)
    result = _pull(expedia)
    assert result.refused == 1 and result.acked == 0
    assert ChannelAlert.objects.filter(connection=expedia, kind="conflict").count() == 1
    assert not Booking.objects.filter(external_id=txn.booking.booking_id).exists()
    assert not ExpDay.objects.get(hotel=hotel, day=future(11)).open  # pushed closed again
    again = _pull(expedia)
    assert again.acked == 0 and again.refused == 0
    assert ChannelAlert.objects.filter(connection=expedia, kind="conflict").count() == 1
    txn.refresh_from_db()
    assert txn.status == "retrieved" and txn.confirm_count == 0


def test_a_push_model_connection_is_not_polled(prop, hotel, live_server):
    conn = make_expedia_connection(prop, base_url=live_server.url + "/sandbox/expedia", model="push")
    sim.create_booking(hotel=hotel, check_in=future(10), check_out=future(12))
    assert _pull(conn).fetched == 0
    assert not SimRequest.objects.filter(path__endswith="/eqc/br").exists()


def test_booking_retrieval_answers_at_most_125_bookings_and_a_poll_takes_them_all(prop, hotel, expedia):
    ChannelConnection.objects.filter(pk=expedia.pk).update(sync_enabled=False)  # no pushes: only the pull
    for i in range(130):
        sim.create_booking(hotel=hotel, check_in=future(10 + i), check_out=future(11 + i), force=True)
    body = (
        f'<BookingRetrievalRQ xmlns="{sim.BR_NS}"><Authentication username="{EQC_USER}" '
        f'password="{EQC_PASSWORD}"/><Hotel id="111"/></BookingRetrievalRQ>'
    )
    answer = requests.post(expedia.base_url + "/eqc/br", data=body, timeout=30).text
    assert answer.count("<Booking ") == 125
    assert ExpTransaction.objects.filter(status="retrieved").count() == 125
    result = _pull(expedia)  # a full answer is followed by another BR in the same poll
    assert result.created == 130 and result.acked == 130 and not result.error, result.error
    assert SimRequest.objects.filter(path__endswith="/eqc/br").count() == 3
    assert ExpTransaction.objects.filter(status="confirmed", confirm_count=1).count() == 130


@pytest.mark.slow
def test_real_worker_pulls_and_confirms(prop, hotel, expedia, celery_worker_process):
    txn = sim.create_booking(hotel=hotel, check_in=future(10), check_out=future(12))
    pull_reservations.delay()  # what beat sends every 20 seconds
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        txn.refresh_from_db()
        if txn.status == "confirmed":
            break
        time.sleep(0.2)
    booking = Booking.objects.get(external_id=txn.booking.booking_id)
    assert txn.status == "confirmed" and txn.confirm_number == booking.reference and booking.property == prop


# --- push: Booking Notification --------------------------------------------------------------------
@pytest.fixture
def bn(prop, hotel, live_server):
    ExpHotel.objects.filter(pk=hotel.pk).update(
        reservation_model="push",
        bn_url=live_server.url + "/webhooks/expedia/bn/",
        bn_username=BN_USER,
        bn_password=BN_PASSWORD,
    )
    hotel.refresh_from_db()
    return make_expedia_connection(prop, base_url=live_server.url + "/sandbox/expedia", model="push")


def test_bn_commit_replayed_with_retry_indicator_creates_one_booking_and_gets_the_same_answer(prop, hotel, bn):
    txn = sim.guest_books(hotel=hotel, check_in=future(10), check_out=future(13), given_name="Eve")
    booking = Booking.objects.get(external_id=txn.booking.booking_id)
    assert booking.source == "expedia" and booking.property_id == prop.pk and booking.guest.first_name == "Eve"
    assert txn.status == "confirmed" and txn.confirm_number == booking.reference
    first = _answer(txn.bn_last_answer)
    assert first == ("Committed", booking.reference)
    assert 'ResID_Type="8"' in txn.bn_last_answer and 'ResID_Type="3"' in txn.bn_last_answer

    for _ in range(2):  # Expedia retries the same RequestId with RetryIndicator="true"
        replay = sim.push_transaction(txn, retry=True)
        assert _answer(replay.bn_last_answer) == first
    assert Booking.objects.filter(external_id=txn.booking.booking_id).count() == 1
    messages = InboundMessage.objects.filter(connection=bn, via="webhook").order_by("received_at")
    assert [m.status for m in messages] == ["processed", "duplicate", "duplicate"]
    assert all(m.result["request_id"] == str(txn.request_id) for m in messages)
    assert [m.result["retry"] for m in messages] == [False, True, True]
    assert all(BN_PASSWORD not in m.body and 'Password="[redacted]"' in m.body for m in messages)
    assert not ExpDay.objects.get(hotel=hotel, day=future(10)).open


def test_bn_modify_and_cancel_are_answered_modified_and_cancelled(prop, hotel, bn):
    txn = sim.guest_books(hotel=hotel, check_in=future(10), check_out=future(13))
    booking = Booking.objects.get(external_id=txn.booking.booking_id)
    modified = sim.deliver(sim.modify_booking(booking=txn.booking, check_in=future(20), check_out=future(22)))
    assert _answer(modified.bn_last_answer) == ("Modified", booking.reference)
    booking.refresh_from_db()
    assert (booking.check_in, booking.check_out) == (future(20), future(22))
    cancelled = sim.deliver(sim.cancel_booking(booking=txn.booking))
    assert _answer(cancelled.bn_last_answer) == ("Cancelled", booking.reference)
    assert "<OTA_CancelRS" in cancelled.bn_last_answer
    booking.refresh_from_db()
    assert booking.status == "cancelled"
    again = sim.push_transaction(cancelled, retry=True)
    assert _answer(again.bn_last_answer) == ("Cancelled", booking.reference)


def test_a_conflicting_bn_is_refused_with_the_platforms_error_and_alerted(prop, hotel, bn):
    booking_services.booking_create(
        property_id=prop.pk, check_in=future(10), check_out=future(13), guests=2, status="confirmed"
    )
    txn = sim.guest_books(hotel=hotel, check_in=future(12), check_out=future(14), force=True)
    assert txn.status == "refused" and _answer(txn.bn_last_answer) == ("error 322", "")
    txn.booking.refresh_from_db()
    assert txn.booking.status == "refused"
    assert not Booking.objects.filter(external_id=txn.booking.booking_id).exists()
    assert ChannelAlert.objects.filter(connection=bn, kind="conflict").count() == 1
    assert not ExpDay.objects.get(hotel=hotel, day=future(12)).open  # closed again after the refusal
    replay = sim.push_transaction(txn, retry=True)
    assert _answer(replay.bn_last_answer) == ("error 322", "")
    assert ChannelAlert.objects.filter(connection=bn, kind="conflict").count() == 1


def test_concurrent_retries_of_one_bn_make_one_booking(prop, hotel, bn):
    txn = sim.create_booking(hotel=hotel, check_in=future(10), check_out=future(12))
    body = sim.bn_message(txn, retry=True)
    answers: list[str] = []

    def post():
        answers.append(requests.post(hotel.bn_url, data=body, timeout=30).text)

    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    booking = Booking.objects.get(external_id=txn.booking.booking_id)
    assert [_answer(a) for a in answers] == [("Committed", booking.reference)] * 4


def test_bn_with_wrong_credentials_unknown_hotel_or_pull_connection_gets_the_same_fault(prop, hotel, bn):
    txn = sim.create_booking(hotel=hotel, check_in=future(10), check_out=future(12))
    good = sim.bn_message(txn, retry=False)
    wrong_password = good.replace(f'Password="{BN_PASSWORD}"'.encode(), b'Password="guess"')
    unknown_hotel = re.sub(rb'HotelCode="111"', b'HotelCode="999"', good)
    answers = [requests.post(hotel.bn_url, data=b, timeout=30) for b in (wrong_password, unknown_hotel)]
    ChannelConnection.objects.filter(pk=bn.pk).update(settings={"reservation_model": "pull", "bn_username": BN_USER})
    answers.append(requests.post(hotel.bn_url, data=good, timeout=30))
    assert {(a.status_code, "Authentication failed." in a.text) for a in answers} == {(403, True)}
    assert not Booking.objects.filter(source="expedia").exists()
    assert b"guess" not in b"".join(m.body.encode() for m in InboundMessage.objects.all())
    malformed = requests.post(hotel.bn_url, data=b"<not-soap/>", timeout=30)
    assert malformed.status_code == 400 and "Malformed" in malformed.text
    assert requests.post(hotel.bn_url, data=b"\xff\xfe garbage", timeout=30).status_code == 400
    assert requests.get(hotel.bn_url, timeout=30).status_code == 405


def test_bn_after_a_soap_fault_expedia_retries_until_accepted(prop, hotel, bn, settings):
    """A message the partner could not take (a transport failure, a fault) stays ``failed`` on
    Expedia, which sends it again with RetryIndicator="true"; the retry is applied once."""
    txn = sim.create_booking(hotel=hotel, check_in=future(10), check_out=future(12))
    failed = sim.push_transaction(txn, url=hotel.bn_url.replace("/bn/", "/nope/"))
    assert failed.status == "failed" and not Booking.objects.exists()
    retried = sim.push_due()
    assert [t.pk for t in retried] == [txn.pk]
    txn.refresh_from_db()
    assert txn.status == "confirmed" and "RetryIndicator" not in txn.bn_last_answer
    assert sim.push_due() == []
    assert Booking.objects.filter(external_id=txn.booking.booking_id).count() == 1
    assert ExpBooking.objects.get(pk=txn.booking_id).confirm_number
