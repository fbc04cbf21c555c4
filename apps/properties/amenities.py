"""The amenity catalogue: one stable code per amenity (stored in ``Property.amenities``), so each channel
adapter can map the codes to its platform's own list later. Codes outside the catalogue (older data,
imports) are kept as they are."""

from __future__ import annotations

AMENITIES: list[tuple[str, str]] = [
    ("wifi", "Wi-Fi"),
    ("kitchen", "Kitchen"),
    ("washer", "Washing machine"),
    ("dryer", "Dryer"),
    ("dishwasher", "Dishwasher"),
    ("air_conditioning", "Air conditioning"),
    ("heating", "Heating"),
    ("tv", "TV"),
    ("workspace", "Dedicated workspace"),
    ("parking", "Free parking"),
    ("ev_charger", "EV charger"),
    ("balcony", "Balcony"),
    ("terrace", "Terrace"),
    ("garden", "Garden"),
    ("bbq", "Barbecue grill"),
    ("pool", "Pool"),
    ("hot_tub", "Hot tub"),
    ("sauna", "Sauna"),
    ("fireplace", "Fireplace"),
    ("elevator", "Elevator"),
    ("wheelchair_accessible", "Wheelchair accessible"),
    ("crib", "Crib"),
    ("high_chair", "High chair"),
    ("pets_allowed", "Pets allowed"),
    ("smoke_alarm", "Smoke alarm"),
    ("co_alarm", "Carbon monoxide alarm"),
    ("first_aid_kit", "First aid kit"),
    ("bed_linen", "Bed linen"),
    ("towels", "Towels"),
    ("hair_dryer", "Hair dryer"),
    ("coffee_maker", "Coffee maker"),
    ("sea_view", "Sea view"),
    ("lake_access", "Lake access"),
    ("bikes", "Bicycles"),
]

LABELS = dict(AMENITIES)
