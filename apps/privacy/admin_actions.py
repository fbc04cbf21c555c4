"""GDPR admin actions on the guest book: export (a JSON download) and erase (after a confirmation page).

Only guests the user may change are passed in (``OwnerScopedAdmin.response_action``); each guest is
exported/erased within its own owner's data, by its e-mail.
"""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.template.response import TemplateResponse

from . import services


@admin.action(description="GDPR: export the selected guests' personal data (JSON)")
def gdpr_export(modeladmin, request, queryset):
    guests = [g for g in queryset if g.email]
    if not guests:
        modeladmin.message_user(request, "Only guests with an e-mail address can be exported.", messages.ERROR)
        return None
    documents = [services.guest_export(owner_id=g.owner_id, email=g.email) for g in guests]
    body = json.dumps(documents[0] if len(documents) == 1 else documents, indent=2, cls=DjangoJSONEncoder)
    response = HttpResponse(body, content_type="application/json")
    response["Content-Disposition"] = 'attachment; filename="gdpr-export.json"'
    response["Cache-Control"] = "no-store"
    return response


@admin.action(description="GDPR: erase the selected guests' personal data (irreversible)")
def gdpr_erase(modeladmin, request, queryset):
    guests = [g for g in queryset if g.email]
    if not guests:
        modeladmin.message_user(request, "Only guests with an e-mail address can be erased.", messages.ERROR)
        return None
    if request.POST.get("post") == "yes":
        for guest in guests:
            result = services.guest_erase(owner_id=guest.owner_id, email=guest.email)
            modeladmin.message_user(
                request,
                f"Erased guest #{guest.pk}: {result['bookings']} booking(s) kept without personal data.",
                messages.SUCCESS,
            )
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": "Erase personal data?",
        "guests": guests,
        "counts": {g.pk: services.guest_counts(owner_id=g.owner_id, email=g.email) for g in guests},
        "queryset": queryset,
        "opts": modeladmin.model._meta,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "action": "gdpr_erase",
    }
    return TemplateResponse(request, "admin/privacy/confirm_erase.html", context)
