from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from apps.core.tenancy import OWNERS_GROUP, STAFF_GROUP
from apps.properties.models import Property


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pass-1234")
    is_staff = True


def make_owner(username: str) -> object:
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get(name=OWNERS_GROUP))
    return user


def make_staff(username: str = "staff") -> object:
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get(name=STAFF_GROUP))
    return user


class PropertyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Property

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Haus {n}")
    slug = factory.Sequence(lambda n: f"haus-{n}")
    city = "Berlin"
    country = "DE"
    address = factory.LazyAttribute(lambda p: {"street": "Hauptstr. 1", "city": p.city, "country": p.country})
    max_guests = 4
    bedrooms = 2
    base_price = Decimal("100.00")
    cleaning_fee = Decimal("30.00")
    currency = "EUR"
    timezone = "Europe/Berlin"
    default_min_stay = 1
    default_max_stay = 28


def future(days: int) -> date:
    return date.today() + timedelta(days=days)
