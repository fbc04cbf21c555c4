"""Read-only parts of the booking's admin page: the price breakdown as a table, the contact given with
the booking, the channel messages that concern it, and its payments and refunds (inlines)."""

from __future__ import annotations

from django.utils.html import format_html, format_html_join

from apps.core.money import format_money

from .presentation import price_lines


def price_breakdown(obj) -> str:
    data = price_lines(obj.price_snapshot or {}) if obj is not None else {"lines": []}
    if not data["lines"]:
        return format_html(
            "<span>{}</span>", "No price breakdown stored (the total was set by hand or by the channel)."
        )
    currency = data["currency"] or obj.currency
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td style='text-align:right'>{}</td></tr>",
        ((line["label"], format_money(line["amount"], currency)) for line in data["lines"]),
    )
    nights = format_html_join(
        "",
        "<tr><td>{}</td><td style='text-align:right'>{}</td></tr>",
        ((n.get("night", ""), n.get("final", "")) for n in (obj.price_snapshot or {}).get("nights") or []),
    )
    return format_html(
        "<table class='bo-breakdown' data-price-breakdown><tbody>{}</tbody><tfoot><tr><th>Total</th>"
        "<th style='text-align:right'>{}</th></tr></tfoot></table>"
        "<details><summary>Per night</summary><table><tbody>{}</tbody></table></details>",
        rows,
        format_money(data["total"] if data["total"] is not None else obj.total_price, currency),
        nights,
    )


def contact(obj) -> str:
    c = (obj.guest_contact or {}) if obj is not None else {}
    if not c:
        return "–"
    name = f"{c.get('first_name', '')} {c.get('last_name', '')}".strip()
    parts = [format_html("<strong>{}</strong>", name or "–")]
    if c.get("email"):
        parts.append(format_html('<a href="mailto:{0}">{0}</a>', c["email"]))
    if c.get("phone"):
        parts.append(format_html('<a href="tel:{0}">{0}</a>', c["phone"]))
    extra = " · ".join(v for v in (c.get("country", ""), c.get("language", "")) if v)
    if extra:
        parts.append(format_html("<span>{}</span>", extra))
    return format_html("<div data-guest-contact>{}</div>", format_html_join("<br>", "{}", ((p,) for p in parts)))


def channel_messages(obj) -> str:
    """What the platforms sent about this booking (webhooks and pulls), newest first."""
    if obj is None or not obj.pk:
        return "–"
    from apps.channels.models import InboundMessage

    messages = list(InboundMessage.objects.filter(booking_id=obj.pk).order_by("-received_at")[:20])
    if not messages:
        return "None."
    return format_html(
        "<table data-channel-messages><tbody>{}</tbody></table>",
        format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    m.received_at.strftime("%Y-%m-%d %H:%M"),
                    m.get_platform_display(),
                    m.get_via_display(),
                    m.get_status_display(),
                )
                for m in messages
            ),
        ),
    )


def payments(obj) -> str:
    """Payments and refunds of the booking, read-only (money moves through the actions and services).
    A table rather than inlines: the change form stays a plain form (no formsets to post)."""
    if obj is None or not obj.pk:
        return "–"
    from django.urls import reverse

    from apps.payments.models import Payment, Refund

    rows = []
    for p in Payment.objects.filter(booking_id=obj.pk).order_by("created_at", "id"):
        link = reverse("admin:payments_payment_change", args=[p.pk])
        rows.append(
            format_html(
                '<tr><td>{}</td><td><a href="{}">Payment</a></td><td>{}</td><td>{}</td><td>{}</td></tr>',
                p.created_at.strftime("%Y-%m-%d %H:%M"),
                link,
                format_money(p.amount, p.currency),
                p.get_status_display(),
                p.last_error or "",
            )
        )
    for r in Refund.objects.filter(booking_id=obj.pk).order_by("created_at", "id"):
        rows.append(
            format_html(
                "<tr><td>{}</td><td>Refund ({})</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                r.created_at.strftime("%Y-%m-%d %H:%M"),
                r.get_kind_display(),
                format_money(-r.amount, r.currency),
                r.get_status_display(),
                r.reason or "",
            )
        )
    if not rows:
        return "None."
    return format_html(
        "<table data-payments><tbody>{}</tbody></table>", format_html_join("", "{}", ((r,) for r in rows))
    )
