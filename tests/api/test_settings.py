"""GET settings/: what the leader set, the stop words of their own included (read-only)."""

from __future__ import annotations

from leaders.models import Leader


def test_the_settings_show_the_leaders_own_stop_words(world, owner_api):
    assert owner_api.get("/api/v1/settings/").json()["stop_words"] == []

    Leader.objects.filter(pk=world.alice.pk).update(stop_words=["DÉSINSCRIRE", "NO MORE"])

    settings = owner_api.get("/api/v1/settings/").json()
    assert settings["stop_words"] == ["DÉSINSCRIRE", "NO MORE"]
    assert settings["accepted_countries"] == ["CA", "US"]
