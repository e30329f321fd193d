import os
import threading

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "community.settings")
django_application = get_wsgi_application()

from inbound.receiver import with_sms_receiver  # noqa: E402 - needs Django set up

# Inbound texts are answered ahead of Django's handler and middleware (inbound/receiver.py).
application = with_sms_receiver(django_application)


def _gazetteer_preload() -> None:
    # Building the city index takes seconds; do it in the background at start-up so the first fan who
    # types a city does not wait for it.
    from places.gazetteer import preload

    preload()


threading.Thread(target=_gazetteer_preload, name="gazetteer-preload", daemon=True).start()
