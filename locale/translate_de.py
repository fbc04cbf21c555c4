# ruff: noqa: E501, T201  (a table of translations; prints what is missing)
"""Fill locale/de/LC_MESSAGES/django.po with the German texts of the guest pages and e-mails.

Run after ``manage.py makemessages -l de`` (it keeps existing translations); then
``manage.py compilemessages``. Strings not listed here stay as they are in the .po file.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

PO = Path(__file__).resolve().parent / "de" / "LC_MESSAGES" / "django.po"

DE: dict[str, str | tuple[str, str]] = {
    # cancellation policies (apps/bookings/policies.py)
    "Flexible: full refund if you cancel at least 24 hours before check-in; no refund after that.": "Flexibel: volle Erstattung bei Stornierung bis 24 Stunden vor dem Check-in; danach keine Erstattung.",
    "Moderate: full refund if you cancel at least 5 days before check-in, 50% if you cancel at least 24 hours before check-in; no refund after that.": "Moderat: volle Erstattung bei Stornierung bis 5 Tage vor dem Check-in, die Hälfte bis 24 Stunden vor dem Check-in; danach keine Erstattung.",
    "Strict: full refund if you cancel within 48 hours of booking and at least 14 days before check-in, 50% if you cancel at least 7 days before check-in; no refund after that.": "Streng: volle Erstattung bei Stornierung innerhalb von 48 Stunden nach der Buchung und mindestens 14 Tage vor dem Check-in, die Hälfte bis 7 Tage vor dem Check-in; danach keine Erstattung.",
    "Full refund if you cancel before %(when)s.": "Volle Erstattung bei Stornierung vor %(when)s.",
    "%(percent)s%% refund if you cancel before %(when)s.": "%(percent)s %% Erstattung bei Stornierung vor %(when)s.",
    "No refund after that.": "Danach keine Erstattung.",
    # forms
    "Please choose dates within the next five years.": "Bitte wählen Sie Daten innerhalb der nächsten fünf Jahre.",
    "Select your country": "Land wählen",
    "Austria": "Österreich",
    "Belgium": "Belgien",
    "Switzerland": "Schweiz",
    "Czechia": "Tschechien",
    "Germany": "Deutschland",
    "Denmark": "Dänemark",
    "Spain": "Spanien",
    "France": "Frankreich",
    "United Kingdom": "Vereinigtes Königreich",
    "Ireland": "Irland",
    "Italy": "Italien",
    "Luxembourg": "Luxemburg",
    "Netherlands": "Niederlande",
    "Norway": "Norwegen",
    "Poland": "Polen",
    "Portugal": "Portugal",
    "Sweden": "Schweden",
    "United States": "Vereinigte Staaten",
    "Canada": "Kanada",
    "Australia": "Australien",
    "Other": "Anderes Land",
    "Lowest price": "Niedrigster Preis",
    "Highest price": "Höchster Preis",
    "Name": "Name",
    "Please choose both a check-in and a check-out date.": "Bitte wählen Sie ein An- und ein Abreisedatum.",
    "Check-out must be after check-in.": "Die Abreise muss nach der Anreise liegen.",
    "Check-in cannot be in the past.": "Die Anreise kann nicht in der Vergangenheit liegen.",
    "A stay cannot be longer than 365 nights.": "Ein Aufenthalt kann höchstens 365 Nächte dauern.",
    "Where": "Wohin",
    "City or region": "Stadt oder Region",
    "Check-in": "Anreise",
    "Check-out": "Abreise",
    "Guests": "Gäste",
    "Amenities": "Ausstattung",
    "Bedrooms (at least)": "Schlafzimmer (mindestens)",
    "Max. total price": "Max. Gesamtpreis",
    "Sort by": "Sortieren nach",
    "First name": "Vorname",
    "Last name": "Nachname",
    "E-mail": "E-Mail",
    "Phone": "Telefon",
    "Country": "Land",
    "Special requests (optional)": "Besondere Wünsche (optional)",
    "Early check-in, late check-out, a cot, …": "Frühe Anreise, späte Abreise, ein Kinderbett, …",
    "Please enter a valid phone number.": "Bitte geben Sie eine gültige Telefonnummer ein.",
    "Card number": "Kartennummer",
    "Month": "Monat",
    "Year": "Jahr",
    "CVC": "Prüfziffer",
    "Please enter a valid card number.": "Bitte geben Sie eine gültige Kartennummer ein.",
    "Please enter the 3 or 4 digits on the back of the card.": "Bitte geben Sie die 3 oder 4 Ziffern auf der Kartenrückseite ein.",
    "This card has expired.": "Diese Karte ist abgelaufen.",
    "E-mail used for the booking": "E-Mail-Adresse der Buchung",
    "Booking reference": "Buchungsnummer",
    "Reason (optional)": "Grund (optional)",
    "Your rating": "Ihre Bewertung",
    "Tell future guests about your stay": "Erzählen Sie künftigen Gästen von Ihrem Aufenthalt",
    # selectors / services / views
    "Cleaning fee": "Endreinigung",
    "Extra-guest fee": "Zuschlag für weitere Gäste",
    "Tax": "Steuer",
    "Tourist tax": "Kurtaxe",
    "Length-of-stay discount": "Langzeitrabatt",
    "Last-minute discount": "Last-Minute-Rabatt",
    "This home sleeps at most %(n)s guests.": "Diese Unterkunft bietet Platz für höchstens %(n)s Gäste.",
    "The minimum stay for these dates is %(n)s nights.": "Der Mindestaufenthalt für diese Daten beträgt %(n)s Nächte.",
    "The maximum stay for these dates is %(n)s nights.": "Der Höchstaufenthalt für diese Daten beträgt %(n)s Nächte.",
    "This stay starts too soon to be booked online.": "Dieser Aufenthalt beginnt zu bald für eine Online-Buchung.",
    "Stays can be booked at most %(n)s days ahead.": "Aufenthalte können höchstens %(n)s Tage im Voraus gebucht werden.",
    "Some of these nights are already booked.": "Einige dieser Nächte sind bereits gebucht.",
    "Some of these nights are not available.": "Einige dieser Nächte sind nicht verfügbar.",
    "Arrival is not possible on the chosen check-in day.": "Am gewählten Anreisetag ist keine Anreise möglich.",
    "Departure is not possible on the chosen check-out day.": "Am gewählten Abreisetag ist keine Abreise möglich.",
    "Already booked: %(dates)s.": "Bereits gebucht: %(dates)s.",
    "Not available: %(dates)s.": "Nicht verfügbar: %(dates)s.",
    "%(price)s × %(n)s night": ("%(price)s × %(n)s Nacht", "%(price)s × %(n)s Nächte"),
    "%(n)s night": ("%(n)s Nacht", "%(n)s Nächte"),
    "We could not start the payment just now. Please try again in a moment.": "Die Zahlung konnte gerade nicht gestartet werden. Bitte versuchen Sie es gleich noch einmal.",
    "Please give a rating from 1 to 5 stars.": "Bitte vergeben Sie 1 bis 5 Sterne.",
    "Booking not found.": "Buchung nicht gefunden.",
    "You can review your stay after check-out.": "Sie können Ihren Aufenthalt nach der Abreise bewerten.",
    "You have already reviewed this stay. Thank you!": "Sie haben diesen Aufenthalt bereits bewertet. Vielen Dank!",
    "This home is not available.": "Diese Unterkunft ist nicht verfügbar.",
    "Please choose your dates and the number of guests first.": "Bitte wählen Sie zuerst Ihre Reisedaten und die Anzahl der Gäste.",
    "Your checkout session has ended. Please choose your dates again.": "Ihre Buchungssitzung ist abgelaufen. Bitte wählen Sie Ihre Daten erneut.",
    "Your card was declined. Please try another card.": "Ihre Karte wurde abgelehnt. Bitte versuchen Sie es mit einer anderen Karte.",
    "This booking can no longer be cancelled online.": "Diese Buchung kann nicht mehr online storniert werden.",
    "Your booking has been cancelled. We have sent you a confirmation.": "Ihre Buchung wurde storniert. Wir haben Ihnen eine Bestätigung geschickt.",
    "Thank you for your review!": "Vielen Dank für Ihre Bewertung!",
    # base
    "Book holiday homes directly with their owners: best price, no booking fees.": "Ferienunterkünfte direkt beim Gastgeber buchen: bester Preis, keine Buchungsgebühren.",
    "Skip to content": "Zum Inhalt springen",
    "Main": "Hauptnavigation",
    "Find a stay": "Unterkunft finden",
    "Manage booking": "Buchung verwalten",
    "Language": "Sprache",
    "Go": "Los",
    "Book directly with the owner — no booking fees.": "Direkt beim Gastgeber buchen – ohne Buchungsgebühren.",
    "Manage your booking": "Ihre Buchung verwalten",
    # e-mails
    "You receive this e-mail because of a booking made with this address.": "Sie erhalten diese E-Mail wegen einer Buchung mit dieser Adresse.",
    "Home": "Unterkunft",
    "from %(t)s": "ab %(t)s",
    "by %(t)s": "bis %(t)s",
    "Booking cancelled": "Buchung storniert",
    "Hello %(name)s,": "Hallo %(name)s,",
    "Your booking has been cancelled.": "Ihre Buchung wurde storniert.",
    "Refund: %(amount)s. It will reach your account within 5–10 business days.": "Erstattung: %(amount)s. Sie erreicht Ihr Konto innerhalb von 5–10 Werktagen.",
    "We hope to welcome you another time.": "Wir hoffen, Sie ein anderes Mal begrüßen zu dürfen.",
    "Booking cancelled: %(name)s (%(ref)s)": "Buchung storniert: %(name)s (%(ref)s)",
    "Booking confirmed": "Buchung bestätigt",
    "Your booking is confirmed. We look forward to welcoming you!": "Ihre Buchung ist bestätigt. Wir freuen uns auf Sie!",
    "Total": "Gesamt",
    "View your booking": "Buchung ansehen",
    "View or cancel your booking": "Buchung ansehen oder stornieren",
    "Your booking, calendar file and print view": "Ihre Buchung, Kalenderdatei und Druckansicht",
    "Booking confirmed: %(name)s (%(ref)s)": "Buchung bestätigt: %(name)s (%(ref)s)",
    "Your booking link": "Ihr Link zur Buchung",
    "Here is your secure link to view, cancel or review booking %(ref)s. It works for %(counter)s hour.": (
        "Hier ist Ihr sicherer Link, um die Buchung %(ref)s anzusehen, zu stornieren oder zu bewerten. Er gilt %(counter)s Stunde.",
        "Hier ist Ihr sicherer Link, um die Buchung %(ref)s anzusehen, zu stornieren oder zu bewerten. Er gilt %(counter)s Stunden.",
    ),
    "Open my booking": "Meine Buchung öffnen",
    "If you did not ask for this link, you can ignore this e-mail.": "Wenn Sie diesen Link nicht angefordert haben, können Sie diese E-Mail ignorieren.",
    "Your link to booking %(ref)s": "Ihr Link zur Buchung %(ref)s",
    # pages
    "The nearest available dates for the same length of stay:": "Die nächsten freien Termine mit gleicher Aufenthaltsdauer:",
    "We found no other free dates nearby for this length of stay.": "Wir haben in der Nähe keine anderen freien Termine mit dieser Aufenthaltsdauer gefunden.",
    "Address": "Adresse",
    "Booked by": "Gebucht von",
    "Your requests": "Ihre Wünsche",
    "Price": "Preis",
    "Price breakdown": "Preisaufstellung",
    "Cancellation policy": "Stornierungsbedingungen",
    "Checkout steps": "Buchungsschritte",
    "Your stay": "Ihr Aufenthalt",
    "Your details": "Ihre Angaben",
    "Payment": "Zahlung",
    "Sorry — these dates were just booked by another guest.": "Leider wurden diese Daten gerade von einem anderen Gast gebucht.",
    "Someone completed their checkout a moment before you. Nothing has been charged.": "Jemand hat seine Buchung einen Moment vor Ihnen abgeschlossen. Es wurde nichts berechnet.",
    "These dates can't be booked": "Diese Daten können nicht gebucht werden",
    "Choose other dates": "Andere Daten wählen",
    "When you continue, we hold these dates for you for %(minutes)s minute while you pay.": (
        "Wenn Sie fortfahren, halten wir diese Daten %(minutes)s Minute für Sie frei, während Sie bezahlen.",
        "Wenn Sie fortfahren, halten wir diese Daten %(minutes)s Minuten für Sie frei, während Sie bezahlen.",
    ),
    "Back": "Zurück",
    "Continue to payment": "Weiter zur Zahlung",
    "Your hold on these dates has ended.": "Die Reservierung dieser Daten ist abgelaufen.",
    "We held the dates for 10 minutes. Nothing has been charged. Check whether the dates are still free and start again.": "Wir haben die Daten 10 Minuten für Sie freigehalten. Es wurde nichts berechnet. Prüfen Sie, ob die Daten noch frei sind, und beginnen Sie erneut.",
    "Check the dates again": "Daten erneut prüfen",
    "left": "übrig",
    "We're holding these dates for you while you pay.": "Wir halten diese Daten für Sie frei, während Sie bezahlen.",
    "%(counter)s minute left": ("noch %(counter)s Minute", "noch %(counter)s Minuten"),
    "Payment failed": "Zahlung fehlgeschlagen",
    "Test mode — no real money moves.": "Testmodus – es fließt kein echtes Geld.",
    "Use": "Verwenden Sie",
    "(succeeds) or": "(erfolgreich) oder",
    "(declined), any future date and any CVC.": "(abgelehnt), ein beliebiges künftiges Datum und eine beliebige Prüfziffer.",
    "Confirm and pay %(total)s": "Bestätigen und %(total)s bezahlen",
    "Card payment needs JavaScript enabled in your browser.": "Für die Kartenzahlung muss JavaScript in Ihrem Browser aktiviert sein.",
    "Your booking": "Ihre Buchung",
    "Booking confirmed!": "Buchung bestätigt!",
    "We've sent the details to %(email)s.": "Wir haben die Details an %(email)s geschickt.",
    "Processing your payment": "Ihre Zahlung wird verarbeitet",
    "This page refreshes by itself. It usually takes a few seconds.": "Diese Seite aktualisiert sich von selbst. Das dauert meist nur wenige Sekunden.",
    "This booking is cancelled": "Diese Buchung ist storniert",
    "Add to calendar": "Zum Kalender hinzufügen",
    "Print": "Drucken",
    "Status": "Status",
    "Confirmed": "Bestätigt",
    "Awaiting payment": "Zahlung ausstehend",
    "Cancelled": "Storniert",
    "Checked in": "Angereist",
    "Stay completed": "Aufenthalt beendet",
    "Confirmation and calendar file": "Bestätigung und Kalenderdatei",
    "Cancel your booking": "Buchung stornieren",
    "If you cancel now, you get <strong>%(amount)s</strong> back.": "Wenn Sie jetzt stornieren, erhalten Sie <strong>%(amount)s</strong> zurück.",
    "Cancel booking…": "Buchung stornieren …",
    "Your review": "Ihre Bewertung",
    "How was your stay?": "Wie war Ihr Aufenthalt?",
    "%(r)s out of 5": "%(r)s von 5",
    "Publish review": "Bewertung veröffentlichen",
    "Cancel booking": "Buchung stornieren",
    "Cancel your booking?": "Buchung stornieren?",
    "Refund: %(amount)s": "Erstattung: %(amount)s",
    "of the %(paid)s you paid, under the property's cancellation policy.": "von den bezahlten %(paid)s, gemäß den Stornierungsbedingungen der Unterkunft.",
    "The refund is worked out under the property's cancellation policy.": "Die Erstattung richtet sich nach den Stornierungsbedingungen der Unterkunft.",
    "Keep my booking": "Buchung behalten",
    "Yes, cancel my booking": "Ja, Buchung stornieren",
    "Link not valid": "Link ungültig",
    "This link has expired": "Dieser Link ist abgelaufen",
    "For your security, links to your booking only work for a limited time.": "Zu Ihrer Sicherheit gelten Links zu Ihrer Buchung nur begrenzte Zeit.",
    "This link is not valid": "Dieser Link ist ungültig",
    "Please use the latest link we e-mailed you, or ask for a new one.": "Bitte verwenden Sie den neuesten Link aus unserer E-Mail oder fordern Sie einen neuen an.",
    "Get a new link": "Neuen Link anfordern",
    "Check your inbox": "Sehen Sie in Ihr Postfach",
    "If the e-mail and reference match a booking, we've sent you a link to it. The link works for a limited time.": "Wenn E-Mail-Adresse und Buchungsnummer zu einer Buchung passen, haben wir Ihnen einen Link geschickt. Der Link gilt begrenzte Zeit.",
    "Enter the e-mail address you booked with and your booking reference. We'll e-mail you a secure link to view, cancel or review your stay.": "Geben Sie die E-Mail-Adresse Ihrer Buchung und Ihre Buchungsnummer ein. Wir schicken Ihnen einen sicheren Link, um Ihren Aufenthalt anzusehen, zu stornieren oder zu bewerten.",
    "Send me a link": "Link senden",
    "All homes": "Alle Unterkünfte",
    "%(counter)s bedroom": ("%(counter)s Schlafzimmer", "%(counter)s Schlafzimmer"),
    "up to %(counter)s guest": ("bis zu %(counter)s Gast", "bis zu %(counter)s Gäste"),
    "%(counter)s review": ("%(counter)s Bewertung", "%(counter)s Bewertungen"),
    "Photos": "Fotos",
    "About this home": "Über diese Unterkunft",
    "The owner has not written a description yet.": "Der Gastgeber hat noch keine Beschreibung verfasst.",
    "House rules": "Hausregeln",
    "Check-in from %(in)s, check-out by %(out)s (local time).": "Anreise ab %(in)s, Abreise bis %(out)s (Ortszeit).",
    "Availability": "Verfügbarkeit",
    "Previous months": "Vorherige Monate",
    "Next months": "Nächste Monate",
    "Pick your arrival day, then your departure day. Prices are per night.": "Wählen Sie Ihren Anreisetag, dann Ihren Abreisetag. Preise pro Nacht.",
    "Monday": "Montag",
    "Mo": "Mo",
    "Tuesday": "Dienstag",
    "Tu": "Di",
    "Wednesday": "Mittwoch",
    "We": "Mi",
    "Thursday": "Donnerstag",
    "Th": "Do",
    "Friday": "Freitag",
    "Fr": "Fr",
    "Saturday": "Samstag",
    "Sa": "Sa",
    "Sunday": "Sonntag",
    "Su": "So",
    "min. %(counter)s night": ("mind. %(counter)s Nacht", "mind. %(counter)s Nächte"),
    "not available": "nicht verfügbar",
    "Available": "Frei",
    "Booked": "Belegt",
    "Reviews": "Bewertungen",
    "Guest": "Gast",
    "No reviews yet.": "Noch keine Bewertungen.",
    "/ night": "/ Nacht",
    "Check price": "Preis prüfen",
    "Book now": "Jetzt buchen",
    "You won't be charged until the next step.": "Sie zahlen erst im nächsten Schritt.",
    "Find your stay": "Unterkunft finden",
    "Find your next stay": "Finden Sie Ihre nächste Unterkunft",
    "Book directly with the owner: the best price and no booking fees.": "Direkt beim Gastgeber buchen: der beste Preis und keine Buchungsgebühren.",
    "Search": "Suchen",
    "Filters and sorting": "Filter und Sortierung",
    "Apply": "Anwenden",
    "%(counter)s home found": ("%(counter)s Unterkunft gefunden", "%(counter)s Unterkünfte gefunden"),
    "Choose dates to see the total price of your stay.": "Wählen Sie Reisedaten, um den Gesamtpreis zu sehen.",
    "total for %(counter)s night": ("gesamt für %(counter)s Nacht", "gesamt für %(counter)s Nächte"),
    "from %(price)s per night": "ab %(price)s pro Nacht",
    "from": "ab",
    "Pages": "Seiten",
    "Previous": "Zurück",
    "Page %(page)s of %(pages)s": "Seite %(page)s von %(pages)s",
    "Next": "Weiter",
    "No homes match your search.": "Keine Unterkunft passt zu Ihrer Suche.",
    "Try other dates, fewer filters or a nearby town.": "Versuchen Sie andere Daten, weniger Filter oder einen Ort in der Nähe.",
    "Clear search": "Suche zurücksetzen",
    "Your card has insufficient funds. Please try another card.": "Ihre Karte ist nicht ausreichend gedeckt. Bitte versuchen Sie es mit einer anderen Karte.",
    "The payment did not go through. Please try another card.": "Die Zahlung ist nicht durchgegangen. Bitte versuchen Sie es mit einer anderen Karte.",
    # date formats (Django's date filter)
    "D, j M Y": "D, j. M Y",
    "D, j M": "D, j. M",
    "j F Y": "j. F Y",
    "j M Y": "j. M Y",
    "j M": "j. M",
    "l, j F Y": "l, j. F Y",
    # issue 10: first-hour details (dates, rule names, amenities, notice, error pages, calendar, widget)
    "j F Y, H:i": "j. F Y, H:i",
    "No refund if you cancel now.": "Bei einer Stornierung jetzt gibt es keine Erstattung.",
    "Weekend": "Wochenende",
    "Summer season": "Sommersaison",
    "High season": "Hochsaison",
    "Low season": "Nebensaison",
    "Weekly discount": "Wochenrabatt",
    "Monthly discount": "Monatsrabatt",
    "City tax": "City-Tax",
    "VAT": "MwSt.",
    "Wi-Fi": "WLAN",
    "Kitchen": "Küche",
    "Washing machine": "Waschmaschine",
    "Balcony": "Balkon",
    "Terrace": "Terrasse",
    "Garden": "Garten",
    "Parking": "Parkplatz",
    "Lift": "Aufzug",
    "Cot": "Kinderbett",
    "Air conditioning": "Klimaanlage",
    "Sauna": "Sauna",
    "Pool": "Pool",
    "Fireplace": "Kamin",
    "Canoe": "Kanu",
    "This stay starts in the past.": "Dieser Aufenthalt beginnt in der Vergangenheit.",
    "%(n)s day": ("%(n)s Tag", "%(n)s Tage"),
    "%(n)s hour": ("%(n)s Stunde", "%(n)s Stunden"),
    "This stay starts too soon: this home must be booked at least %(time)s before check-in.": "Dieser Aufenthalt beginnt zu bald: Diese Unterkunft muss mindestens %(time)s vor der Anreise gebucht werden.",
    "Page not found": "Seite nicht gefunden",
    "We couldn't find this page": "Diese Seite gibt es nicht",
    "The link may be old, or the home is no longer offered. Your bookings are not affected.": "Vielleicht ist der Link veraltet oder die Unterkunft wird nicht mehr angeboten. Ihre Buchungen sind davon nicht betroffen.",
    "Something went wrong": "Etwas ist schiefgelaufen",
    "Something went wrong on our side": "Bei uns ist etwas schiefgelaufen",
    "Please try again in a moment. If you were paying, nothing is charged twice: check your e-mail or manage your booking before you try again.": "Bitte versuchen Sie es gleich noch einmal. Falls Sie gerade bezahlt haben, wird nichts doppelt belastet: Sehen Sie in Ihre E-Mails oder verwalten Sie Ihre Buchung, bevor Sie es erneut versuchen.",
    "departure only": "nur Abreise",
    "out": "Abr.",
    "Arrival %(day)s: now pick your departure day.": "Anreise %(day)s: Wählen Sie jetzt Ihren Abreisetag.",
    "Photos, house rules and reviews": "Fotos, Hausregeln und Bewertungen",
    "Sent back to your card. It reaches your account within 5–10 business days.": "Auf Ihre Karte zurückgebucht. Der Betrag ist in 5–10 Werktagen auf Ihrem Konto.",
    "On its way back to your card.": "Wird auf Ihre Karte zurückgebucht.",
    "No refund is due for this cancellation.": "Für diese Stornierung ist keine Erstattung fällig.",
}


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def unquote(lines: list[str]) -> str:
    out = ""
    for line in lines:
        body = line[line.index('"') + 1 : line.rindex('"')]
        out += body.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
    return out


def main() -> int:
    text = PO.read_text(encoding="utf-8")
    header, *entries = text.split("\n\n")
    header = re.sub(r'"Plural-Forms: [^"]*"', lambda m: '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"', header)
    header = header.replace("#, fuzzy\n", "")
    header = header.replace('"Language: \\n"', '"Language: de\\n"')
    missing = []
    new_entries = []
    for entry in entries:
        lines = entry.split("\n")
        parts: dict[str, list[str]] = {}
        order: list[str] = []
        current = None
        for line in lines:
            m = re.match(r"(msgid_plural|msgid|msgstr(?:\[\d\])?) ", line)
            if m:
                current = m.group(1)
                parts[current] = [line]
                order.append(current)
            elif line.startswith('"') and current:
                parts[current].append(line)
        if "msgid" not in parts:
            new_entries.append(entry)
            continue
        msgid = unquote(parts["msgid"])
        comments = [line for line in lines if line.startswith("#") and not line.startswith(("#,", "#|"))]
        flags = [line for line in lines if line.startswith("#,")]
        if msgid in DE:
            value = DE[msgid]
            out = [c for c in comments if not c.startswith("#,")]
            keep_flags = [f.replace("fuzzy, ", "").replace(", fuzzy", "") for f in flags if f.strip() != "#, fuzzy"]
            if "%(" not in msgid and "%s" not in msgid:  # a literal "50% if": not a format string
                keep_flags = [f.replace(", python-format", "").replace("python-format, ", "") for f in keep_flags]
            keep_flags = [f for f in keep_flags if f.strip() not in ("#", "#,")]
            out += keep_flags
            out += parts["msgid"]
            if "msgid_plural" in parts:
                out += parts["msgid_plural"]
                singular, plural = value if isinstance(value, tuple) else (value, value)
                out += [f"msgstr[0] {quote(singular)}", f"msgstr[1] {quote(plural)}"]
            else:
                out.append(f"msgstr {quote(value if isinstance(value, str) else value[0])}")
            new_entries.append("\n".join(out))
        else:
            missing.append(msgid)
            new_entries.append(entry)
    PO.write_text("\n\n".join([header, *new_entries]), encoding="utf-8")
    if missing:
        print(f"{len(missing)} strings without a German text:", file=sys.stderr)
        for m in missing:
            print(f"  {m!r}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
