from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from django.urls import reverse

GUEST = {
    "first_name": "Ana",
    "last_name": "Silva",
    "email": "ana@example.com",
    "phone": "+49 30 1234567",
    "country": "DE",
    "special_requests": "Late arrival around 22:00",
}


def checkout_url(slug: str, check_in: date, check_out: date, guests: int = 2) -> str:
    q = urlencode({"check_in": check_in.isoformat(), "check_out": check_out.isoformat(), "guests": guests})
    return reverse("storefront:checkout", kwargs={"slug": slug}) + "?" + q


def property_url(slug: str, check_in: date | None = None, check_out: date | None = None, guests: int = 2) -> str:
    url = reverse("storefront:property", kwargs={"slug": slug})
    if check_in:
        url += "?" + urlencode({"check_in": check_in.isoformat(), "check_out": check_out.isoformat(), "guests": guests})
    return url
