"""The signup page's URLs, on the leader's host (included by community/urls_tenant.py)."""

from django.urls import path

from signup import views

urlpatterns = [
    # signup.services.SIGNUP_LINK_PATH builds these links and sends them by text: keep the path.
    path("j/<str:token>", views.signup_join, name="signup_join"),
    path("j/<str:token>/update", views.signup_update_link, name="signup_update_link"),
    path("join/", views.signup_demo, name="signup_demo"),
    path("places/suggest", views.signup_city_suggest, name="signup_city_suggest"),
]
