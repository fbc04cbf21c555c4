"""Model fields whose values are encrypted at rest with the project's key ring (``apps.core.crypto``).

``EncryptedTextField``
    AES-256-GCM with a random nonce (``v1:<kid>:...``): names, phones, notes, client secrets. Python
    code sees plaintext (decrypted when loaded, encrypted when saved); the database only ciphertext.
    Only ``isnull`` and comparisons with "" make sense in queries (an empty value is stored empty).

``EncryptedLookupField``
    Deterministic AES-SIV (``d1:<kid>:...``) for values looked up by equality (a guest's e-mail):
    ``exact``, ``iexact`` and ``in`` compare against the value's ciphertext under every configured key,
    so lookups keep working during a key rotation; unique constraints keep working. With
    ``normalise=True`` values are trimmed and lower-cased before encryption (e-mails).

The associated data binds each ciphertext to its column (``<app_label>.<model>.<field>``): a value
copied into another column does not decrypt. ``manage.py rotate_encryption_key`` re-encrypts everything.
A legacy plaintext value (before the migration that encrypted it) is returned as it is.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import models
from django.db.models.lookups import Exact, IExact, In

from . import crypto


class _EncryptedMixin:
    plain_max_length: int | None = None

    def contribute_to_class(self, cls, name, *args, **kwargs):
        super().contribute_to_class(cls, name, *args, **kwargs)
        self.aad = f"{cls._meta.label_lower}.{name}"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "" or not crypto.is_token(value):
            return value
        return crypto.decrypt_any(value, aad=self.aad)

    def to_python(self, value):
        return value

    def formfield(self, **kwargs):
        defaults = {"form_class": forms.CharField, "max_length": self.plain_max_length}
        if self.plain_max_length is None:
            defaults["widget"] = forms.Textarea
        return super().formfield(**{**defaults, **kwargs})

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.plain_max_length is not None:
            kwargs["plain_max_length"] = self.plain_max_length
        return name, path, args, kwargs


class EncryptedTextField(_EncryptedMixin, models.TextField):
    description = "Text encrypted at rest (AES-256-GCM)"

    def __init__(self, *args: Any, plain_max_length: int | None = None, **kwargs: Any) -> None:
        self.plain_max_length = plain_max_length
        super().__init__(*args, **kwargs)
        if plain_max_length is not None:
            from django.core.validators import MaxLengthValidator

            self.validators.append(MaxLengthValidator(plain_max_length))

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(str(value), aad=self.aad)  # always plaintext here: Python never holds tokens


class EncryptedLookupField(_EncryptedMixin, models.TextField):
    description = "Text encrypted at rest, deterministically (AES-SIV), for equality lookups"

    def __init__(
        self, *args: Any, plain_max_length: int | None = None, normalise: bool = False, email: bool = False, **kwargs
    ) -> None:
        self.plain_max_length = plain_max_length
        self.normalise = normalise
        self.email = email
        super().__init__(*args, **kwargs)
        if plain_max_length is not None:
            from django.core.validators import MaxLengthValidator

            self.validators.append(MaxLengthValidator(plain_max_length))
        if email:
            from django.core.validators import validate_email

            self.validators.append(validate_email)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.normalise:
            kwargs["normalise"] = True
        if self.email:
            kwargs["email"] = True
        return name, path, args, kwargs

    def formfield(self, **kwargs):
        if self.email:
            kwargs.setdefault("form_class", forms.EmailField)
        return super().formfield(**kwargs)

    def clean_plain(self, value: Any) -> str:
        value = "" if value is None else str(value)
        return value.strip().lower() if self.normalise else value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        plain = self.clean_plain(value)
        return crypto.encrypt_deterministic(plain, aad=self.aad) if plain else ""


class _CandidatesMixin:
    """``col IN (ciphertext under each key)``: the lookup works before, during and after a rotation."""

    def _candidates(self, value: Any) -> list[str]:
        field = self.lhs.output_field
        plain = field.clean_plain(value)
        if plain == "":
            return [""]
        return crypto.deterministic_candidates(plain, aad=field.aad)

    def get_db_prep_lookup(self, value, connection):
        return ("%s", [value])

    def as_sql(self, compiler, connection):
        lhs_sql, lhs_params = compiler.compile(self.lhs)  # the bare column: no UPPER() of iexact
        values = self._values()
        if not values:
            return "FALSE", []
        placeholders = ", ".join(["%s"] * len(values))
        return f"{lhs_sql} IN ({placeholders})", [*lhs_params, *values]


@EncryptedLookupField.register_lookup
class EncryptedExact(_CandidatesMixin, Exact):
    lookup_name = "exact"

    def get_prep_lookup(self):
        return self.rhs

    def _values(self) -> list[str]:
        return self._candidates(self.rhs)


@EncryptedLookupField.register_lookup
class EncryptedIExact(_CandidatesMixin, IExact):
    """Case-insensitive only for normalised fields (they are stored lower-cased), else exact."""

    lookup_name = "iexact"

    def get_prep_lookup(self):
        return self.rhs

    def _values(self) -> list[str]:
        return self._candidates(self.rhs)


@EncryptedLookupField.register_lookup
class EncryptedIn(_CandidatesMixin, In):
    lookup_name = "in"

    def get_prep_lookup(self):
        return list(self.rhs)

    def _values(self) -> list[str]:
        out: list[str] = []
        for value in self.rhs:
            out.extend(self._candidates(value))
        return out

    def split_parameter_list_as_sql(self, compiler, connection):  # pragma: no cover - not used (few values)
        return self.as_sql(compiler, connection)
