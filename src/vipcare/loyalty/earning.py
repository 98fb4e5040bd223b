"""How many points a purchase earns — a pure function, so the till can preview it and tests can
prove it without a database.

Order of application, per sale line (all exact decimals, one rounding down at the end of the line):

1. base: the line's amount in yuan × points per yuan;
2. brand/category multiplier: the highest of the active rules matching the line (×1 if none —
   rules do not stack, so a "cosmetics ×3" and a "Lancôme ×2" give ×3, not ×6);
3. campaign multiplier: the highest of the campaigns running on the sale's local date and
   matching the line (×1 if none; double points seasons do not stack either);
4. the member's level multiplier (×1 without a level).

The sale earns the sum of its lines; a partial refund takes back what the refunded lines earned.
"""

import dataclasses
import datetime
from collections.abc import Iterable
from decimal import ROUND_FLOOR, Decimal

ONE = Decimal(1)


@dataclasses.dataclass(frozen=True)
class EarnLine:
    key: str  # the sale line's id (as text, it becomes a JSON key), or any label for a preview
    amount_fen: int
    brand: str = ""
    category: str = ""


@dataclasses.dataclass(frozen=True)
class Multiplier:
    multiplier: Decimal
    brand: str = ""
    category: str = ""

    def matches(self, line: EarnLine) -> bool:
        return (not self.brand or self.brand == line.brand) and (not self.category or self.category == line.category)


@dataclasses.dataclass(frozen=True)
class Campaign(Multiplier):
    starts_on: datetime.date = datetime.date.min
    ends_on: datetime.date = datetime.date.max

    def runs_on(self, day: datetime.date) -> bool:
        return self.starts_on <= day <= self.ends_on


@dataclasses.dataclass(frozen=True)
class EarnResult:
    total: int
    per_line: dict[str, int]


def _best(candidates: Iterable[Decimal]) -> Decimal:
    return max(candidates, default=ONE)


def points_for_line(line: EarnLine, *, sold_on: datetime.date, points_per_yuan: Decimal,
                    multipliers: Iterable[Multiplier] = (), campaigns: Iterable[Campaign] = (),
                    level_multiplier: Decimal = ONE) -> int:
    if line.amount_fen <= 0:
        return 0
    points = Decimal(line.amount_fen) / 100 * points_per_yuan
    points *= _best(m.multiplier for m in multipliers if m.matches(line))
    points *= _best(c.multiplier for c in campaigns if c.runs_on(sold_on) and c.matches(line))
    points *= level_multiplier
    return int(points.to_integral_value(rounding=ROUND_FLOOR))


def points_for_sale(*, lines: Iterable[EarnLine], sold_on: datetime.date, points_per_yuan: Decimal,
                    multipliers: Iterable[Multiplier] = (), campaigns: Iterable[Campaign] = (),
                    level_multiplier: Decimal = ONE) -> EarnResult:
    multipliers, campaigns = list(multipliers), list(campaigns)
    per_line = {
        str(line.key): points_for_line(line, sold_on=sold_on, points_per_yuan=points_per_yuan,
                                       multipliers=multipliers, campaigns=campaigns,
                                       level_multiplier=level_multiplier)
        for line in lines
    }
    return EarnResult(total=sum(per_line.values()), per_line=per_line)


def refund_claim(*, line_points: dict[str, int], line_amounts: dict[str, int], refunded: dict[str, int]) -> int:
    """Points to claim back, in total so far, when `refunded` (fen per line key) of the lines has
    been refunded: each line's points in proportion, rounded down, so a whole refund claims all."""
    claim = 0
    for key, points in line_points.items():
        amount = line_amounts.get(key, 0)
        back = min(refunded.get(key, 0), amount)
        if amount > 0 and back > 0:
            claim += points * back // amount
    return claim


def add_months(at: datetime.datetime, months: int) -> datetime.datetime:
    """Same day and time `months` later, the month's last day when it is shorter."""
    month0 = at.month - 1 + months
    year, month = at.year + month0 // 12, month0 % 12 + 1
    day = at.day
    while True:
        try:
            return at.replace(year=year, month=month, day=day)
        except ValueError:  # 31 March + 1 month: 30 April
            day -= 1
