"""The money ledger: every booking's money as append-only lines.

Lines are written by the services that change money (booking created / changed / cancelled,
payment received, refund made), in the same transaction, and never updated or deleted (a database
trigger refuses both): a change is a reversal (the negated copy of a line, ``reverses``) plus the
new lines. Statements and reports sum lines; they never recompute from a booking's mutable fields.

Signs: what the guest is charged is positive (rent, fees, taxes), discounts negative; money
received is a positive ``payment`` line, money given back a negative ``refund`` line; a platform's
commission is negative (it is deducted from what the owner gets).
"""

from __future__ import annotations

import builtins
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.core.tenancy import scoped_queryset
from apps.properties.models import Property


class LineKind(models.TextChoices):
    RENT = "rent", "Rent (per night)"
    DISCOUNT = "discount", "Discount / stay adjustment"
    FEE = "fee", "Fee"
    TAX = "tax", "Tax"
    COMMISSION = "commission", "Channel commission"
    CREDIT = "credit", "Credit (refund on a stay that goes ahead)"
    CANCELLATION = "cancellation", "Kept on cancellation"
    PAYMENT = "payment", "Payment received"
    REFUND = "refund", "Refund paid"
    PAYOUT = "payout", "Payout to the owner"


#: What the stay itself costs the guest: their sum is the booking's total while it holds its dates.
STAY_CHARGE_KINDS = (LineKind.RENT, LineKind.DISCOUNT, LineKind.FEE, LineKind.TAX)
#: Everything the guest is charged (what they owe): stay charges, credits, what a cancellation keeps.
CHARGE_KINDS = (*STAY_CHARGE_KINDS, LineKind.CREDIT, LineKind.CANCELLATION)
#: Money that moved between the guest and the owner.
CASH_KINDS = (LineKind.PAYMENT, LineKind.REFUND)


class LedgerLine(models.Model):
    booking = models.ForeignKey("bookings.Booking", on_delete=models.PROTECT, related_name="ledger_lines")
    #: the booking's property (a booking never moves), kept here for scoping and SQL reports
    property = models.ForeignKey("properties.Property", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=LineKind.choices)
    code = models.CharField(max_length=64, blank=True, default="", help_text="e.g. night, cleaning_fee, tax_percentage")
    label = models.CharField(max_length=200, blank=True, default="")
    night = models.DateField(null=True, blank=True, help_text="The night a rent line is for.")
    nights = models.SmallIntegerField(default=0, help_text="+1 for a night's rent, -1 for its reversal.")
    rate = models.DecimalField(max_digits=9, decimal_places=4, null=True, blank=True, help_text="Tax rate in %.")
    # 3 decimals like bookings and payments (KWD, BHD, OMR, JOD, TND)
    amount = models.DecimalField(max_digits=13, decimal_places=3)
    currency = models.CharField(max_length=3)
    entry = models.CharField(max_length=40, help_text="What wrote it: booking.created, payment.succeeded, ...")
    reverses = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by")
    payment = models.ForeignKey("payments.Payment", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    refund = models.ForeignKey("payments.Refund", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    posted_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = scoped_queryset("property").as_manager()

    class Meta:
        ordering = ["booking_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=[k.value for k in LineKind]), name="ledger_kind_valid"),
            models.CheckConstraint(condition=Q(nights__gte=-1) & Q(nights__lte=1), name="ledger_nights_unit"),
            # one payment line per payment, one refund line per refund: posting twice is impossible
            models.UniqueConstraint(
                fields=["payment"],
                condition=Q(kind="payment", reverses__isnull=True),
                name="ledger_one_line_per_payment",
            ),
            models.UniqueConstraint(
                fields=["refund"], condition=Q(kind="refund", reverses__isnull=True), name="ledger_one_line_per_refund"
            ),
        ]
        indexes = [
            models.Index(fields=["property", "night"], name="ledger_rent_nights", condition=Q(kind="rent")),
            models.Index(fields=["booking", "kind"], name="ledger_booking_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} {self.currency}"


class PropertyFinance(models.Model):
    """Money settings of a property: the management fee a manager who runs the owner's home keeps
    (a percentage of the rent and fees of each stay, shown on the owner's statement)."""

    property = models.OneToOneField("properties.Property", on_delete=models.CASCADE, related_name="finance")
    management_fee_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text="Management fee in % of rent and fees (0: none).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = scoped_queryset("property").as_manager()

    class Meta:
        verbose_name = "property finance setting"
        constraints = [
            models.CheckConstraint(
                condition=Q(management_fee_percent__gte=0) & Q(management_fee_percent__lte=100),
                name="ledger_management_fee_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.property}: management fee {self.management_fee_percent} %"


class OwnerStatement(Property):
    """The admin's "Owner statements": the properties one may draw statements for (no table of its own)."""

    class Meta:
        proxy = True
        verbose_name = "owner statement"
        verbose_name_plural = "owner statements"


class OwnerLegal(models.Model):
    """The owner's legal details printed on their guests' invoices (the seller)."""

    owner = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="legal")
    legal_name = models.CharField(max_length=200, help_text="Name or company as it must appear on invoices.")
    address = models.TextField(blank=True, default="", help_text="Street, postal code, city, country.")
    vat_id = models.CharField("VAT id", max_length=40, blank=True, default="")
    tax_number = models.CharField(max_length=40, blank=True, default="")
    email = models.EmailField(blank=True, default="")
    invoice_prefix = models.CharField(
        max_length=12, default="INV", help_text="Invoice numbers read PREFIX-000001, without gaps, per owner."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "owner's legal details"
        verbose_name_plural = "owners' legal details"

    def __str__(self) -> str:
        return self.legal_name


class InvoiceCounter(models.Model):
    """The last invoice number of an owner. Taken under a row lock in the invoice's own transaction, so
    numbers never skip (a rolled-back invoice rolls its number back) and never repeat."""

    owner = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True)
    last_number = models.PositiveIntegerField(default=0)


class Invoice(models.Model):
    """An invoice or credit note to a guest of a direct booking. Issued documents never change: a
    cancellation or a refund is a credit note, a price that went up a further invoice."""

    class Kind(models.TextChoices):
        INVOICE = "invoice", "Invoice"
        CREDIT_NOTE = "credit_note", "Credit note"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    booking = models.ForeignKey("bookings.Booking", on_delete=models.PROTECT, related_name="invoices")
    property = models.ForeignKey("properties.Property", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    number = models.PositiveIntegerField()
    display_number = models.CharField(max_length=40)
    corrects = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections",
        help_text="The invoice a credit note or further invoice corrects.",
    )  # fmt: skip
    issued_at = models.DateTimeField(default=timezone.now)
    language = models.CharField(max_length=8, default="en")
    currency = models.CharField(max_length=3)
    seller = models.JSONField(default=dict)
    buyer = models.JSONField(default=dict)
    lines = models.JSONField(default=list)
    net = models.DecimalField(max_digits=13, decimal_places=3)
    tax = models.DecimalField(max_digits=13, decimal_places=3)
    total = models.DecimalField(max_digits=13, decimal_places=3)
    reason = models.CharField(max_length=200, blank=True, default="")

    objects = scoped_queryset("property").as_manager()

    class Meta:
        ordering = ["owner_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "number"], name="invoice_number_unique_per_owner"),
            models.CheckConstraint(condition=Q(kind__in=["invoice", "credit_note"]), name="invoice_kind_valid"),
            models.CheckConstraint(condition=Q(number__gte=1), name="invoice_number_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.display_number}"

    @builtins.property
    def guest_path(self) -> str:
        """The guest's link to this document's PDF (signed like the confirmation page, which links it)."""
        from django.urls import reverse

        from apps.bookings import tokens

        reference = self.booking.reference
        url = reverse("guest_invoice", kwargs={"reference": reference, "number": self.number})
        return f"{url}?t={tokens.confirmation_token(reference=reference)}"

    @builtins.property
    def guest_url(self) -> str:
        return settings.SITE_URL.rstrip("/") + self.guest_path

    @builtins.property
    def guest_label(self) -> str:
        """ "Invoice INV-000012" in the guest's language (en/de)."""
        words = INVOICE_KIND_WORDS.get((self.language or "en")[:2], INVOICE_KIND_WORDS["en"])
        return f"{words[self.kind]} {self.display_number}"


INVOICE_KIND_WORDS = {
    "en": {"invoice": "Invoice", "credit_note": "Credit note"},
    "de": {"invoice": "Rechnung", "credit_note": "Gutschrift"},
}
