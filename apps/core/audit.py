"""Audit log: who changed what, when, in the same transaction as the change (issue 19).

How it works
    PostgreSQL triggers on every audited table (``AUDITED_TABLES``; installed after each ``migrate``
    by ``install_triggers``) write one ``AuditEntry`` per changed row: the operation, the before/after
    values of the columns that changed (secret columns masked, bookkeeping columns such as
    ``updated_at`` ignored), the owner and property the row belongs to, and the actor. Because the
    database writes it, nothing escapes: services, admin actions, ``QuerySet.update()``, raw SQL.

Who
    The actor lives in a context variable (``acting``): the web middleware sets the signed-in user (or
    the guest pages / a webhook), the API authentication the API token, the guest portal the guest
    link, channel code the connection, Celery tasks the task; anything else is the ``system`` process
    (e.g. a management command). A database execute-wrapper copies it, with the request/correlation
    id, into the session setting ``pms.actor`` right before every writing statement, so the trigger
    reads it. A row changed outside the app (psql) is recorded with actor kind ``database``.

Immutable
    Another trigger refuses UPDATE and DELETE of audit entries, except the GDPR erase, which redacts a
    guest's personal data inside them (``redacting()`` sets ``pms.audit_redact`` for its transaction).
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
import sys
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

from django.db import connection as default_connection

#: The current actor: {"kind": user|api_token|guest_link|guest|channel|system, "label": ..., ids...}
actor_var: ContextVar[dict[str, Any] | None] = ContextVar("pms_audit_actor", default=None)

ACTOR_KINDS = ("user", "api_token", "guest_link", "guest", "channel", "system", "database")

# Owner and property of a row, as SQL over the row as jsonb ($1): (owner_id, property_id).
_VIA_PROPERTY = "SELECT p.owner_id, p.id FROM properties_property p WHERE p.id = ($1->>'property_id')::bigint"
_VIA_BOOKING = (
    "SELECT p.owner_id, p.id FROM bookings_booking b JOIN properties_property p ON p.id = b.property_id "
    "WHERE b.id = ($1->>'booking_id')::bigint"
)
AUDITED_TABLES: dict[str, str] = {
    "properties_property": "SELECT ($1->>'owner_id')::bigint, ($1->>'id')::bigint",
    "properties_propertyphoto": _VIA_PROPERTY,
    "availability_availabilityblock": _VIA_PROPERTY,
    "availability_pricingrule": _VIA_PROPERTY,
    "bookings_guest": "SELECT ($1->>'owner_id')::bigint, NULL::bigint",
    "bookings_booking": _VIA_PROPERTY,
    "payments_payment": _VIA_BOOKING,
    "payments_refund": _VIA_BOOKING,
    "channels_channelconnection": _VIA_PROPERTY,
    "storefront_review": _VIA_BOOKING,
    "api_apitoken": "SELECT ($1->>'user_id')::bigint, NULL::bigint",
    "auth_user": "SELECT ($1->>'id')::bigint, NULL::bigint",
    # co-host sharing (django-guardian): the property's owner
    "guardian_userobjectpermission": (
        "SELECT p.owner_id, p.id FROM properties_property p JOIN django_content_type ct "
        "ON ct.app_label = 'properties' AND ct.model = 'property' "
        "WHERE ct.id = ($1->>'content_type_id')::int AND p.id::text = $1->>'object_pk'"
    ),
}
#: Columns never recorded (bookkeeping that changes on reads or every save).
IGNORED_COLUMNS = ("updated_at", "last_used_at", "last_login")
#: Columns whose values are masked: only the fact that they changed is recorded.
SECRET_COLUMNS_RE = r"(secret|password|key_hash|_encrypted$|^access_token$|^refresh_token$)"  # noqa: S105 - a column-name pattern

TRIGGER_FUNCTION = rf"""
CREATE OR REPLACE FUNCTION pms_audit_row() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  old_row jsonb := CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END;
  new_row jsonb := CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END;
  the_row jsonb := coalesce(new_row, old_row);
  before_values jsonb := '{{}}'::jsonb;
  after_values jsonb := '{{}}'::jsonb;
  k text; ov jsonb; nv jsonb;
  raw text := current_setting('pms.actor', true);
  actor jsonb;
  row_owner bigint; row_property bigint;
BEGIN
  IF current_setting('pms.audit_off', true) = 'on' THEN RETURN NULL; END IF;
  FOR k IN SELECT jsonb_object_keys(the_row) LOOP
    IF k = ANY(ARRAY{list(IGNORED_COLUMNS)!r}::text[]) THEN CONTINUE; END IF;
    ov := old_row -> k; nv := new_row -> k;
    IF TG_OP = 'UPDATE' AND ov IS NOT DISTINCT FROM nv THEN CONTINUE; END IF;
    IF k ~ '{SECRET_COLUMNS_RE}' THEN
      IF ov IS NOT NULL AND ov NOT IN ('""'::jsonb, 'null'::jsonb) THEN ov := '"[secret]"'::jsonb; END IF;
      IF nv IS NOT NULL AND nv NOT IN ('""'::jsonb, 'null'::jsonb) THEN nv := '"[secret]"'::jsonb; END IF;
    END IF;
    IF TG_OP <> 'INSERT' THEN before_values := before_values || jsonb_build_object(k, ov); END IF;
    IF TG_OP <> 'DELETE' THEN after_values := after_values || jsonb_build_object(k, nv); END IF;
  END LOOP;
  IF TG_OP = 'UPDATE' AND after_values = '{{}}'::jsonb THEN RETURN NULL; END IF;
  EXECUTE TG_ARGV[0] INTO row_owner, row_property USING the_row;
  actor := CASE WHEN raw IS NULL OR raw = '' THEN '{{"kind": "database", "label": "outside the app"}}'::jsonb
                ELSE raw::jsonb END;
  INSERT INTO core_auditentry (
    created_at, table_name, object_id, operation, action, actor_kind, actor_label, actor_user_id,
    actor_token_id, actor_connection_id, request_id, owner_id, property_id, before, after
  ) VALUES (
    clock_timestamp(), TG_TABLE_NAME, coalesce(the_row->>'id', ''), lower(TG_OP),
    coalesce(actor->>'action', ''), coalesce(actor->>'kind', 'system'), coalesce(actor->>'label', ''),
    (actor->>'user_id')::bigint, (actor->>'token_id')::bigint, (actor->>'connection_id')::bigint,
    coalesce(actor->>'request_id', ''), row_owner, row_property, before_values, after_values
  );
  RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION pms_audit_immutable() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF current_setting('pms.audit_redact', true) = 'on' AND TG_OP = 'UPDATE' THEN RETURN NEW; END IF;
  RAISE EXCEPTION 'audit entries are immutable (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$fn$;
"""  # noqa: S608 - built from this module's constants only


def install_triggers(*, sender: Any = None, using: str = "default", **kwargs: Any) -> None:
    """Create or replace the audit functions and the triggers on every audited table (after migrate)."""
    from django.db import connections

    if sender is not None and getattr(sender, "name", "") != "apps.core":
        return  # post_migrate fires once per app, after all migrations: once is enough

    conn = connections[using]
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('core_auditentry') IS NOT NULL")
        if not cur.fetchone()[0]:
            return
        cur.execute(TRIGGER_FUNCTION)
        cur.execute(
            "CREATE OR REPLACE TRIGGER pms_audit_immutable BEFORE UPDATE OR DELETE ON core_auditentry "
            "FOR EACH ROW EXECUTE FUNCTION pms_audit_immutable()"
        )
        for table, owner_sql in AUDITED_TABLES.items():
            cur.execute("SELECT to_regclass(%s) IS NOT NULL", [table])
            if not cur.fetchone()[0]:
                continue
            arg = owner_sql.replace("'", "''")
            cur.execute(
                f'CREATE OR REPLACE TRIGGER pms_audit AFTER INSERT OR UPDATE OR DELETE ON "{table}" '  # noqa: S608
                f"FOR EACH ROW EXECUTE FUNCTION pms_audit_row('{arg}')"
            )


# --- the actor ---------------------------------------------------------------------------------------


def _process_label() -> str:
    argv = [a for a in sys.argv[:3] if not a.startswith("-")]
    name = " ".join(a.rsplit("/", 1)[-1] for a in argv) or "python"
    return f"process {name}"[:200]


def current_actor() -> dict[str, Any]:
    return actor_var.get() or {"kind": "system", "label": _process_label()}


def set_actor(kind: str, label: str, **ids: Any) -> None:
    """Replace the current actor (for the rest of this request/task)."""
    actor_var.set({"kind": kind, "label": label[:200], **{k: v for k, v in ids.items() if v is not None}})


@contextlib.contextmanager
def acting(kind: str, label: str, **ids: Any) -> Iterator[None]:
    """Changes made inside are attributed to this actor."""
    token = actor_var.set({"kind": kind, "label": label[:200], **{k: v for k, v in ids.items() if v is not None}})
    try:
        yield
    finally:
        actor_var.reset(token)


@contextlib.contextmanager
def action(name: str) -> Iterator[None]:
    """Name the business action (e.g. ``gdpr.erase``) on the entries written inside."""
    token = actor_var.set({**current_actor(), "action": name})
    try:
        yield
    finally:
        actor_var.reset(token)


def actor_from(build: Callable[[dict[str, Any]], dict[str, Any] | None]) -> Callable:
    """Decorator for keyword-only services: ``build(kwargs)`` returns the actor for the call."""

    def decorate(func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            spec = build(kwargs)
            if not spec:
                return func(*args, **kwargs)
            outer = actor_var.get()
            if outer and outer.get("kind") in ("user", "api_token"):  # e.g. an owner's "import now"
                spec = {**spec, "label": f"{spec['label']}, started by {outer.get('label', '')}"}
                spec.update({k: outer[k] for k in ("user_id", "token_id") if k in outer})
            with acting(**spec):
                return func(*args, **kwargs)

        return wrapper

    return decorate


def channel_actor(kwargs: dict[str, Any]) -> dict[str, Any] | None:
    """For ``actor_from``: the channel connection passed as ``connection`` or ``connection_id``."""
    connection = kwargs.get("connection")
    if connection is not None:
        return {
            "kind": "channel",
            "label": f"channel connection {connection.pk} ({getattr(connection, 'platform', '')})",
            "connection_id": connection.pk,
        }
    if kwargs.get("connection_id") is not None:
        cid = kwargs["connection_id"]
        return {"kind": "channel", "label": f"channel connection {cid}", "connection_id": cid}
    return None


def _actor_json() -> str:
    from apps.core.observability import current_request_id, task_id_var

    actor = dict(current_actor())
    rid = current_request_id() or task_id_var.get()
    if rid:
        actor["request_id"] = rid
    return json.dumps(actor, default=str, sort_keys=True)


_WRITE_SQL = re.compile(r"^\s*(INSERT|UPDATE|DELETE|WITH|MERGE|COPY)\b", re.IGNORECASE)


def _execute_wrapper(execute, sql, params, many, context):  # noqa: ANN001, ANN202 - Django's signature
    """Before a writing statement, tell the session who acts (in the same transaction as the write,
    so a rollback cannot leave a stale actor behind)."""
    if isinstance(sql, str) and _WRITE_SQL.match(sql):
        # Django's error classes (a lost connection is django.db.OperationalError, as for any query)
        with context["connection"].wrap_database_errors:
            context["cursor"].cursor.execute("SELECT set_config('pms.actor', %s, false)", [_actor_json()])
    return execute(sql, params, many, context)


def install_execute_wrapper(*, connection: Any = None, **kwargs: Any) -> None:
    """``connection_created`` receiver: add the wrapper to the connection once."""
    conn = connection or default_connection
    if _execute_wrapper not in conn.execute_wrappers:
        conn.execute_wrappers.append(_execute_wrapper)


@contextlib.contextmanager
def redacting() -> Iterator[None]:
    """Allow redacting audit entries in the current transaction (GDPR erase only)."""
    with default_connection.cursor() as cur:
        cur.execute("SELECT set_config('pms.audit_redact', 'on', true)")
    try:
        yield
    finally:
        with default_connection.cursor() as cur:
            cur.execute("SELECT set_config('pms.audit_redact', 'off', true)")


# --- where the actor comes from ---------------------------------------------------------------------


class AuditActorMiddleware:
    """After authentication: the signed-in user, else the guest pages or the webhook that called.

    The API's token authentication and the guest portal refine it (``set_actor``) once they know more.
    """

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        token = actor_var.set(self._actor(request))
        try:
            return self.get_response(request)
        finally:
            actor_var.reset(token)

    @staticmethod
    def _actor(request: Any) -> dict[str, Any]:
        path = request.path
        if path.startswith("/webhooks/"):
            platform = path.strip("/").split("/")[-1][:40]
            return {"kind": "channel", "label": f"{platform} webhook"}
        if path.startswith("/payments/stripe/webhook"):
            return {"kind": "system", "label": "Stripe webhook"}
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return {"kind": "user", "label": user.get_username(), "user_id": user.pk}
        return {"kind": "guest", "label": "guest pages" if not path.startswith("/api/") else "anonymous API"}


try:
    from celery import signals as _celery_signals
except ImportError:  # pragma: no cover
    _celery_signals = None

if _celery_signals is not None:
    TASK_ACTOR_HEADER = "pms_actor"

    @_celery_signals.before_task_publish.connect(weak=False)
    def _propagate_actor(headers: dict | None = None, **kwargs: Any) -> None:
        actor = actor_var.get()
        if actor and headers is not None:
            headers.setdefault(TASK_ACTOR_HEADER, json.dumps(actor, default=str))

    @_celery_signals.task_prerun.connect(weak=False)
    def _task_actor_enter(task: Any = None, **kwargs: Any) -> None:
        req = getattr(task, "request", None)
        if req is None:
            return
        name = getattr(task, "name", "task")
        headers = getattr(req, "headers", None) or {}
        raw = getattr(req, TASK_ACTOR_HEADER, None) or headers.get(TASK_ACTOR_HEADER)
        outer = actor_var.get()
        if outer is not None and getattr(req, "is_eager", False):
            return  # an eager task runs in its caller's context, as its caller
        try:
            caller = json.loads(raw) if raw else None
        except ValueError:
            caller = None
        if isinstance(caller, dict) and caller.get("kind") in ACTOR_KINDS:
            actor = {**caller, "label": f"{caller.get('label', '')} via task {name}"[:200]}
        else:
            actor = {"kind": "system", "label": f"task {name}"}
        req._pms_audit_token = actor_var.set(actor)

    @_celery_signals.task_postrun.connect(weak=False)
    def _task_actor_exit(task: Any = None, **kwargs: Any) -> None:
        req = getattr(task, "request", None)
        token = getattr(req, "_pms_audit_token", None)
        if token is not None:
            req._pms_audit_token = None
            with contextlib.suppress(ValueError):
                actor_var.reset(token)


def record(
    *, action: str, table_name: str, object_id: str, owner_id: int | None = None, details: dict | None = None
) -> None:
    """An entry for something that changes no audited row (e.g. a GDPR export), with the current actor."""
    from django.utils import timezone

    from apps.core.observability import current_request_id, task_id_var

    from .models import AuditEntry

    actor = current_actor()
    AuditEntry.objects.create(
        created_at=timezone.now(),
        table_name=table_name,
        object_id=str(object_id)[:64],
        operation="event",
        action=action,
        actor_kind=actor.get("kind", "system"),
        actor_label=str(actor.get("label", ""))[:200],
        actor_user_id=actor.get("user_id"),
        actor_token_id=actor.get("token_id"),
        actor_connection_id=actor.get("connection_id"),
        request_id=(current_request_id() or task_id_var.get() or "")[:128],
        owner_id=owner_id,
        after=details or {},
    )
