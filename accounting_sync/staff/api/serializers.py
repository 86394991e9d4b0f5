"""What the API reads and writes. No secret ever appears here: a connection's client secret and tokens are not
fields of any serializer."""
from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from connectors.documents import Entity
from connectors.models import Connection
from mappings.choices import free_text_problem, is_free_text, kinds_for, remote_options, target
from mappings.models import Mapping, Scope
from mappings.resolve import candidates

from ...audit.models import AuditRecord
from ...files.models import ExportBatch
from ...models import OutboxEntry, SyncLog, TriggerRule
from ...policies.reference import platform_lists
from ...reconcile.models import ReconciliationRun, RunKind, Variance


class ConnectionSerializer(serializers.ModelSerializer):
    platform_name = serializers.CharField(read_only=True)
    pending = serializers.IntegerField(read_only=True, help_text="Entries to send or being sent")
    needs_attention = serializers.IntegerField(read_only=True)
    failed = serializers.IntegerField(read_only=True)
    synced = serializers.IntegerField(read_only=True)

    class Meta:
        model = Connection
        fields = ["id", "name", "platform", "platform_name", "organizations", "direction", "entities", "auto_sync",
                  "start_date", "status", "status_message", "paused_until", "access_expires_at", "refresh_expires_at",
                  "reference_data_at", "created_at", "updated_at", "pending", "needs_attention", "failed", "synced"]
        read_only_fields = fields


class EntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = OutboxEntry
        fields = ["id", "connection", "source_key", "entity", "label", "status", "attempts", "next_attempt_at",
                  "last_error", "error_code", "platform_code", "hint", "updated_at"]
        read_only_fields = fields


class SyncLogSerializer(serializers.ModelSerializer):
    class Meta:
        model = SyncLog
        fields = ["id", "connection", "entry", "source_key", "entity", "label", "operation", "outcome", "remote_id",
                  "message", "hint", "error_code", "platform_code", "http_status", "duration_ms", "created_at"]
        read_only_fields = fields


class QueuedSerializer(serializers.Serializer):
    queued = serializers.IntegerField(help_text="Outbox entries queued")


class ResyncSerializer(serializers.Serializer):
    entities = serializers.ListField(child=serializers.ChoiceField(choices=Entity.EVERY), required=False,
                                     help_text="Default: every entity the connection syncs")
    since = serializers.DateField(required=False, help_text="Only documents dated on or after")
    ids = serializers.ListField(child=serializers.CharField(), required=False, help_text="Local primary keys")
    force = serializers.BooleanField(default=False, help_text="Re-send documents that did not change")


class ReconcileRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=RunKind.choices, default=RunKind.FULL)


class ExportBatchSerializer(serializers.ModelSerializer):
    class Meta:
        model = ExportBatch
        fields = ["id", "connection", "number", "created_at", "created_by", "reexport_of", "reason", "documents",
                  "sha256"]
        read_only_fields = fields


class ExportResultSerializer(serializers.Serializer):
    batch = ExportBatchSerializer(allow_null=True, help_text="The new batch; null when nothing was ready")
    detail = serializers.CharField()


class TriggerRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = TriggerRule
        fields = ["entity", "kind", "status", "partly_paid", "every_minutes", "daily_at", "time_zone", "send_drafts"]
        validators = []  # one rule per entity: the view replaces the whole set

    def validate(self, attrs):
        try:
            TriggerRule(**attrs).clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(
                exc.message_dict if hasattr(exc, "error_dict") else exc.messages) from exc
        return attrs


class TriggerRulesSerializer(serializers.Serializer):
    connection = serializers.IntegerField()
    rules = TriggerRuleSerializer(many=True)


class MappingSerializer(serializers.ModelSerializer):
    """A mapping rule. Checked as the editor and the CSV import check it: the kind means something on the
    connection's platform, the scope is one its rules use, a local value exactly when the scope needs one, the
    organization is one of the connection's, and the remote id is an active account or tax code of a fitting kind
    on the platform (or a valid value of a platform dimension). Errors come back per field."""

    class Meta:
        model = Mapping
        fields = ["id", "connection", "organization", "kind", "scope", "local_value", "remote_id", "remote_name",
                  "updated_at", "stale_since", "stale_reason"]
        read_only_fields = ["id", "updated_at", "stale_since", "stale_reason"]
        validators = []  # uniqueness is checked in validate(), as a field error

    def validate(self, attrs):
        merged = {f: getattr(self.instance, f) for f in ("connection", "organization", "kind", "scope", "local_value",
                                                         "remote_id", "remote_name")} if self.instance else {}
        merged.update(attrs)
        conn, kind, scope = merged.get("connection"), merged.get("kind", ""), merged.get("scope", Scope.DEFAULT)
        local_value, remote_id = merged.get("local_value", ""), merged.get("remote_id", "")
        errors: dict[str, str] = {}
        if self.instance and "connection" in attrs and attrs["connection"] != self.instance.connection:
            errors["connection"] = "A rule cannot move to another connection: add it there instead."
        elif kind not in kinds_for(conn.platform):
            errors["kind"] = f"Unknown kind “{kind}” (use {', '.join(kinds_for(conn.platform))})."
        elif scope not in candidates(conn.platform, kind):
            errors["scope"] = (f"A {kind} rule by {scope} is never used ({kind} rules use "
                               f"{', '.join(candidates(conn.platform, kind))}).")
        elif scope == Scope.DEFAULT and local_value:
            errors["local_value"] = "A default rule takes no local value."
        elif scope != Scope.DEFAULT and not local_value:
            errors["local_value"] = f"A {scope} rule needs a local value."
        organization = merged.get("organization")
        if organization is not None and not conn.organizations.filter(pk=organization.pk).exists():
            errors["organization"] = "Not one of this connection's organizations."
        if not errors:
            errors.update(self._check_remote(conn, kind, remote_id, attrs))
        if not errors:
            errors.update(self._check_unique(merged))
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    @staticmethod
    def _check_remote(conn: Connection, kind: str, remote_id: str, attrs: dict) -> dict[str, str]:
        if is_free_text(conn.platform, kind):
            problem = free_text_problem(conn.platform, kind, remote_id.strip())
            return {"remote_id": problem[0].upper() + problem[1:] + "."} if problem else {}
        reference, warning = platform_lists(conn)
        if reference is None:
            return {"remote_id": f"{warning} The platform id cannot be checked."}
        options = remote_options(kind, reference)
        if remote_id not in options:
            return {"remote_id": f"“{remote_id}” is not an active {target(conn.platform, kind)} on the platform "
                                 "(refresh the platform's lists if it is new)."}
        if not attrs.get("remote_name"):
            attrs["remote_name"] = options[remote_id]
        return {}

    def _check_unique(self, merged: dict) -> dict[str, str]:
        same = Mapping.objects.filter(connection=merged["connection"], organization=merged.get("organization"),
                                      kind=merged["kind"], scope=merged.get("scope", Scope.DEFAULT),
                                      local_value=merged.get("local_value", ""))
        if self.instance is not None:
            same = same.exclude(pk=self.instance.pk)
        if same.exists():
            return {"local_value": "Another rule of this connection already maps this (same kind, scope, local value "
                                   "and organization)."}
        return {}


class ReconciliationRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReconciliationRun
        fields = ["id", "connection", "organization_id", "kind", "status", "since", "until", "started_at",
                  "finished_at", "checked", "in_flight", "variances", "alarms", "open_alarms", "error"]
        read_only_fields = fields


class VarianceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Variance
        fields = ["id", "connection", "first_run", "last_run", "organization_id", "entity", "source_key", "label",
                  "remote_id", "number", "field", "local_value", "remote_value", "difference", "reason", "alarm",
                  "status", "message", "action", "first_seen_at", "last_seen_at", "resolved_at"]
        read_only_fields = fields


class AuditRecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditRecord
        fields = ["id", "chain", "seq", "at", "kind", "actor", "connection_id", "connection_name", "source_key",
                  "entity", "operation", "outcome", "remote_id", "detail", "prev_hash", "hash"]
        read_only_fields = fields


class MetricsSerializer(serializers.Serializer):
    connection = serializers.IntegerField(allow_null=True, help_text="null: every connection selected, together")
    name = serializers.CharField()
    metrics = serializers.DictField(help_text="sync_accuracy_rate, time_to_reconcile, errors_prevented, each with "
                                              "its definition")


class StatusSerializer(serializers.Serializer):
    connections = serializers.ListField(child=serializers.DictField())


class AttentionSerializer(serializers.Serializer):
    entries = EntrySerializer(many=True)
