from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from vipcare.analytics.choices import Engine, Lifecycle, Matrix, Pyramid, RefreshStatus, Strategy, ValueCurve


class AnalyticsRefresh(models.Model):
    """One run of the analytics as of a date: fitted parameters, and the rows of every member.

    Rows are written while the refresh is `building`; readers only see the `is_current` refresh,
    which is switched in one transaction (see services.analytics_refresh).
    """

    as_of = models.DateField(_("as of"))
    engine = models.CharField(_("engine"), max_length=10, choices=Engine.choices)
    status = models.CharField(_("status"), max_length=10, choices=RefreshStatus.choices,
                              default=RefreshStatus.BUILDING)
    is_current = models.BooleanField(_("current"), default=False)
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    member_count = models.PositiveIntegerField(_("members"), default=0)
    fact_count = models.PositiveBigIntegerField(_("sale facts read"), default=0)
    parameters = models.JSONField(_("fitted parameters"), default=dict, blank=True)
    rules = models.JSONField(_("rules"), default=dict, blank=True)
    timings = models.JSONField(_("timings (s)"), default=dict, blank=True)

    class Meta:
        verbose_name = _("analytics refresh")
        verbose_name_plural = _("analytics refreshes")
        ordering = ["-as_of", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["is_current"], condition=Q(is_current=True), name="analytics_one_current"),
            models.UniqueConstraint(fields=["as_of"], condition=Q(status="done"), name="analytics_one_done_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.as_of} ({self.engine})"


class MemberAnalytics(models.Model):
    """A member's features, scores and labels in one refresh. Money in fen."""

    # no index of its own: the unique (refresh, member) constraint's index serves look-ups by refresh,
    # and a second index on a million rows per refresh costs ~10 % of writing them
    refresh = models.ForeignKey(AnalyticsRefresh, on_delete=models.CASCADE, related_name="rows", db_index=False)
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+", db_index=False)
    # features
    visit_days = models.PositiveIntegerField(_("purchase days"))
    recency_days = models.IntegerField(_("days since last purchase"), null=True)
    tenure_days = models.IntegerField(_("days since first purchase"), null=True)
    enrolled_days = models.IntegerField(_("days since enrolment"))
    spend_fen = models.BigIntegerField(_("net spend"))
    spend_12m_fen = models.BigIntegerField(_("net spend, last 12 months"))
    visits_12m = models.PositiveIntegerField(_("purchase days, last 12 months"))
    visits_prev_12m = models.PositiveIntegerField(_("purchase days, the 12 months before"))
    visits_recent = models.PositiveIntegerField(_("purchase days, recent window"))
    usual_visits = models.FloatField(_("usual purchase days per window"))
    spend_recent_fen = models.BigIntegerField(_("spend, recent window"))
    usual_spend_fen = models.BigIntegerField(_("usual spend per window"))
    # scores and model outputs
    rfm_r = models.PositiveSmallIntegerField("R")
    rfm_f = models.PositiveSmallIntegerField("F")
    rfm_m = models.PositiveSmallIntegerField("M")
    current_score = models.PositiveSmallIntegerField(_("current value score"))
    potential_score = models.PositiveSmallIntegerField(_("potential value score"))
    p_alive = models.FloatField(_("probability still active"), null=True)
    expected_90 = models.FloatField(_("expected purchases, 90 days"), null=True)
    expected_365 = models.FloatField(_("expected purchases, 365 days"), null=True)
    expected_spend_fen = models.BigIntegerField(_("expected spend per purchase"), null=True)
    clv_fen = models.BigIntegerField(_("lifetime value"), null=True)
    # labels
    lifecycle = models.CharField(_("lifecycle"), max_length=10, choices=Lifecycle.choices)
    pyramid = models.CharField(_("pyramid"), max_length=1, choices=Pyramid.choices)
    matrix = models.CharField(_("customer matrix"), max_length=10, choices=Matrix.choices)
    value_curve = models.CharField(_("value curve"), max_length=10, choices=ValueCurve.choices)
    strategy = models.CharField(_("strategy"), max_length=20, choices=Strategy.choices)
    falling_off = models.BooleanField(_("falling off"), default=False)

    class Meta:
        verbose_name = _("member analytics")
        verbose_name_plural = _("member analytics")
        constraints = [models.UniqueConstraint(fields=["refresh", "member"], name="analytics_member_once_per_refresh")]
        indexes = [models.Index(fields=["member", "refresh"])]

    def __str__(self) -> str:
        return f"{self.member_id} @ {self.refresh_id}"

    @property
    def rfm(self) -> str:
        return f"{self.rfm_r}{self.rfm_f}{self.rfm_m}"
