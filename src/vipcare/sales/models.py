from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from vipcare.sales.choices import ImportKind, ImportStatus, SaleSource


class Sale(models.Model):
    """A member's purchase in one store: the receipt (小票). Amounts are integer fen."""

    # No single-column indexes on store and member: the composite indexes below start with
    # them and serve those lookups, and every extra index slows the bulk import down.
    store = models.ForeignKey(
        "org.Store", on_delete=models.PROTECT, related_name="sales", verbose_name=_("store"), db_index=False
    )
    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="sales", verbose_name=_("member"), db_index=False
    )
    receipt_no = models.CharField(_("receipt number"), max_length=64)
    sold_at = models.DateTimeField(_("time"))
    total_fen = models.BigIntegerField(_("total (fen)"))
    item_count = models.PositiveIntegerField(_("items"), default=0)
    staff = models.ForeignKey(
        "org.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("served by")
    )
    source = models.CharField(_("source"), max_length=10, choices=SaleSource.choices, default=SaleSource.POS)
    import_batch = models.ForeignKey("sales.ImportBatch", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("sale")
        verbose_name_plural = _("sales")
        ordering = ["-sold_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["store", "receipt_no"], name="sale_receipt_once_per_store")]
        indexes = [models.Index(fields=["member", "sold_at"]), models.Index(fields=["store", "sold_at"])]

    def __str__(self) -> str:
        return f"{self.store_id}/{self.receipt_no}"


class SaleLine(models.Model):
    """One item of a sale. Member, store and time are repeated here so analytics can read the
    lines alone, and so the table can be distributed by member."""

    sale = models.ForeignKey(Sale, on_delete=models.CASCADE, related_name="lines")
    # served by the (member, sold_at) index below
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+", db_index=False)
    store = models.ForeignKey("org.Store", on_delete=models.PROTECT, related_name="+")
    sold_at = models.DateTimeField(_("time"))
    brand = models.CharField(_("brand"), max_length=100, blank=True)
    sku = models.CharField(_("style / SKU"), max_length=64, blank=True)
    category = models.CharField(_("category"), max_length=50, blank=True)
    unit_price_fen = models.BigIntegerField(_("unit price (fen)"))
    quantity = models.IntegerField(_("quantity"))
    discount_fen = models.BigIntegerField(_("discount (fen)"), default=0)
    amount_fen = models.BigIntegerField(_("amount (fen)"))  # unit price × quantity − discount

    class Meta:
        verbose_name = _("sale line")
        verbose_name_plural = _("sale lines")
        indexes = [models.Index(fields=["member", "sold_at"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="sale_line_quantity_positive"),
            models.CheckConstraint(condition=models.Q(unit_price_fen__gte=0), name="sale_line_price_not_negative"),
            models.CheckConstraint(condition=models.Q(amount_fen__gte=0), name="sale_line_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.sale_id}: {self.sku or self.brand} × {self.quantity}"


class Refund(models.Model):
    """Goods returned against a sale, in whole or in part."""

    sale = models.ForeignKey(Sale, on_delete=models.PROTECT, related_name="refunds")
    store = models.ForeignKey("org.Store", on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="refunds")
    refund_no = models.CharField(_("refund number"), max_length=64)
    refunded_at = models.DateTimeField(_("time"))
    amount_fen = models.BigIntegerField(_("amount (fen)"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=SaleSource.choices, default=SaleSource.POS)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["-refunded_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["store", "refund_no"], name="refund_number_once_per_store")]
        indexes = [models.Index(fields=["member", "refunded_at"])]

    def __str__(self) -> str:
        return f"{self.store_id}/{self.refund_no}"


class RefundLine(models.Model):
    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="lines")
    sale_line = models.ForeignKey(SaleLine, on_delete=models.PROTECT, related_name="refund_lines")
    quantity = models.IntegerField(_("quantity"))
    amount_fen = models.BigIntegerField(_("amount (fen)"))

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(quantity__gt=0), name="refund_line_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.refund_id}: line {self.sale_line_id} × {self.quantity}"


class ImportBatch(models.Model):
    """One run of a file import; written whole or not at all."""

    kind = models.CharField(_("kind"), max_length=10, choices=ImportKind.choices)
    file_name = models.CharField(_("file"), max_length=255)
    file_sha256 = models.CharField(max_length=64, db_index=True)
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=ImportStatus.choices)
    rows_total = models.PositiveBigIntegerField(_("rows read"), default=0)
    rows_written = models.PositiveBigIntegerField(_("rows written"), default=0)
    rows_skipped = models.PositiveBigIntegerField(_("rows already present"), default=0)
    rows_rejected = models.PositiveBigIntegerField(_("rows rejected"), default=0)
    errors = models.JSONField(_("rejected rows"), default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.file_name} ({self.status})"
