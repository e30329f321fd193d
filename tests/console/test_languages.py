"""Every console page speaks English, French, German, Spanish and Arabic (right to left)."""

from __future__ import annotations

import pytest

from tests.console.conftest import client_for

HEADINGS = {
    "/": {"fr": "Tableau de bord", "de": "Übersicht", "es": "Panel", "ar": "لوحة المعلومات"},
    "/members/": {"fr": "Membres", "de": "Mitglieder", "es": "Miembros", "ar": "الأعضاء"},
    "/members/import/": {
        "fr": "Importer des membres",
        "de": "Mitglieder importieren",
        "es": "Importar miembros",
        "ar": "استيراد أعضاء",
    },
    "/members/exports/": {
        "fr": "Exports de membres",
        "de": "Exporte von Mitgliedern",
        "es": "Exportaciones de miembros",
        "ar": "عمليات تصدير الأعضاء",
    },
    "/settings/": {"fr": "Réglages", "de": "Einstellungen", "es": "Configuración", "ar": "الإعدادات"},
    "/team/": {"fr": "Équipe", "de": "Team", "es": "Equipo", "ar": "الفريق"},
    "/password/": {
        "fr": "Changer votre mot de passe",
        "de": "Passwort ändern",
        "es": "Cambiar su contraseña",
        "ar": "تغيير كلمة المرور",
    },
}


@pytest.mark.parametrize("language", ["fr", "de", "es", "ar"])
@pytest.mark.parametrize("path", list(HEADINGS))
def test_each_console_page_is_translated(olivia, path, language):
    page = olivia.get(path, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert f"<h1>{HEADINGS[path][language]}</h1>" in page
    assert f'lang="{language}"' in page
    assert ('dir="rtl"' in page) == (language == "ar")


@pytest.mark.parametrize(
    ("language", "text"),
    [("fr", "Se connecter"), ("de", "Anmelden"), ("es", "Iniciar sesión"), ("ar", "تسجيل الدخول")],
)
def test_the_login_page_is_translated(db, world, language, text):
    page = client_for(world.alice).get("/login/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert f"<h1>{text}</h1>" in page


def test_the_language_switcher_keeps_the_choice(olivia):
    response = olivia.post("/i18n/setlang/", {"language": "es", "next": "/members/"})
    assert response.status_code == 302
    assert "<h1>Miembros</h1>" in olivia.get("/members/").content.decode()


INBOX_HEADINGS = {
    "fr": "Messagerie",
    "de": "Posteingang",
    "es": "Bandeja de entrada",
    "ar": "صندوق الوارد",
}


@pytest.mark.parametrize("language", ["fr", "de", "es", "ar"])
def test_the_inbox_and_a_thread_are_translated(world, rita, language):
    from django_tenants.utils import schema_context

    from tests import builders

    page = rita.get("/inbox/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert f"<h1>{INBOX_HEADINGS[language]}</h1>" in page
    with schema_context(world.alice.schema_name):
        conversation = builders.conversation()
        builders.message(conversation=conversation, direction="out", body="Hi", status="delivered")
    thread = rita.get(f"/inbox/{conversation.pk}/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    expected = {
        "fr": "Envoyer la réponse",
        "de": "Antwort senden",
        "es": "Enviar respuesta",
        "ar": "إرسال الرد",
    }
    assert expected[language] in thread
    delivered = {"fr": "Remis", "de": "Zugestellt", "es": "Entregado", "ar": "تم التسليم"}
    assert delivered[language] in thread
