"""Creators of audit log rows; every unmasked view of personal data and every export calls one."""

from vipcare.core.models import AuditAction, AuditLogEntry


def _client_ip(request) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit_record(*, user, action: AuditAction, target=None, detail: dict | None = None, request=None) -> AuditLogEntry:
    return AuditLogEntry.objects.create(
        user=user if (user is not None and user.is_authenticated) else None,
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        detail=detail or {},
        ip_address=_client_ip(request),
    )
