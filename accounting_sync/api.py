"""A small JSON API (staff only): monitoring, and a connection's trigger rules."""
from django.db import transaction
from django.shortcuts import get_object_or_404
from rest_framework import permissions, serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.response import Response

from connectors.models import Connection

from .models import OutboxEntry, TriggerRule
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


class TriggerRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = TriggerRule
        fields = ["entity", "kind", "status", "partly_paid", "every_minutes", "daily_at", "time_zone", "send_drafts"]
        validators = []  # one rule per entity: the view replaces the whole set

    def validate(self, attrs):
        from django.core.exceptions import ValidationError

        try:
            TriggerRule(**attrs).clean()
        except ValidationError as exc:
            raise serializers.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
        return attrs


@api_view(["GET", "PUT"])
@permission_classes([permissions.IsAdminUser])
def trigger_rules(request, pk: int):
    """``GET``: the connection's rules; ``PUT`` a list of rules: replaces them (entities left out go back to
    "on every save"). Changing them needs the change-connection permission."""
    conn = get_object_or_404(Connection, pk=pk)
    if request.method == "PUT":
        if not request.user.has_perm("connectors.change_connection"):
            return Response({"detail": "You may not change this connection's trigger rules."}, status=403)
        serializer = TriggerRuleSerializer(data=request.data, many=True)
        serializer.is_valid(raise_exception=True)
        entities = [rule["entity"] for rule in serializer.validated_data]
        if len(entities) != len(set(entities)):
            return Response({"detail": "One rule per kind of document."}, status=400)
        with transaction.atomic():
            TriggerRule.objects.filter(connection=conn).delete()
            TriggerRule.objects.bulk_create(TriggerRule(connection=conn, **rule)
                                            for rule in serializer.validated_data)
    rules = TriggerRule.objects.filter(connection=conn).order_by("entity")
    return Response({"connection": conn.pk, "rules": TriggerRuleSerializer(rules, many=True).data})
