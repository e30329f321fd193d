from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def platform_home(request: HttpRequest) -> HttpResponse:
    return render(request, "platform_home.html")


def leader_home(request: HttpRequest) -> HttpResponse:
    """What anyone who is not on the team sees at the leader's address: how to join, and the team's login.

    The team sees the console's dashboard at the same address (console.views.home)."""
    return render(request, "leader_home.html", {"leader": request.tenant})
