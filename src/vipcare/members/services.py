"""The only code that changes members: enrolment, updates, consent, merging duplicates."""

import datetime
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from vipcare.core import crypto
from vipcare.core.audit import audit_record
from vipcare.core.models import AuditAction
from vipcare.members import birthdays
from vipcare.members.choices import BirthdayCalendar, MemberStatus
from vipcare.members.completeness import completeness
from vipcare.members.models import SOFT_ARCHIVE_FIELDS, Member, MemberFieldDefinition

# Fields a service caller may set on a member.
EDITABLE_FIELDS = {
    "name", "gender", "ethnicity", "birthday", "birthday_calendar", "phone", "email", "address", "id_number",
    "size_top", "size_bottom", "size_shoe", "extra", "home_store", "registered_by", "account_manager",
    "consent_sms", "consent_phone", "consent_wechat", "consent_email", *SOFT_ARCHIVE_FIELDS,
}
CONSENT_FIELDS = ("consent_sms", "consent_phone", "consent_wechat", "consent_email")


def new_card_no() -> str:
    """A fresh 12-digit card number starting with 8 (so it never looks like a phone number)."""
    while True:
        card_no = "8" + "".join(secrets.choice("0123456789") for _ in range(11))
        if not Member.objects.filter(card_no=card_no).exists():
            return card_no


def _extra_keys() -> list[str]:
    return list(MemberFieldDefinition.objects.filter(counts_for_completeness=True).values_list("key", flat=True))


def member_refresh_derived(member: Member, *, extra_keys: list[str] | None = None, today=None) -> None:
    """Recompute the blind indexes and completeness scores from the plain values (no save)."""
    member.phone_index = crypto.phone_index(member.phone) if member.phone else ""
    member.id_number_index = (
        crypto.blind_index("id_number", member.id_number.strip().upper()) if member.id_number else ""
    )
    member.birthday_key = birthdays.birthday_key(member.birthday, member.birthday_calendar)
    keys = _extra_keys() if extra_keys is None else extra_keys
    values = {f: getattr(member, f) for f in ["name", "gender", "birthday", "phone", "email", "address",
                                              "size_top", "size_bottom", "size_shoe", *SOFT_ARCHIVE_FIELDS]}
    values.update({k: (member.extra or {}).get(k) for k in keys})
    member.completeness_quantity, member.completeness_quality = completeness(
        values, SOFT_ARCHIVE_FIELDS, keys, today or timezone.localdate()
    )


def member_validate(member: Member) -> None:
    """The archive rules a member must meet before it is saved; ValidationError names each field."""
    errors = {}
    if member.phone:
        try:
            crypto.normalise_phone(member.phone)
        except ValueError:
            errors["phone"] = "not a phone number"
    if member.birthday and member.birthday > timezone.localdate():
        errors["birthday"] = "a birthday cannot be in the future"
    if member.birthday_calendar not in BirthdayCalendar.values:
        errors["birthday_calendar"] = "must be solar or lunar"
    if not (member.name or "").strip():
        errors["name"] = "a member needs a name"
    definitions = {d.key: d for d in MemberFieldDefinition.objects.all()}
    for key, value in (member.extra or {}).items():
        definition = definitions.get(key)
        if definition is None:
            errors[f"extra.{key}"] = "no such extra field is defined"
        elif definition.field_type == "choice" and value and value not in definition.choice_list():
            errors[f"extra.{key}"] = f"must be one of {definition.choice_list()}"
        elif definition.field_type == "number" and value not in (None, ""):
            try:
                float(value)
            except (TypeError, ValueError):
                errors[f"extra.{key}"] = "must be a number"
        elif definition.field_type == "date" and value:
            try:
                datetime.date.fromisoformat(str(value))
            except ValueError:
                errors[f"extra.{key}"] = "must be a date YYYY-MM-DD"
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def member_enroll(
    *, name: str, card_no: str | None = None, enrolled_at=None, source: str = "staff", **fields
) -> Member:
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError({f: "not a member field" for f in unknown})
    if card_no and Member.objects.filter(card_no=card_no).exists():
        raise ValidationError({"card_no": "this card number is already taken"})
    member = Member(name=name.strip(), card_no=card_no or new_card_no(), enrolled_at=enrolled_at or timezone.now(),
                    source=source, **fields)
    if any(fields.get(f) for f in CONSENT_FIELDS):
        member.consent_updated_at = timezone.now()
    member_validate(member)
    member_refresh_derived(member)
    member.save()
    return member


@transaction.atomic
def member_update(*, member: Member, changed_by=None, request=None, **fields) -> Member:
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError({f: "not a member field" for f in unknown})
    member = Member.objects.select_for_update().get(pk=member.pk)
    if member.status != MemberStatus.ACTIVE:
        raise ValidationError("a merged member cannot be changed; change the member it was merged into")
    changed = sorted(f for f, v in fields.items() if getattr(member, f) != v)
    for field, value in fields.items():
        setattr(member, field, value)
    if any(f in CONSENT_FIELDS for f in changed):
        member.consent_updated_at = timezone.now()
    member_validate(member)
    member_refresh_derived(member)
    member.save()
    if changed:  # field names only: the log must not become a copy of the personal data
        audit_record(user=changed_by, action=AuditAction.UPDATE_MEMBER, target=member, detail={"fields": changed},
                     request=request)
    return member


@transaction.atomic
def member_merge(*, keep: Member, duplicate: Member, merged_by=None, request=None) -> Member:
    """Fold `duplicate` (the same person on a second card) into `keep`, keeping all history.

    Every row of every app that points at the duplicate is moved to the kept member, blank
    archive fields of the kept member are filled from the duplicate, consent is kept only where
    both agreed (the stricter answer wins), and the duplicate stays as a merged tombstone so
    its card number still finds the member.
    """
    if keep.pk == duplicate.pk:
        raise ValidationError("a member cannot be merged into itself")
    # Lock both in primary-key order so two merges of the same pair cannot deadlock.
    locked = {m.pk: m for m in Member.objects.select_for_update().filter(pk__in=[keep.pk, duplicate.pk]).order_by("pk")}
    keep, duplicate = locked[keep.pk], locked[duplicate.pk]
    if MemberStatus.MERGED in (keep.status, duplicate.status):
        raise ValidationError("one of these members has already been merged")

    moved = {}
    for relation in Member._meta.get_fields(include_hidden=True):
        # every foreign key of any app that points at a member (reverse relations, hidden ones too)
        if not (relation.is_relation and relation.auto_created and not relation.concrete):
            continue
        if relation.related_model is Member or not relation.one_to_many:
            continue
        count = relation.related_model._default_manager.filter(**{relation.field.name: duplicate}).update(
            **{relation.field.name: keep}
        )
        if count:
            moved[relation.related_model._meta.label_lower] = count
    for hook in MERGE_HOOKS:  # denormalised member ids in other apps
        moved.update(hook(keep=keep, duplicate=duplicate) or {})

    for field in EDITABLE_FIELDS - {"extra", *CONSENT_FIELDS}:
        if getattr(keep, field) in (None, "", "U") and getattr(duplicate, field) not in (None, "", "U"):
            setattr(keep, field, getattr(duplicate, field))
    keep.extra = {**(duplicate.extra or {}), **(keep.extra or {})}
    for field in CONSENT_FIELDS:
        setattr(keep, field, getattr(keep, field) and getattr(duplicate, field))
    keep.enrolled_at = min(keep.enrolled_at, duplicate.enrolled_at)
    member_refresh_derived(keep)
    keep.save()

    duplicate.status = MemberStatus.MERGED
    duplicate.merged_into = keep
    duplicate.save(update_fields=["status", "merged_into", "updated_at"])
    audit_record(user=merged_by, action=AuditAction.MERGE_MEMBERS, target=keep, request=request,
                 detail={"duplicate_id": duplicate.pk, "duplicate_card_no": duplicate.card_no, "moved": moved})
    return keep


# Apps that keep a member id outside a foreign key register a hook here (see sales.apps).
MERGE_HOOKS: list = []
