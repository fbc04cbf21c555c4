"""The guest's invoice PDFs, reached by the signed link of their confirmation page."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.bookings import tokens

from .models import Invoice
from .render import invoice_pdf
from .selectors import booking_cash


@require_GET
@never_cache
def guest_invoice(request, reference: str, number: int):
    token = request.GET.get("t", "")
    if not tokens.confirmation_token_valid(reference=reference, token=token):
        raise Http404("No such invoice.")
    invoice = (
        Invoice.objects.select_related("booking", "corrects")
        .filter(booking__reference=reference, number=number)
        .first()
    )
    if invoice is None:
        raise Http404("No such invoice.")
    cash = booking_cash(booking_id=invoice.booking_id) if invoice.kind == Invoice.Kind.INVOICE else None
    response = HttpResponse(invoice_pdf(invoice, cash=cash), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{invoice.display_number}.pdf"'
    return response
