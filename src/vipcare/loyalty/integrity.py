"""`check ledgers`: prove every points and stored-value account against its entries and lots.

Aggregates run in the database (one grouped query per rule), so the check reads each table once.
"""

import dataclasses
from collections import defaultdict

from django.db.models import Count, Sum

from vipcare.loyalty.models import PointsAccount, PointsEntry, PointsLot
from vipcare.wallet.models import WalletAccount, WalletEntry


@dataclasses.dataclass(frozen=True)
class Violation:
    ledger: str  # "points" or "wallet"
    account_id: int
    member_id: int
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.ledger} account {self.account_id} (member {self.member_id}): {self.rule}: {self.detail}"


@dataclasses.dataclass
class Report:
    points_accounts: int = 0
    wallet_accounts: int = 0
    points_entries: int = 0
    wallet_entries: int = 0
    points_lots: int = 0
    refund_shortfall_points: int = 0
    violations: list[Violation] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations


def _sums(queryset, group: str, **aggregates) -> dict:
    return {row[group]: row for row in queryset.values(group).annotate(**aggregates)}


def check_points(report: Report) -> None:
    entries = _sums(PointsEntry.objects, "account_id", d=Sum("delta"), p=Sum("pending_delta"), n=Count("pk"))
    lots = defaultdict(lambda: {True: 0, False: 0})
    for row in PointsLot.objects.values("account_id", "matured").annotate(r=Sum("remaining")):
        lots[row["account_id"]][row["matured"]] = row["r"] or 0
    report.points_lots = PointsLot.objects.count()
    report.refund_shortfall_points = PointsEntry.objects.aggregate(s=Sum("shortfall", default=0))["s"]
    report.points_entries = sum(e["n"] for e in entries.values())
    for account in PointsAccount.objects.order_by("pk").values("pk", "member_id", "balance", "pending"):
        report.points_accounts += 1

        def bad(rule: str, detail: str, account=account) -> None:
            report.violations.append(Violation("points", account["pk"], account["member_id"], rule, detail))

        e = entries.get(account["pk"], {"d": 0, "p": 0})
        if account["balance"] != (e["d"] or 0):
            bad("balance != sum of entries", f"balance {account['balance']}, entries sum to {e['d'] or 0}")
        if account["pending"] != (e["p"] or 0):
            bad("pending != sum of entries", f"pending {account['pending']}, entries sum to {e['p'] or 0}")
        if account["balance"] < 0 or account["pending"] < 0:
            bad("negative balance", f"balance {account['balance']}, pending {account['pending']}")
        lot = lots[account["pk"]]
        if lot[True] != account["balance"]:
            bad("spendable lots != balance", f"lots hold {lot[True]}, balance {account['balance']}")
        if lot[False] != account["pending"]:
            bad("pending lots != pending", f"pending lots hold {lot[False]}, pending {account['pending']}")
    for row in PointsLot.objects.raw(
        "SELECT l.id, l.account_id, l.points, l.remaining, a.member_id FROM loyalty_pointslot l "
        "JOIN loyalty_pointsaccount a ON a.id = l.account_id WHERE l.remaining < 0 OR l.remaining > l.points"
    ):
        report.violations.append(Violation("points", row.account_id, row.member_id, "lot out of range",
                                           f"lot {row.pk}: {row.remaining} left of {row.points}"))
    _duplicate_keys(report, "points", PointsEntry)


def check_wallet(report: Report) -> None:
    entries = _sums(WalletEntry.objects, "account_id", p=Sum("principal_delta"), b=Sum("bonus_delta"), n=Count("pk"))
    report.wallet_entries = sum(e["n"] for e in entries.values())
    for account in WalletAccount.objects.order_by("pk").values("pk", "member_id", "principal_fen", "bonus_fen"):
        report.wallet_accounts += 1
        e = entries.get(account["pk"], {"p": 0, "b": 0})
        for field, key in (("principal_fen", "p"), ("bonus_fen", "b")):
            if account[field] != (e[key] or 0):
                report.violations.append(Violation("wallet", account["pk"], account["member_id"],
                                                   f"{field} != sum of entries",
                                                   f"{account[field]} cached, entries sum to {e[key] or 0}"))
            if account[field] < 0:
                report.violations.append(Violation("wallet", account["pk"], account["member_id"], "negative balance",
                                                   f"{field} {account[field]}"))
    _duplicate_keys(report, "wallet", WalletEntry)


def _duplicate_keys(report: Report, ledger: str, model) -> None:
    for row in (model.objects.values("account_id", "account__member_id", "idempotency_key")
                .annotate(n=Count("pk")).filter(n__gt=1)):
        report.violations.append(Violation(ledger, row["account_id"], row["account__member_id"],
                                           "idempotency key used twice",
                                           f"{row['idempotency_key']!r} on {row['n']} entries"))


def check_ledgers() -> Report:
    report = Report()
    check_points(report)
    check_wallet(report)
    return report
