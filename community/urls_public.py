"""URLs on the platform's own host: staff admin, Twilio webhooks, the phone simulator."""

from django.contrib import admin
from django.urls import path

from accounts.forms import StaffLoginForm
from community import views
from inbound import simulator
from inbound import views as inbound_views

admin.site.site_header = "community · platform staff"
admin.site.site_title = "community staff"
# Staff accounts can do anything to every leader: their login has the console's limits (accounts.logins).
# The admin offers no password reset (no `admin_password_reset` URL): staff are reset by another staff
# member, or with `manage.py changepassword`.
admin.site.login_form = StaffLoginForm

urlpatterns = [
    path("", views.platform_home, name="platform_home"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("webhooks/twilio/sms/", inbound_views.sms_webhook, name="twilio_sms"),
    path("webhooks/twilio/voice/", inbound_views.voice_webhook, name="twilio_voice"),
    path("webhooks/twilio/status/", inbound_views.status_webhook, name="twilio_status"),
    path("simulator/", simulator.simulator_page, name="simulator"),
    path("simulator/send/", simulator.simulator_send, name="simulator_send"),
    path("simulator/messages/", simulator.simulator_messages, name="simulator_messages"),
]
