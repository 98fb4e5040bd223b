"""What every ledger (points, stored value) does the same way; see docs/adr/0003-ledgers.md."""

from django.core.exceptions import ValidationError
from django.db import models


def lock_member_accounts(account_model: type[models.Model], member_ids) -> dict[int, models.Model]:
    """The members' accounts (created when missing), locked in primary-key order, so two services
    touching the same accounts can never deadlock."""
    ids = sorted(set(member_ids))
    locked = account_model._default_manager.select_for_update().filter(member_id__in=ids).order_by("pk")
    accounts = {a.member_id: a for a in locked}
    if len(accounts) < len(ids):  # a member's first entry: create the account, then lock them all
        for member_id in ids:
            account_model._default_manager.get_or_create(member_id=member_id)
        accounts = {a.member_id: a for a in locked.all()}
    return accounts


def entry_for_key(entry_model: type[models.Model], account, key: str, kind: str):
    """The entry an earlier request with this key made, or None. A key reused for another kind
    of operation is a client bug, and is refused rather than silently answered."""
    entry = entry_model._default_manager.filter(account=account, idempotency_key=key).first()
    if entry is not None and entry.kind != kind:
        raise ValidationError({"idempotency_key": f"already used for a {entry.kind} on this account"})
    return entry
