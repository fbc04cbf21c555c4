"""Two guests check out overlapping dates at the same moment, over real HTTP (live server,
threads): exactly one gets the hold, the other gets the conflict page with alternatives, and
nobody sees a 500."""

from __future__ import annotations

import re
import threading

import pytest
import requests

from apps.bookings.models import Booking, BookingStatus
from tests.factories import future

from .helpers import GUEST, checkout_url

pytestmark = [pytest.mark.django_db(transaction=True)]

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def open_checkout(base: str, url: str) -> tuple[requests.Session, str]:
    session = requests.Session()
    page = session.get(base + url, timeout=20)
    assert page.status_code == 200, page.text[:500]
    return session, CSRF.search(page.text).group(1)


@pytest.mark.parametrize("guests_racing", [2, 4])
def test_concurrent_checkouts_one_hold(live_server, stripe_sandbox, home, guests_racing):
    stays = [(future(40 + i % 2), future(43 + i % 2)) for i in range(guests_racing)]  # all overlap
    prepared = [
        (*open_checkout(live_server.url, checkout_url(home.slug, ci, co)), checkout_url(home.slug, ci, co))
        for ci, co in stays
    ]
    barrier = threading.Barrier(len(prepared))
    results: list[requests.Response | BaseException] = [None] * len(prepared)  # type: ignore[list-item]

    def go(i: int) -> None:
        session, token, url = prepared[i]
        data = {**GUEST, "email": f"guest{i}@example.com", "csrfmiddlewaretoken": token}
        barrier.wait(timeout=20)
        try:
            results[i] = session.post(
                live_server.url + url,
                data=data,
                headers={"Referer": live_server.url + url},
                allow_redirects=False,
                timeout=60,
            )
        except BaseException as exc:  # noqa: BLE001 - reported below
            results[i] = exc

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(prepared))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)

    assert all(isinstance(r, requests.Response) for r in results), results
    statuses = sorted(r.status_code for r in results)
    assert 500 not in statuses
    assert statuses == [302] + [409] * (len(prepared) - 1), statuses
    winner = next(r for r in results if r.status_code == 302)
    assert winner.headers["Location"] == "/checkout/payment/"
    for loser in (r for r in results if r.status_code == 409):
        assert "these dates were just booked by another guest" in loser.text
        assert "The nearest available dates for the same length of stay" in loser.text
    assert Booking.objects.filter(property=home, status=BookingStatus.RESERVED).count() == 1
