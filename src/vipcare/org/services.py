"""The only code that changes organisation state: stores, staff accounts, API keys."""

import secrets

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from vipcare.core.audit import audit_record
from vipcare.core.models import AuditAction
from vipcare.org.choices import Role
from vipcare.org.models import ApiKey, Organisation, Staff, Store


@transaction.atomic
def staff_create(
    *,
    organisation: Organisation,
    username: str,
    password: str,
    name: str,
    role: Role | str,
    staff_no: str,
    stores: list[Store] | None = None,
) -> Staff:
    role = Role(role)
    user_model = get_user_model()
    if user_model.objects.filter(username=username).exists():
        raise ValueError(f"username {username!r} is taken")
    user = user_model.objects.create_user(
        username=username,
        password=password,
        is_staff=role == Role.ADMIN,  # only administrators use the Django admin
        is_superuser=role == Role.ADMIN,
    )
    staff = Staff.objects.create(user=user, organisation=organisation, staff_no=staff_no, name=name, role=role)
    if stores:
        staff.stores.set(stores)
    return staff


@transaction.atomic
def api_key_issue(*, store: Store, name: str, issued_by=None) -> tuple[ApiKey, str]:
    """A new key for a till of `store`. Returns the row and the raw key, which is never stored."""
    raw = "vc_" + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(store=store, name=name, prefix=raw[:10], key_hash=ApiKey.hash_key(raw))
    audit_record(user=issued_by, action=AuditAction.API_KEY, target=key, detail={"store": store.code})
    return key, raw


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, revoked_by=None, request=None) -> ApiKey:
    """Refuse the key from now on (401). Revoking twice keeps the first time."""
    api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        audit_record(user=revoked_by, action=AuditAction.REVOKE_API_KEY, target=api_key, request=request,
                     detail={"store": api_key.store.code})
    return api_key
