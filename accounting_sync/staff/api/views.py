"""The REST API: connections (and their actions), outbox entries, sync logs, mappings, reconciliation runs and
variances, the audit trail, metrics; the monitoring views (status, attention) and a connection's trigger rules.

Every view takes session or token authentication (token: ``rest_framework.authtoken`` in ``INSTALLED_APPS``) and
needs the permission of what it does (``accounting_sync.permissions``); anything else is a 403. Lists are paginated
(``?page=``, ``?page_size=`` up to 500) and filtered by plain query parameters. See docs/api.md.
"""
from __future__ import annotations

from django.apps import apps
from django.db import transaction
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework import mixins, serializers, viewsets
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from connectors.errors import SyncError
from connectors.models import Connection
from mappings.models import Mapping

from ... import __version__, audit, reconcile
from ...audit.models import AuditKind, AuditRecord
from ...core import outbox, resync
from ...core.batching import chunks
from ...files import batches as file_batches
from ...models import EntryStatus, OutboxEntry, SyncLog, TriggerRule
from ...permissions import (ADD_MAPPINGS, CONNECT, CUSTOM, DELETE_MAPPINGS, EDIT_MAPPINGS, EXPORT, RECONCILE, SYNC,
                            VIEW_AUDIT, VIEW_DASHBOARD, VIEW_MAPPINGS, any_allowed)
from ...policies import drift
from ...reconcile import metrics
from ...reconcile.models import ReconciliationRun, Variance
from ..admin import disconnect, retry_entries
from ..status import connection_health
from . import serializers as s

#: Every permission the API knows: holding any one of them lets a user read the OpenAPI schema.
ALL_PERMISSIONS = tuple(f"accounting_sync.{codename}" for codename, _ in CUSTOM) + (VIEW_MAPPINGS, EDIT_MAPPINGS,
                                                                                    ADD_MAPPINGS, DELETE_MAPPINGS)
READ_RECONCILIATION = (VIEW_DASHBOARD, RECONCILE)


class Required(BasePermission):
    """The view's ``required`` says, per viewset action (or HTTP method), which permissions allow it: any one of
    them does. What it does not list is refused."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        key = getattr(view, "action", None) or request.method.lower()
        needed = view.required.get(key, view.required.get("default", ()))
        return any_allowed(user, *((needed,) if isinstance(needed, str) else needed))


class Schema(AutoSchema):
    """drf-spectacular's inspector, plus the list filters a viewset declares (``filtered``)."""

    def get_override_parameters(self):
        params = super().get_override_parameters()
        filters = getattr(self.view, "filters", None)
        if filters and getattr(self.view, "action", None) == "list":
            params = [*params, *(OpenApiParameter(name, kind, description=text)
                                 for name, (_, kind, text) in filters.items())]
        return params


def documented(**kwargs):
    """``extend_schema`` on a view method, based on :class:`Schema` whatever the host's ``DEFAULT_SCHEMA_CLASS``
    (extend_schema otherwise builds on that setting, which a host need not point at drf-spectacular)."""

    def decorate(method):
        method.schema = Schema
        return extend_schema(**kwargs)(method)

    return decorate


class Secured:
    """Mixin for every API view: session and token authentication, :class:`Required`, the OpenAPI inspector."""

    permission_classes = [Required]
    schema = Schema()
    required: dict[str, str | tuple[str, ...]] = {}

    def get_authenticators(self):
        classes = [SessionAuthentication]
        if apps.is_installed("rest_framework.authtoken"):
            classes.append(TokenAuthentication)
        return [cls() for cls in classes]


class Pages(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


def filtered(**filters):
    """A viewset's list filters: ``name=(lookup, type, description)`` become query parameters, applied by
    ``filter_queryset`` and documented in the schema (:class:`Schema`)."""

    def decorate(viewset):
        viewset.filters = filters
        return viewset

    return decorate


class FilteredViewSet(Secured, viewsets.GenericViewSet):
    pagination_class = Pages
    lookup_value_regex = r"\d+"
    filters: dict = {}

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        for name, (lookup, kind, _) in self.filters.items():
            value = self.request.query_params.get(name)
            if value in (None, ""):
                continue
            if kind is int and not value.isdigit():
                raise ValidationError({name: "A whole number."})
            if kind is bool:
                value = value.lower() in ("1", "true", "yes")
            queryset = queryset.filter(**{lookup: value})
        return queryset


def staff_action(request, operation: str, conn: Connection | None = None, detail: dict | None = None) -> None:
    """An API action, in the audit trail with the user who took it."""
    audit.append(AuditKind.STAFF, actor=f"{request.user.get_username()} (api)",
                 connection_id=conn.pk if conn else None, connection_name=conn.name if conn else "",
                 operation=operation, outcome="done", detail=detail)


@filtered(status=("status", str, "Connection status: active, needs_reauth, disabled"),
          platform=("platform", str, "Platform id"))
class ConnectionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, FilteredViewSet):
    """Connections with their outbox counts; the actions staff take on one."""

    serializer_class = s.ConnectionSerializer
    required = {"list": VIEW_DASHBOARD, "retrieve": VIEW_DASHBOARD, "default": VIEW_DASHBOARD, "sync": SYNC,
                "retry": SYNC, "resync": SYNC, "disconnect": CONNECT, "export": EXPORT, "reconcile": RECONCILE}

    def get_queryset(self):
        return Connection.objects.order_by("name").prefetch_related("organizations").annotate(
            pending=Count("outbox", filter=Q(outbox__status__in=[EntryStatus.PENDING, EntryStatus.IN_PROGRESS])),
            needs_attention=Count("outbox", filter=Q(outbox__status=EntryStatus.NEEDS_ATTENTION)),
            failed=Count("outbox", filter=Q(outbox__status=EntryStatus.FAILED)),
            synced=Count("outbox", filter=Q(outbox__status=EntryStatus.DONE)))

    @documented(request=None, responses=s.QueuedSerializer)
    @action(detail=True, methods=["post"])
    def sync(self, request, pk=None):
        """Sync now: send everything pending at once."""
        conn = self.get_object()
        ids = list(OutboxEntry.objects.filter(connection=conn, status=EntryStatus.PENDING).values_list("pk", flat=True))
        OutboxEntry.objects.filter(pk__in=ids).update(next_attempt_at=timezone.now())
        outbox.enqueue(ids)
        staff_action(request, "sync now", conn, {"entries": len(ids)})
        return Response({"queued": len(ids)})

    @documented(request=None, responses=s.QueuedSerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        """Retry the connection's failed and needs-attention entries."""
        conn = self.get_object()
        count = retry_entries(OutboxEntry.objects.filter(connection=conn))
        staff_action(request, "retry", conn, {"entries": count})
        return Response({"queued": count})

    @documented(request=s.ResyncSerializer, responses=s.QueuedSerializer)
    @action(detail=True, methods=["post"])
    def resync(self, request, pk=None):
        """Queue the connection's documents again (as ``accounting_sync_resync --queue``): unchanged ones make no
        call unless ``force``."""
        conn = self.get_object()
        params = s.ResyncSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        opts = params.validated_data
        planned = resync.plan(conn, opts.get("entities"), opts.get("since"),
                              set(opts["ids"]) if opts.get("ids") else None)
        queued = 0
        for chunk in chunks(planned, 300):
            ids = resync.queue(conn, chunk, force=opts["force"])
            outbox.enqueue(ids)
            queued += len(ids)
        staff_action(request, "resync", conn, {"entities": opts.get("entities"), "since": opts.get("since"),
                                               "ids": opts.get("ids"), "force": opts["force"], "queued": queued})
        return Response({"queued": queued})

    @documented(request=None, responses=s.ConnectionSerializer)
    @action(detail=True, methods=["post"])
    def disconnect(self, request, pk=None):
        """Forget the connection's tokens: nothing is sent until staff connect it again (in the admin)."""
        conn = self.get_object()
        disconnect(conn, f"{request.user.get_username()} (api)")
        return Response(self.get_serializer(self.get_queryset().get(pk=conn.pk)).data)

    @documented(request=None, responses={200: s.ExportResultSerializer, 400: None})
    @action(detail=True, methods=["post"])
    def export(self, request, pk=None):
        """File delivery: put every document ready for export into one new batch of the platform's import files
        (download them in the admin)."""
        conn = self.get_object()
        if not file_batches.file_delivery(conn):
            return Response({"detail": f"{conn} sends through its platform's API: it has no export batches."},
                            status=400)
        try:
            batch = file_batches.export(conn, actor=f"{request.user.get_username()} (api)")
        except SyncError as exc:
            return Response({"detail": exc.message}, status=400)
        if batch is None:
            return Response({"batch": None, "detail": "Nothing ready for export."})
        return Response({"batch": s.ExportBatchSerializer(batch).data,
                         "detail": f"Batch {batch.number} with {batch.documents} documents."})

    @documented(request=s.ReconcileRequestSerializer, responses=s.ReconciliationRunSerializer)
    @action(detail=True, methods=["post"])
    def reconcile(self, request, pk=None):
        """Reconcile now (full or incremental) and return the run; its variances are at ``variances/?run=ID``."""
        conn = self.get_object()
        params = s.ReconcileRequestSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        run = reconcile.run(conn, params.validated_data["kind"])
        staff_action(request, "reconcile", conn, {"run": run.pk, "kind": run.kind})
        return Response(s.ReconciliationRunSerializer(run).data)


@filtered(status=("status", str, "Entry status (pending, in_progress, done, needs_attention, failed, waiting, "
                                 "ready_to_export, exported)"),
          connection=("connection_id", int, "Connection id"),
          entity=("entity", str, "invoice, payment, credit_note, customer, item"),
          source_key=("source_key", str, "The local document, as app_label.model:pk"))
class OutboxEntryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, FilteredViewSet):
    """The outbox: one entry per (connection, local document), newest change first."""

    serializer_class = s.EntrySerializer
    queryset = OutboxEntry.objects.order_by("-updated_at", "-pk")
    required = {"list": VIEW_DASHBOARD, "retrieve": VIEW_DASHBOARD, "default": VIEW_DASHBOARD, "retry": SYNC}

    @documented(request=None, responses=s.EntrySerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        """Send this entry again now (whatever its status, unless a worker holds it)."""
        entry = self.get_object()
        if entry.status != EntryStatus.IN_PROGRESS:
            OutboxEntry.objects.filter(pk=entry.pk).update(status=EntryStatus.PENDING, attempts=0,
                                                           next_attempt_at=timezone.now())
        outbox.enqueue([entry.pk])
        staff_action(request, "retry", entry.connection, {"entry": entry.pk, "source_key": entry.source_key})
        entry.refresh_from_db()
        return Response(self.get_serializer(entry).data)


@filtered(connection=("connection_id", int, "Connection id"),
          outcome=("outcome", str, "success, attention, failed, conflict, retry, ..."),
          entity=("entity", str, "invoice, payment, credit_note, customer, item"),
          source_key=("source_key", str, "The local document, as app_label.model:pk"),
          entry=("entry_id", int, "Outbox entry id"))
class SyncLogViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, FilteredViewSet):
    """Every attempt, newest first (read only)."""

    serializer_class = s.SyncLogSerializer
    queryset = SyncLog.objects.order_by("-created_at", "-pk")
    required = {"default": VIEW_DASHBOARD}


@filtered(connection=("connection_id", int, "Connection id"), kind=("kind", str, "Rule kind"),
          scope=("scope", str, "Rule scope"), organization=("organization_id", int, "Organization id"))
class MappingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                     mixins.UpdateModelMixin, mixins.DestroyModelMixin, FilteredViewSet):
    """Mapping rules. Reading needs ``mappings.view_mapping`` (or ``change_mapping``); adding, changing and deleting
    need ``add_mapping``, ``change_mapping`` and ``delete_mapping``. A refused rule comes back as field errors."""

    serializer_class = s.MappingSerializer
    queryset = Mapping.objects.select_related("connection").order_by("connection", "kind", "scope", "local_value",
                                                                      "pk")
    required = {"default": (VIEW_MAPPINGS, EDIT_MAPPINGS), "create": ADD_MAPPINGS, "update": EDIT_MAPPINGS,
                "partial_update": EDIT_MAPPINGS, "destroy": DELETE_MAPPINGS}

    def perform_create(self, serializer):
        with transaction.atomic():
            rule = serializer.save()
            staff_action(self.request, "api mapping added", rule.connection, {"rule": rule.pk, "text": str(rule)})
        drift.requeue_unblocked(rule.connection)

    def perform_update(self, serializer):
        with transaction.atomic():
            rule = serializer.save()
            staff_action(self.request, "api mapping changed", rule.connection, {"rule": rule.pk, "text": str(rule)})
        drift.requeue_unblocked(rule.connection)

    def perform_destroy(self, instance):
        with transaction.atomic():
            staff_action(self.request, "api mapping deleted", instance.connection,
                         {"rule": instance.pk, "text": str(instance)})
            instance.delete()


@filtered(connection=("connection_id", int, "Connection id"), kind=("kind", str, "full or incremental"),
          status=("status", str, "running, done, failed"))
class ReconciliationRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, FilteredViewSet):
    """Reconciliation runs, newest first (read only; run one with ``POST connections/{id}/reconcile/``)."""

    serializer_class = s.ReconciliationRunSerializer
    queryset = ReconciliationRun.objects.order_by("-started_at", "-pk")
    required = {"default": READ_RECONCILIATION}


@filtered(connection=("connection_id", int, "Connection id"), run=("last_run_id", int, "The run that last saw it"),
          status=("status", str, "open or resolved"), reason=("reason", str, "The variance's reason"),
          alarm=("alarm", bool, "true: needs a person"), entity=("entity", str, "invoice, payment, credit_note"))
class VarianceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, FilteredViewSet):
    """Variances reconciliation found, each with its reason and the action it suggests (read only)."""

    serializer_class = s.VarianceSerializer
    queryset = Variance.objects.order_by("-last_seen_at", "-pk")
    required = {"default": READ_RECONCILIATION}


@filtered(connection=("connection_id", int, "Connection id"), kind=("kind", str, "attempt, inbound, staff, chain"),
          chain=("chain", str, "connection:<id>, global or legacy"))
class AuditRecordViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, FilteredViewSet):
    """The audit trail, newest first (read only; ``manage.py accounting_sync_audit verify`` checks its chain)."""

    serializer_class = s.AuditRecordSerializer
    queryset = AuditRecord.objects.order_by("-at", "-pk")
    required = {"default": VIEW_AUDIT}


class MetricsView(Secured, APIView):
    """The three metrics (sync accuracy rate, time to reconcile, manual-entry errors prevented) per connection and
    over all of them, each with its definition."""

    required = {"default": VIEW_DASHBOARD}

    @documented(parameters=[OpenApiParameter("connection", int, many=True,
                                                description="Only these connections (repeatable)"),
                               OpenApiParameter("days", int, description="Time to reconcile: the last N days "
                                                                         "(default 30)")],
                   responses=s.MetricsSerializer(many=True))
    def get(self, request):
        conns = Connection.objects.order_by("name")
        wanted = request.query_params.getlist("connection")
        if any(not v.isdigit() for v in wanted):
            raise ValidationError({"connection": "Connection ids (whole numbers)."})
        if wanted:
            conns = conns.filter(pk__in=wanted)
        days = request.query_params.get("days", "30")
        if not days.isdigit() or not int(days):
            raise ValidationError({"days": "A whole number of days, at least 1."})
        rows = [{"connection": c.pk, "name": c.name, "metrics": metrics.for_connections([c.pk], days=int(days))}
                for c in conns]
        rows.append({"connection": None, "name": "all", "metrics": metrics.for_connections([c.pk for c in conns],
                                                                                            days=int(days))})
        return Response(rows)


class StatusView(Secured, APIView):
    """Connection health for monitoring: counts, last success, tokens, pauses, held documents, metrics."""

    required = {"default": VIEW_DASHBOARD}

    @documented(responses=s.StatusSerializer)
    def get(self, request):
        return Response({"connections": connection_health()})


class AttentionView(Secured, APIView):
    """The 200 most recent entries that need a person (needs attention or failed)."""

    required = {"default": VIEW_DASHBOARD}

    @documented(responses=s.AttentionSerializer)
    def get(self, request):
        entries = OutboxEntry.objects.filter(status__in=["needs_attention", "failed"]).order_by("-updated_at")[:200]
        return Response({"entries": s.EntrySerializer(entries, many=True).data})


class TriggerRulesView(Secured, APIView):
    """A connection's trigger rules. ``PUT`` a list of rules replaces them (entities left out go back to "on every
    save") and needs ``connect_connection``."""

    required = {"default": VIEW_DASHBOARD, "put": CONNECT}

    def _answer(self, conn: Connection) -> Response:
        rules = TriggerRule.objects.filter(connection=conn).order_by("entity")
        return Response({"connection": conn.pk, "rules": s.TriggerRuleSerializer(rules, many=True).data})

    @documented(responses=s.TriggerRulesSerializer)
    def get(self, request, pk: int):
        return self._answer(get_object_or_404(Connection, pk=pk))

    @documented(request=s.TriggerRuleSerializer(many=True), responses=s.TriggerRulesSerializer)
    def put(self, request, pk: int):
        conn = get_object_or_404(Connection, pk=pk)
        serializer = s.TriggerRuleSerializer(data=request.data, many=True)
        serializer.is_valid(raise_exception=True)
        entities = [rule["entity"] for rule in serializer.validated_data]
        if len(entities) != len(set(entities)):
            raise serializers.ValidationError({"detail": "One rule per kind of document."})
        with transaction.atomic():
            TriggerRule.objects.filter(connection=conn).delete()
            TriggerRule.objects.bulk_create(TriggerRule(connection=conn, **rule) for rule in serializer.validated_data)
            staff_action(request, "trigger rules replaced", conn, {"rules": len(entities)})
        return self._answer(conn)


def only_this_api(endpoints):
    """drf-spectacular preprocessing hook: the schema documents this API, not the host's other DRF views."""
    return [e for e in endpoints if getattr(e[3], "cls", None) is not None and e[3].cls.__module__ == __name__
            and not issubclass(e[3].cls, SpectacularAPIView)]


class SchemaView(Secured, SpectacularAPIView):
    """The OpenAPI 3 schema of this API (``?format=json`` for JSON; YAML by default). Readable by anyone holding
    one of the API's permissions."""

    required = {"default": ALL_PERMISSIONS}
    custom_settings = {
        "TITLE": "Accounting sync API",
        "DESCRIPTION": "Connections and their actions, the outbox, sync logs, mapping rules, reconciliation runs and "
                       "variances, the audit trail and metrics. Session or token authentication; each operation "
                       "needs its permission (docs/api.md).",
        "VERSION": __version__,
        "PREPROCESSING_HOOKS": [f"{__name__}.only_this_api"],
        "COMPONENT_SPLIT_REQUEST": True,
        # Several models have a "kind": name each set of choices after what it is.
        "ENUM_NAME_OVERRIDES": {"ReconciliationKindEnum": "accounting_sync.reconcile.models.RunKind",
                                "TriggerKindEnum": "accounting_sync.models.TriggerKind",
                                "AuditKindEnum": "accounting_sync.audit.models.AuditKind"},
    }
