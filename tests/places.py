"""The gazetteer places tests live in, spelled out once: GeoNames' own values, so putting a member at one needs
no gazetteer load. A member is put at one through `Member.place_set` (tests.builders.fan)."""

from __future__ import annotations

from places.gazetteer import Place

_COUNTRY_NAMES = {
    "CA": "Canada",
    "FR": "France",
    "US": "United States",
    "JP": "Japan",
    "MX": "Mexico",
    "IN": "India",
}


def _place(geoname_id: int, name: str, region: str, region_code: str, *where: float | str | int) -> Place:
    """`where`: latitude, longitude, time zone, population; the country is the region code's."""
    country = region_code.partition(".")[0]
    return Place(geoname_id, name, region, region_code, country, _COUNTRY_NAMES[country], *where)


MONTREAL = _place(6077243, "Montréal", "Quebec", "CA.10", 45.50884, -73.58781, "America/Toronto", 1762949)
LAVAL_QC = _place(6050610, "Laval", "Quebec", "CA.10", 45.56995, -73.692, "America/Toronto", 438366)
# Not GeoNames' point (45.5152, -73.46818) but one 5.05 km from the centre the audience tests draw circles
# around (45.5017, -73.5673): just outside their 5 km circle, so the circle's edge is exercised.
LONGUEUIL = _place(6059891, "Longueuil", "Quebec", "CA.10", 45.53121, -73.51806, "America/Toronto", 229330)
OTTAWA = _place(6094817, "Ottawa", "Ontario", "CA.08", 45.41117, -75.69812, "America/Toronto", 1017449)
TORONTO = _place(6167865, "Toronto", "Ontario", "CA.08", 43.70643, -79.39864, "America/Toronto", 2794356)
CHICAGO = _place(4887398, "Chicago", "Illinois", "US.IL", 41.85003, -87.65005, "America/Chicago", 2664452)
LOS_ANGELES = _place(
    5368361, "Los Angeles", "California", "US.CA", 34.05223, -118.24368, "America/Los_Angeles", 3820914
)
PARIS = _place(2988507, "Paris", "Île-de-France", "FR.11", 48.85341, 2.3488, "Europe/Paris", 2138551)
LAVAL_FR = _place(3005866, "Laval", "Pays de la Loire", "FR.52", 48.07247, -0.77019, "Europe/Paris", 50489)
# Outside North America and Europe: regions named by GeoNames' admin1 table (places/data/admin1.json).
TOKYO = _place(1850147, "Tokyo", "Tokyo", "JP.40", 35.6895, 139.69171, "Asia/Tokyo", 9733276)
GUADALAJARA = _place(
    4005539, "Guadalajara", "Jalisco", "MX.14", 20.67738, -103.34749, "America/Mexico_City", 1385629
)
MONTERREY = _place(
    3995465, "Monterrey", "Nuevo León", "MX.19", 25.68435, -100.31721, "America/Monterrey", 1135512
)
MUMBAI = _place(1275339, "Mumbai", "Maharashtra", "IN.16", 19.07283, 72.88261, "Asia/Kolkata", 12691836)
