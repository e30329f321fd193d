"""The city type-ahead endpoint on the leader's host: /places/suggest?q=…&country=…"""

from __future__ import annotations

import pytest

from places.gazetteer import preload, resolve_city
from tests.places import MONTREAL
from tests.signup.helpers import host

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True, scope="module")
def _gazetteer_loaded():
    """Type-ahead answers nothing until the gazetteer is loaded (it never makes a fan wait): load it first."""
    preload()


def suggest(client, leader, query: str, **extra):
    return client.get("/places/suggest", query, HTTP_HOST=host(leader), **extra)


def test_suggestions_are_json_labels_best_first_for_the_fans_country(client, world):
    response = suggest(client, world.alice, {"q": "montr", "country": "CA"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    results = response.json()["results"]
    assert results[0] == {
        "id": MONTREAL.geoname_id,
        "name": "Montréal",
        "label": "Montréal, Quebec, Canada",
        "country": "CA",
    }
    assert len(results) <= 8
    assert "Montréal, Quebec, Canada" in response.content.decode()  # UTF-8, not \\u escapes: smaller


@pytest.mark.parametrize("query", ["Montre", "montré", "MONTRÉ", "مونتري"])
def test_accents_case_and_arabic_script_suggest_the_same_city(client, world, query):
    labels = [
        place["label"]
        for place in suggest(client, world.alice, {"q": query, "country": "CA"}).json()["results"]
    ]
    assert "Montréal, Quebec, Canada" in labels


def test_every_suggested_label_resolves_back_to_its_place_on_submit(client, world):
    for query, country in (
        ("montr", "CA"),
        ("portl", "US"),
        ("pari", "FR"),
        ("mexico", "MX"),
        ("lond", "CA"),
    ):
        for place in suggest(client, world.alice, {"q": query, "country": country}).json()["results"]:
            resolved = resolve_city(place["label"], country=country)
            assert resolved is not None and resolved.geoname_id == place["id"], place["label"]


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"q": ""},
        {"q": "m"},
        {"q": "x" * 5000},
        {"q": "mont\x00real"},
        {"q": "mont", "country": "ZZZ"},
        {"q": "😀😀"},
    ],
)
def test_odd_queries_get_an_empty_or_plain_answer_never_an_error(client, world, query):
    response = suggest(client, world.alice, query)
    assert response.status_code == 200
    assert isinstance(response.json()["results"], list)


def test_suggestions_are_rate_limited_per_address(client, world, settings):
    settings.CITY_SUGGEST_RATE = (5, 60)
    for _ in range(5):
        assert suggest(client, world.alice, {"q": "la"}, REMOTE_ADDR="198.51.100.20").status_code == 200
    limited = suggest(client, world.alice, {"q": "la"}, REMOTE_ADDR="198.51.100.20")
    assert limited.status_code == 429
    assert limited.json() == {"error": "too many requests", "results": []}
    assert suggest(client, world.alice, {"q": "la"}, REMOTE_ADDR="198.51.100.21").status_code == 200


def test_suggestions_may_be_cached_by_the_browser(client, world):
    response = suggest(client, world.alice, {"q": "berl"})
    assert "max-age=3600" in response["Cache-Control"]
