from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import connection

from accounts.models import User


@admin.register(User)
class StaffUserAdmin(DjangoUserAdmin):
    """Platform staff accounts (the admin only runs in the public schema)."""

    def has_module_permission(self, request):
        return connection.schema_name == "public" and super().has_module_permission(request)
