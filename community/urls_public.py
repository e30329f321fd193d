"""URLs on the platform's own host: staff admin, Twilio webhooks, the phone simulator."""

from django.contrib import admin
from django.urls import path

from community import views

admin.site.site_header = "community · platform staff"
admin.site.site_title = "community staff"

urlpatterns = [
    path("", views.platform_home, name="platform_home"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
