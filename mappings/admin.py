from django.contrib import admin

from .models import Mapping


@admin.register(Mapping)
class MappingAdmin(admin.ModelAdmin):
    list_display = ["connection", "organization", "kind", "scope", "local_value", "remote_id", "remote_name"]
    list_filter = ["connection", "kind", "scope", "organization"]
    list_editable = ["remote_id", "remote_name"]
    search_fields = ["local_value", "remote_id", "remote_name"]
