"""The platform's WSGI app plus, for bench/inbound.py only, a baseline view at /bench/baseline/.

The baseline is the least a Django webhook can do: the same settings and middleware, the same signature
check, one INSERT … ON CONFLICT DO NOTHING into the bench leader's messages (schema-qualified, so no
search_path), and an empty TwiML answer. No routing, no leader, no transaction, no member lookup. The inbound
webhook's rate is reported against it. Never deployed: gunicorn loads this module only in the benchmark.
"""

from __future__ import annotations

import os

from django.urls import path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "community.settings")

BENCH_SCHEMA = os.environ.get("BENCH_SCHEMA", "leader_bench_inbound")


def baseline_view(request):
    from django.db import connection
    from django.http import HttpResponse, JsonResponse
    from django.utils import timezone

    from messaging.views import EMPTY_TWIML, TWIML, signature_valid

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


def _urlpatterns():
    from django.views.decorators.csrf import csrf_exempt

    from community.urls_public import urlpatterns

    return [*urlpatterns, path("bench/baseline/", csrf_exempt(baseline_view), name="bench_baseline")]


from django.conf import settings  # noqa: E402 - after DJANGO_SETTINGS_MODULE

settings.PUBLIC_SCHEMA_URLCONF = "bench.inbound_wsgi"

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
urlpatterns = _urlpatterns()
