"""The platform's WSGI app plus, for bench/inbound.py only, a baseline at /bench/baseline/.

The baseline is the least a Django webhook can do: a bare Django view (Django's WSGI handler with no
middleware, only its URL resolution) that does the same signature check, one INSERT … ON CONFLICT DO
NOTHING into the bench leader's messages (schema-qualified, so no search_path) through Django's cursor, and
answers an empty TwiML. No routing, no leader, no transaction, no member lookup. The inbound webhook's rate
is reported against it. Everything else is `community.wsgi.application`, as deployed. Never deployed:
gunicorn loads this module only in the benchmark.
"""

from __future__ import annotations

import os

from django.urls import path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "community.settings")

BENCH_SCHEMA = os.environ.get("BENCH_SCHEMA", "leader_bench_inbound")
BASELINE_PATH = "/bench/baseline/"


def baseline_view(request):
    from django.db import connection
    from django.http import HttpResponse, JsonResponse
    from django.utils import timezone

    from inbound.receiver import EMPTY_TWIML, TWIML
    from inbound.views import signature_valid

    if not signature_valid(request):
        return JsonResponse({"error": "invalid or missing X-Twilio-Signature"}, status=403)
    post = request.POST
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{BENCH_SCHEMA}".messaging_message '
            "(phone, direction, kind, body, status, twilio_sid, failure_reason, attempts, created_at, updated_at) "
            "VALUES (%s, 'in', 'conversation', %s, 'received', %s, '', 0, %s, %s) "
            "ON CONFLICT (twilio_sid) DO NOTHING",
            [post.get("From", ""), post.get("Body", ""), post.get("MessageSid", ""), now, now],
        )
    return HttpResponse(EMPTY_TWIML, content_type=TWIML)


def baseline_urlconf(get_response):
    """The bare handler's only middleware: resolve its requests against this module's one URL."""

    def middleware(request):
        request.urlconf = __name__
        return get_response(request)

    return middleware


def _bare_handler():
    from django.core.handlers.wsgi import WSGIHandler
    from django.test.utils import override_settings

    with override_settings(MIDDLEWARE=[f"{__name__}.baseline_urlconf"]):
        return WSGIHandler()  # its middleware chain is built here, from the overridden setting


urlpatterns = [path(BASELINE_PATH.strip("/") + "/", baseline_view, name="bench_baseline")]

from community.wsgi import application as platform  # noqa: E402 - sets Django up

bare = _bare_handler()


def application(environ, start_response):
    if environ.get("PATH_INFO") == BASELINE_PATH:
        return bare(environ, start_response)
    return platform(environ, start_response)
