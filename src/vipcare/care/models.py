"""Care: playbooks, the tasks and messages they write, and the maintenance record (维护记录)."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from vipcare.care.choices import (
    Action,
    Channel,
    ChurnReason,
    ComplaintKind,
    ComplaintStatus,
    ContactKind,
    GiftStatus,
    MessageStatus,
    OccasionKind,
    PlaybookKind,
    TaskOutcome,
    TaskStatus,
)

DEFAULT_SALES_WORDS = "新品\n促销\n折扣\n活动\n上市\n打折\n优惠\n特价\n满减\n清仓\n秒杀\n到店选购"


def default_caps() -> dict:
    # messages per member per channel in any 7 days
    return {"sms": 3, "wechat": 3, "email": 2}


class CareSettings(models.Model):
    """Deployment-wide message rules. One row (pk=1); see `selectors.care_settings()`."""

    sales_words = models.TextField(_("sales words (one per line)"), default=DEFAULT_SALES_WORDS,
                                   help_text=_("Care messages containing one of these are refused."))
    quiet_start = models.TimeField(_("quiet hours start"), default="21:00")
    quiet_end = models.TimeField(_("quiet hours end"), default="09:00")
    weekly_caps = models.JSONField(_("messages per member per channel in 7 days"), default=default_caps)
    complaint_response_hours = models.PositiveIntegerField(_("complaint response target (hours)"), default=24)
    max_attempts = models.PositiveSmallIntegerField(_("send attempts"), default=5)

    class Meta:
        verbose_name = _("care settings")
        verbose_name_plural = _("care settings")

    def __str__(self) -> str:
        return str(_("care settings"))

    def sales_word_list(self) -> list[str]:
        return [w.strip() for w in self.sales_words.splitlines() if w.strip()]


class Playbook(models.Model):
    """A rule that turns the calendar and members' state into tasks or messages."""

    kind = models.CharField(_("kind"), max_length=24, choices=PlaybookKind.choices, unique=True)
    name = models.CharField(_("name"), max_length=100)
    enabled = models.BooleanField(_("enabled"), default=True)
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.SMS)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    template = models.TextField(_("template"),
                                help_text=_("Django template: {{ salutation }}, {{ staff }}, {{ store }}…"))
    priority = models.PositiveSmallIntegerField(_("base priority"), default=50)

    class Meta:
        verbose_name = _("playbook")
        verbose_name_plural = _("playbooks")
        ordering = ["kind"]

    def __str__(self) -> str:
        return self.name


class Occasion(models.Model):
    """A VIP event or offer that VIPs are told about ahead of time."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=OccasionKind.choices, default=OccasionKind.EVENT)
    starts_on = models.DateField(_("starts on"))
    store = models.ForeignKey("org.Store", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                              verbose_name=_("store"))
    description = models.CharField(_("description"), max_length=200, blank=True)
    min_rank = models.PositiveSmallIntegerField(_("lowest level rank invited"), default=1)
    call_min_rank = models.PositiveSmallIntegerField(_("level rank that gets a personal call"), default=3)

    class Meta:
        verbose_name = _("VIP event or offer")
        verbose_name_plural = _("VIP events and offers")
        ordering = ["-starts_on"]

    def __str__(self) -> str:
        return self.name


class CareTask(models.Model):
    """Something a staff member should do for a member: a call, a gift, a visit."""

    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="care_tasks")
    assignee = models.ForeignKey("org.Staff", on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="care_tasks", verbose_name=_("assigned to"))
    playbook = models.ForeignKey(Playbook, on_delete=models.PROTECT, related_name="tasks", verbose_name=_("playbook"))
    occasion_key = models.CharField(max_length=64)
    due_on = models.DateField(_("due"), db_index=True)
    due_time = models.TimeField(_("due time"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200)
    script = models.TextField(_("suggested script"), blank=True)
    priority = models.PositiveSmallIntegerField(_("priority"), default=50)
    status = models.CharField(_("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    outcome = models.CharField(_("outcome"), max_length=10, choices=TaskOutcome.choices, blank=True)
    call_back_at = models.DateTimeField(_("call back at"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction (1–5)"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("care task")
        verbose_name_plural = _("care tasks")
        ordering = ["due_on", "-priority", "id"]
        constraints = [
            models.UniqueConstraint(fields=["playbook", "member", "occasion_key"], name="care_task_once_per_occasion"),
            models.CheckConstraint(condition=Q(satisfaction__isnull=True) | Q(satisfaction__gte=1, satisfaction__lte=5),
                                   name="care_task_satisfaction_1_to_5"),
        ]
        indexes = [models.Index(fields=["assignee", "status", "due_on"]), models.Index(fields=["member", "status"])]

    def __str__(self) -> str:
        return f"{self.member_id} {self.playbook_id} {self.occasion_key}"


class Message(models.Model):
    """One message to one member, in the outbox until it is sent.

    `dedupe_key` makes generation idempotent; `provider_ref` (a UUID) is handed to the gateway so
    a resend after a crash can be recognised as the same message.
    """

    # no index of its own: the (member, channel, scheduled_at) index serves it, and a festival day
    # adds a million rows to every index of this table
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="care_messages",
                               db_index=False)
    staff = models.ForeignKey("org.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    playbook = models.ForeignKey(Playbook, on_delete=models.PROTECT, null=True, blank=True, related_name="messages")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    template = models.TextField(_("template"), blank=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("message"))
    is_care = models.BooleanField(_("care message"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=MessageStatus.choices, default=MessageStatus.QUEUED)
    scheduled_at = models.DateTimeField(_("send at"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    provider_ref = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    provider_message_id = models.CharField(_("provider message id"), max_length=100, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    dedupe_key = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-scheduled_at", "-id"]
        indexes = [models.Index(fields=["status", "scheduled_at"]), models.Index(fields=["member", "channel",
                                                                                        "scheduled_at"])]

    def __str__(self) -> str:
        return f"{self.channel} → {self.member_id}: {self.body[:30]}"


class ContactRecord(models.Model):
    """The maintenance record (维护记录): every call, visit, message, gift, complaint and survey."""

    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="contact_records")
    staff = models.ForeignKey("org.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                              verbose_name=_("staff"))
    store = models.ForeignKey("org.Store", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    kind = models.CharField(_("kind"), max_length=10, choices=ContactKind.choices)
    at = models.DateTimeField(_("time"), db_index=True)
    summary = models.CharField(_("summary"), max_length=200)
    outcome = models.CharField(_("outcome"), max_length=10, choices=TaskOutcome.choices, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction (1–5)"), null=True, blank=True)
    task = models.OneToOneField(CareTask, on_delete=models.SET_NULL, null=True, blank=True, related_name="record")
    message = models.OneToOneField(Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="record")

    class Meta:
        verbose_name = _("contact record")
        verbose_name_plural = _("maintenance record")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["member", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d} {self.kind} {self.summary}"


class Complaint(models.Model):
    """A complaint or suggestion, with its response-time target, handling steps and resolution."""

    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="complaints")
    store = models.ForeignKey("org.Store", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                              verbose_name=_("store"))
    kind = models.CharField(_("kind"), max_length=10, choices=ComplaintKind.choices, default=ComplaintKind.COMPLAINT)
    description = models.TextField(_("description"))
    received_by = models.ForeignKey("org.Staff", on_delete=models.SET_NULL, null=True, related_name="+")
    received_at = models.DateTimeField(_("received at"))
    respond_by = models.DateTimeField(_("respond by"))
    first_response_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=ComplaintStatus.choices,
                              default=ComplaintStatus.OPEN)
    resolution = models.TextField(_("resolution"), blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.description[:30]}"


class ComplaintStep(models.Model):
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="steps")
    staff = models.ForeignKey("org.Staff", on_delete=models.SET_NULL, null=True, related_name="+")
    at = models.DateTimeField(_("time"))
    note = models.CharField(_("what was done"), max_length=300)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return self.note


class Survey(models.Model):
    """A short satisfaction survey after a complaint or a call."""

    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="surveys")
    staff = models.ForeignKey("org.Staff", on_delete=models.SET_NULL, null=True, related_name="+")
    complaint = models.ForeignKey(Complaint, on_delete=models.SET_NULL, null=True, blank=True, related_name="surveys")
    task = models.ForeignKey(CareTask, on_delete=models.SET_NULL, null=True, blank=True, related_name="surveys")
    score = models.PositiveSmallIntegerField(_("satisfaction (1–5)"))
    comment = models.CharField(_("comment"), max_length=300, blank=True)
    at = models.DateTimeField(_("time"))

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(score__gte=1, score__lte=5), name="survey_score_1_to_5")]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.score}"


class GiftItem(models.Model):
    """An item on the gift list (礼品清单)."""

    name = models.CharField(_("name"), max_length=100)
    cost_fen = models.BigIntegerField(_("cost (fen)"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("gift item")
        verbose_name_plural = _("gift list")

    def __str__(self) -> str:
        return self.name


class Gift(models.Model):
    """A gift for a member: chosen from the gift list, mailed, and the member told once it is sent."""

    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="gifts")
    item = models.ForeignKey(GiftItem, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    occasion_key = models.CharField(max_length=64)
    status = models.CharField(_("status"), max_length=10, choices=GiftStatus.choices, default=GiftStatus.PLANNED)
    task = models.OneToOneField(CareTask, on_delete=models.SET_NULL, null=True, blank=True, related_name="gift")
    tracking_no = models.CharField(_("tracking number"), max_length=64, blank=True)
    mailed_at = models.DateTimeField(_("mailed at"), null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "occasion_key"], name="gift_once_per_occasion")]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.occasion_key}"


class MemberChurn(models.Model):
    """A member marked lost, and why (staff turnover is the main cause the documents name)."""

    member = models.OneToOneField("members.Member", on_delete=models.PROTECT, related_name="churn")
    reason = models.CharField(_("reason"), max_length=16, choices=ChurnReason.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    marked_at = models.DateTimeField(_("marked at"))
    marked_by = models.ForeignKey("org.Staff", on_delete=models.SET_NULL, null=True, related_name="+")

    def __str__(self) -> str:
        return f"{self.member_id}: {self.reason}"
