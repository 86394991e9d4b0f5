"""A small read-only JSON API for monitoring (staff only)."""
from rest_framework import permissions, serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.response import Response

from .models import OutboxEntry
from .status import connection_health


class EntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = OutboxEntry
        fields = ["id", "connection", "source_key", "entity", "label", "status", "attempts", "next_attempt_at",
                  "last_error", "error_code", "platform_code", "hint", "updated_at"]


@api_view(["GET"])
@permission_classes([permissions.IsAdminUser])
def status(request):
    return Response({"connections": connection_health()})


@api_view(["GET"])
@permission_classes([permissions.IsAdminUser])
def attention(request):
    entries = OutboxEntry.objects.filter(status__in=["needs_attention", "failed"]).order_by("-updated_at")[:200]
    return Response({"entries": EntrySerializer(entries, many=True).data})
