"""Where a text's sender is: the first source that tells, in order (member, carrier, phone, text), as region
names the way members carry them."""

from __future__ import annotations

from triage.models import PlaceSource
from triage.place import Whereabouts, phone_place, place_find

GUADALAJARA_PHONE = "+523312345678"
VANCOUVER_PHONE = "+16045550142"
FRENCH_MOBILE = "+33612345678"  # the geocoder says only "France"


def test_the_members_own_place_comes_first():
    found = place_find(
        member=("Montréal", "Quebec", "CA"),
        details={"FromCity": "VANCOUVER", "FromState": "BC", "FromCountry": "CA"},
        phone=VANCOUVER_PHONE,
        text="water in Toronto",
    )
    assert found == Whereabouts("CA", "Quebec", "Montréal", PlaceSource.MEMBER)


def test_then_the_carriers_city_and_state():
    found = place_find(
        member=("", "", ""),
        details={"FromCity": "VANCOUVER", "FromState": "BC", "FromCountry": "CA"},
        phone=VANCOUVER_PHONE,
        text="water in Toronto",
    )
    assert found == Whereabouts("CA", "British Columbia", "Vancouver", PlaceSource.CARRIER)
    state_only = place_find(member=None, details={"FromState": "NY"}, phone="+12125550142", text="")
    assert (state_only.region, state_only.source) == ("New York", PlaceSource.CARRIER)


def test_a_carrier_place_in_another_country_than_the_numbers_is_not_the_senders():
    # Twilio's defaults (or a roaming number) say Washington, DC; the number is from Guadalajara.
    found = place_find(
        member=None,
        details={"FromCity": "WASHINGTON", "FromState": "DC", "FromCountry": "US"},
        phone=GUADALAJARA_PHONE,
        text="",
    )
    assert found == Whereabouts("MX", "Jalisco", "Guadalajara", PlaceSource.PHONE)


def test_then_the_phone_numbers_region_from_the_geocoder():
    assert place_find(
        member=None, details=None, phone=GUADALAJARA_PHONE, text="agua en Monterrey"
    ) == Whereabouts("MX", "Jalisco", "Guadalajara", PlaceSource.PHONE)
    vancouver = place_find(member=None, details=None, phone=VANCOUVER_PHONE, text="")
    assert (vancouver.country, vancouver.region, vancouver.source) == (
        "CA",
        "British Columbia",
        PlaceSource.PHONE,
    )
    assert phone_place("+12125550142").region == "New York"
    # A carrier detail that names nothing known does not stop the phone from telling.
    assert place_find(member=None, details={"FromCity": "ZZZ"}, phone=GUADALAJARA_PHONE, text="").region == (
        "Jalisco"
    )


def test_then_a_place_named_in_the_text_in_the_phones_country():
    found = place_find(member=None, details=None, phone=FRENCH_MOBILE, text="Il faut des médecins à Lyon svp")
    assert found == Whereabouts("FR", "Auvergne-Rhône-Alpes", "Lyon", PlaceSource.TEXT)
    region = place_find(member=None, details=None, phone="+5215512345678", text="necesitamos agua en jalisco")
    assert (region.region, region.source) == ("Jalisco", PlaceSource.TEXT)


def test_else_only_the_phones_country_and_common_words_are_no_places():
    assert place_find(
        member=None, details=None, phone=FRENCH_MOBILE, text="nice to see you, merci"
    ) == Whereabouts("FR")
    # A Mexican number the geocoder only knows as "Mexico" is no region of Mexico (the State of México).
    assert phone_place("+526641234567") == Whereabouts("MX")
    assert place_find(member=None, details=None, phone="+15", text="") == Whereabouts()
