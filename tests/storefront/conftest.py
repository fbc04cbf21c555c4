from __future__ import annotations

from decimal import Decimal

import pytest

from apps.properties.models import PropertyPhoto
from tests.factories import PropertyFactory
from tests.stripe_fixtures import stripe_sandbox, stripe_sandbox_server  # noqa: F401


@pytest.fixture
def home(alice):
    """A bookable home with photos and amenities (moderate cancellation policy)."""
    prop = PropertyFactory(
        owner=alice,
        name="Lakeside Loft",
        slug="lakeside-loft",
        city="Potsdam",
        description="A bright loft by the lake.\nTwo bedrooms, a balcony and bikes.",
        house_rules="No smoking. No parties.",
        amenities=["wifi", "kitchen", "balcony"],
        base_price=Decimal("120.00"),
        cleaning_fee=Decimal("40.00"),
        bedrooms=2,
        max_guests=4,
    )
    PropertyPhoto.objects.create(property=prop, url="/static/demo/photo-1.svg", caption="Living room", position=0)
    PropertyPhoto.objects.create(property=prop, url="/static/demo/photo-2.svg", caption="Bedroom", position=1)
    return prop


@pytest.fixture(scope="session", autouse=True)
def german_catalog():
    """Compile locale/de with Babel (locale/compile.py) where the .mo is out of date: no gettext needed."""
    import runpy
    from pathlib import Path

    from django.conf import settings

    compile_py = Path(settings.BASE_DIR) / "locale" / "compile.py"
    runpy.run_path(str(compile_py))["main"]([])
