"""Demo members and their purchase history, built as database rows in memory, chunk by chunk.

A chunk is a pure function of (seed, chunk number): its own `random.Random`, member ids and
unique numbers derived from positions, no clock. So the same seed gives the same data whether
chunks are built one after the other or by several worker processes.

Rows are exactly what the services would write: personal data encrypted with the data key,
blind indexes and completeness computed by the same functions `member_refresh_derived` uses,
sale totals the sum of their lines, and each line carrying its sale's member, store and time.
Sale, line and refund ids are chunk-local here; the writer adds the chunk's id offset.
"""

import dataclasses
import datetime
import itertools
import math
import random
from bisect import bisect_left
from functools import lru_cache
from statistics import NormalDist

from vipcare.core import crypto
from vipcare.demo import catalogue, people, seasons
from vipcare.demo.organisation import Mall
from vipcare.members.completeness import completeness
from vipcare.members.models import SOFT_ARCHIVE_FIELDS

MEMBER_COLUMNS = [
    "id", "card_no", "name", "gender", "ethnicity", "birthday", "birthday_calendar", "birthday_key", "phone",
    "phone_index", "email", "address", "id_number", "id_number_index", "size_top", "size_bottom", "size_shoe",
    *SOFT_ARCHIVE_FIELDS, "extra", "consent_sms", "consent_phone", "consent_wechat", "consent_email",
    "consent_updated_at", "home_store_id", "registered_by_id", "account_manager_id", "enrolled_at", "source",
    "status", "merged_into_id", "completeness_quantity", "completeness_quality", "created_at", "updated_at",
]
SALE_COLUMNS = ["id", "store_id", "member_id", "receipt_no", "sold_at", "total_fen", "item_count", "staff_id",
                "source", "import_batch_id", "created_at"]
LINE_COLUMNS = ["id", "sale_id", "member_id", "store_id", "sold_at", "brand", "sku", "category", "unit_price_fen",
                "quantity", "discount_fen", "amount_fen"]
REFUND_COLUMNS = ["id", "sale_id", "store_id", "member_id", "refund_no", "refunded_at", "amount_fen", "reason",
                  "source", "created_at"]
REFUND_LINE_COLUMNS = ["id", "refund_id", "sale_line_id", "quantity", "amount_fen"]

# Share of visits by category for women, men and members whose gender is not recorded.
AFFINITY = {
    "F": {"fashion": 30, "cosmetics": 24, "jewellery": 7, "dining": 22, "kids": 8, "home": 5, "sports": 4},
    "M": {"fashion": 22, "cosmetics": 3, "jewellery": 4, "dining": 32, "kids": 8, "home": 6, "sports": 25},
    "U": {"fashion": 25, "cosmetics": 12, "jewellery": 5, "dining": 30, "kids": 8, "home": 8, "sports": 12},
}
# How often a member shops at their home store rather than elsewhere in the mall.
HOME_SHARE = {"jewellery": 0.12, "dining": 0.3}
VISITS_PER_YEAR = 10.0 # mean over members; lognormal, so a few come weekly and many twice a year
VISITS_SIGMA = 0.85
LAPSE_RATE = 0.3  # members who stop coming at some point of the period (yearly churn ~30%)
DORMANT_RATE = 0.06  # cards that never buy anything (休眠卡)
DUPLICATE_RATE = 0.006  # second cards with the same phone, for the merge screen
REFUND_RATE = 0.02
REFUND_REASONS = ["尺码不合适", "质量问题", "颜色不喜欢", "重复购买", "七天无理由退货"]
SALE_SOURCE = MEMBER_SOURCE = "demo"
_NORMAL = NormalDist()


@dataclasses.dataclass
class Plan:
    members: int
    years: int
    seed: int
    as_of: datetime.date
    chunk_size: int = 10_000
    extra_keys: list[str] = dataclasses.field(default_factory=list)

    @property
    def first_day(self) -> datetime.date:
        return self.as_of - datetime.timedelta(days=365 * self.years)

    @property
    def last_day(self) -> datetime.date:
        # The demo is loaded "this morning": history ends yesterday, so nothing lies in the future.
        return self.as_of - datetime.timedelta(days=1)

    @property
    def chunks(self) -> int:
        return math.ceil(self.members / self.chunk_size)


@dataclasses.dataclass
class Chunk:
    index: int
    members: list[tuple]
    sales: list[tuple]
    lines: list[tuple]
    refunds: list[tuple]
    refund_lines: list[tuple]
    spend_fen: int = 0


def _celebrated(birthday: datetime.date, calendar: str) -> tuple[str, int, int]:
    if calendar == "lunar":
        return ("L", *seasons.lunar_month_day(birthday))
    return "S", birthday.month, birthday.day


@lru_cache(maxsize=100_000)
def _birthday_key(birthday: datetime.date, calendar: str) -> str:
    """birthdays.birthday_key, with the lunar conversion from the fast table."""
    kind, month, day = _celebrated(birthday, calendar)
    return crypto.blind_index("birthday", f"{kind}-{month:02d}-{day:02d}")


def _celebration(birthday: datetime.date, calendar: str, year: int) -> datetime.date:
    return seasons.celebration_in(year, *_celebrated(birthday, calendar))


class Builder:
    """Builds chunks for one plan and mall; `to_db` turns a naive UTC datetime into a column value."""

    def __init__(self, plan: Plan, mall: Mall, *, to_db, extra_json, member_id_base: int):
        self.plan, self.mall, self.to_db = plan, mall, to_db
        self.extra_json = extra_json  # the database value of an empty `extra` ({})
        self.member_id_base = member_id_base
        n_days = (plan.last_day - plan.first_day).days + 1
        self.days = [plan.first_day + datetime.timedelta(days=i) for i in range(n_days)]
        weights, self.tags = seasons.day_weights(plan.first_day, plan.last_day)
        self.cum = list(itertools.accumulate(weights))
        # Local midnight (Asia/Shanghai, UTC+8 all year) of each day, as naive UTC.
        self.midnight = [datetime.datetime.combine(d, datetime.time()) - datetime.timedelta(hours=8) for d in self.days]
        self.by_category = {}
        for store in mall.stores:
            self.by_category.setdefault(store.category, []).append(store)
        self.category_choice = {}
        for gender, affinity in AFFINITY.items():
            for tag in ["", *seasons.FESTIVAL_BOOST]:
                boost = seasons.FESTIVAL_BOOST.get(tag, {})
                cats = [c for c in affinity if c in self.by_category]
                self.category_choice[gender, tag] = (cats, list(itertools.accumulate(
                    affinity[c] * boost.get(c, 1.0) for c in cats)))
        offsets = random.Random(f"vipcare-demo:{plan.seed}:numbers")
        self.phone_offset = offsets.randrange(100_000_000)
        self.card_offset = offsets.randrange(100_000_000_000)

    # -- members ---------------------------------------------------------------------------

    def _day_index(self, rng: random.Random, lo: int, hi: int) -> int:
        """A day between indexes lo and hi (inclusive), as busy days are more likely."""
        base = self.cum[lo - 1] if lo else 0.0
        return min(hi, bisect_left(self.cum, base + rng.random() * (self.cum[hi] - base)))

    def _time_of_day(self, rng: random.Random, category: str) -> int:
        """Seconds after local midnight when a purchase in this category happens."""
        if category == "dining" and rng.random() < 0.85:
            hour = rng.choice((11, 12, 12, 13)) if rng.random() < 0.5 else rng.choice((17, 18, 18, 19, 20))
        else:
            hour = rng.choices(range(10, 22), cum_weights=(3, 8, 14, 21, 29, 37, 45, 54, 63, 71, 77, 80))[0]
        return hour * 3600 + rng.randrange(3600)

    def build(self, index: int) -> Chunk:
        plan = self.plan
        rng = random.Random(f"vipcare-demo:{plan.seed}:chunk:{index}")
        first = index * plan.chunk_size
        count = min(plan.chunk_size, plan.members - first)
        chunk = Chunk(index, [], [], [], [], [])
        duplicates = set()
        if count >= 20:
            duplicates = set(rng.sample(range(count // 2, count), max(1, round(count * DUPLICATE_RATE))))
        originals = []
        for i in range(count):
            original = rng.choice(originals) if i in duplicates and originals else None
            person = self._member(rng, first + i, original)
            if original is None:
                originals.append(person)
            self._shop(rng, person, chunk)
            chunk.members.append(person["row"])
        return chunk

    def _member(self, rng: random.Random, k: int, original: dict | None) -> dict:
        plan, mall = self.plan, self.mall
        gender = original["gender"] if original else rng.choices("FMU", cum_weights=(62, 95, 100))[0]
        home = self._pick_store(rng, gender, "", home=True)
        if original and home.id == original["home"].id:
            home = self._pick_store(rng, gender, "", home=True)
        registrar = rng.choice(home.registrars)
        care = mall.diligence[registrar]  # how carefully the registering clerk fills the archive
        if original:
            care *= 0.5  # a second card is signed up in a hurry at another counter
        z_value, z_price = rng.gauss(0, 1), rng.gauss(0, 1)
        value_pct = _NORMAL.cdf(z_value)

        if original:
            name, phone, birthday = original["name"], original["phone"], original["birthday"]
            calendar = original["calendar"]
        else:
            name = people.full_name(rng, gender)
            if rng.random() < (1 - care) * 0.08:  # the clerk wrote down only "王女士"
                name = name[0] + ("女士" if gender == "F" else "先生")
            phone = people.mobile(rng, k, self.phone_offset)
            birthday = None
            if rng.random() < 0.5 + 0.45 * care:
                age = min(80, max(18, int(rng.gauss(38, 11))))
                birthday = plan.as_of - datetime.timedelta(days=365 * age + rng.randrange(365))
            calendar = "lunar" if birthday and rng.random() < (0.4 if birthday.year < 1975 else 0.15) else "solar"
        email = people.email(rng) if rng.random() < 0.1 + 0.35 * care else ""
        address, estate = people.address(rng, rng.random() < 0.4 + 0.6 * care) if rng.random() < 0.3 + 0.6 * care \
            else ("", rng.choice(catalogue.ESTATES))
        id_number = people.id_number(rng, birthday, gender) if birthday and rng.random() < 0.03 + 0.12 * care else ""
        female = gender != "M"
        sizes = ["", "", ""]
        if rng.random() < 0.15 + 0.65 * care:
            sizes = [rng.choice(catalogue.SIZES_TOP_F if female else catalogue.SIZES_TOP_M),
                     rng.choice(catalogue.SIZES_BOTTOM_F if female else catalogue.SIZES_BOTTOM_M),
                     rng.choice(catalogue.SHOES_F if female else catalogue.SHOES_M)]
        soft = {}
        for field in SOFT_ARCHIVE_FIELDS:
            roll = rng.random()
            if roll < 0.85 * care:
                soft[field] = estate if field == "residential_area" else rng.choice(catalogue.SOFT_VALUES[field])
            elif roll < 0.85 * care + 0.12 * (1 - care):
                soft[field] = rng.choice(catalogue.EMPTY_ANSWERS)
            else:
                soft[field] = ""
        consent = [rng.random() < 0.7, rng.random() < 0.45, rng.random() < 0.6, bool(email) and rng.random() < 0.4]
        manager = rng.choice(home.guides) if rng.random() < 0.2 + 0.7 * value_pct else None

        # When they joined: a third before the period, the rest during it, on busy days more often.
        last = len(self.days) - 1
        if original:
            lo = max(0, original["enrol_index"] + 1)
            enrol_index = self._day_index(rng, min(lo, last), last)
        elif rng.random() < 0.35:
            enrol_index = -rng.randrange(1, 4 * 365)
        else:
            enrol_index = self._day_index(rng, 0, last)
        enrolled = (self.midnight[0] + datetime.timedelta(days=enrol_index) if enrol_index < 0
                    else self.midnight[enrol_index]) + datetime.timedelta(seconds=self._time_of_day(rng, home.category))
        enrolled_db = self.to_db(enrolled)

        values = {"name": name, "gender": gender, "birthday": birthday, "phone": phone, "email": email,
                  "address": address, "size_top": sizes[0], "size_bottom": sizes[1], "size_shoe": sizes[2], **soft}
        quantity, quality = completeness(values, SOFT_ARCHIVE_FIELDS, plan.extra_keys, plan.as_of)
        enc = crypto.encrypt
        row = (
            k + 1 + self.member_id_base, people.card_no(k, self.card_offset), name, gender,
            people.ethnicity(rng) if rng.random() < care else "",
            enc(birthday.isoformat()) if birthday else None, calendar,
            _birthday_key(birthday, calendar) if birthday else "",
            enc(phone), crypto.phone_index(phone), enc(email) if email else "", enc(address) if address else "",
            enc(id_number) if id_number else "",
            crypto.blind_index("id_number", id_number.strip().upper()) if id_number else "",
            *sizes, *(soft[f] for f in SOFT_ARCHIVE_FIELDS), self.extra_json, *consent,
            enrolled_db if any(consent) else None, home.id, registrar, manager, enrolled_db, MEMBER_SOURCE,
            "active", None, quantity, quality, enrolled_db, enrolled_db,
        )
        return {"row": row, "id": row[0], "name": name, "gender": gender, "phone": phone, "birthday": birthday,
                "calendar": calendar, "home": home, "manager": manager, "enrol_index": enrol_index,
                "z_value": z_value, "z_price": z_price, "duplicate": original is not None}

    def _pick_store(self, rng: random.Random, gender: str, tag: str, home: bool = False):
        cats, cum = self.category_choice[gender, tag]
        category = rng.choices(cats, cum_weights=cum)[0]
        if home and category == "dining" and rng.random() < 0.6:  # few sign up for a card over dinner
            category = rng.choices(cats, cum_weights=cum)[0]
        return rng.choice(self.by_category[category])

    # -- purchases -------------------------------------------------------------------------

    def _shop(self, rng: random.Random, person: dict, chunk: Chunk) -> None:
        last = len(self.days) - 1
        start = max(0, person["enrol_index"])
        if start > last or rng.random() < DORMANT_RATE:
            return
        end = last
        if rng.random() < LAPSE_RATE:  # stops coming at some point: the churn the care team must catch
            end = start + int(rng.random() * (last - start))
        # Frequent visitors also buy the dearer things: spend is heavy-tailed (a few VIPs make most of it).
        mean = VISITS_PER_YEAR * (0.3 if person["duplicate"] else 1.0)
        rate = math.exp(math.log(mean) - VISITS_SIGMA ** 2 / 2 + VISITS_SIGMA * person["z_value"])
        n_visits = min(900, _poisson(rng, rate * (end - start + 1) / 365))
        visits = [(self._day_index(rng, start, end), False) for _ in range(n_visits)]
        if person["enrol_index"] >= 0 and rng.random() < 0.85:
            visits.append((start, False))  # joined at the till with a first purchase
        if person["birthday"] and rng.random() < 0.45:  # comes for the birthday discount
            for year in range(self.days[start].year, self.days[end].year + 1):
                day = _celebration(person["birthday"], person["calendar"], year)
                i = (day - self.days[0]).days - rng.randrange(0, 8)
                if start <= i <= end:
                    visits.append((i, True))
        price_pct = _NORMAL.cdf(0.55 * person["z_value"] + 0.85 * person["z_price"])
        for number, (day, birthday_visit) in enumerate(sorted(visits)):
            self._sale(rng, person, chunk, day, number, birthday_visit, price_pct)

    def _sale(self, rng, person, chunk, day, number, birthday_visit, price_pct) -> None:
        tag = self.tags[day]
        home = person["home"]
        if birthday_visit:
            store = rng.choice(self.by_category[rng.choice(("cosmetics", "jewellery", "dining", "fashion"))])
        elif rng.random() < HOME_SHARE.get(home.category, 0.4):
            store = home
        else:
            store = self._pick_store(rng, person["gender"], tag)
        sold = self.midnight[day] + datetime.timedelta(seconds=self._time_of_day(rng, store.category))
        sold_db = self.to_db(sold)
        sale_id = len(chunk.sales)
        member_id = person["id"]
        staff = rng.choice(store.guides)
        if person["manager"] in store.guides and rng.random() < 0.8:  # served by their own account manager
            staff = person["manager"]
        category = store.category
        n_lines = 1
        if category == "jewellery":
            n_lines = 2 if rng.random() < 0.12 else 1
        elif category != "dining":
            while n_lines < 5 and rng.random() < 0.5:
                n_lines += 1
        promotion = birthday_visit or tag in seasons.PROMOTION_TAGS
        skus = store.skus
        n_skus = len(skus)
        total = items = 0
        first_line = len(chunk.lines)
        for _ in range(n_lines):
            # most people buy the cheaper half of a counter; big spenders reach for the top shelf
            pick = int(price_pct * price_pct * n_skus + rng.gauss(0, n_skus * 0.2))
            price, sku, kind, most = skus[min(n_skus - 1, max(0, pick))]
            quantity = rng.randint(2, most) if most > 1 and rng.random() < 0.25 else 1
            gross = price * quantity
            discount = 0
            if (promotion and rng.random() < 0.7) or rng.random() < 0.06:  # member-day or festival offer
                discount = gross * (15 if birthday_visit else rng.choice((5, 8, 10))) // 10000 * 100
            amount = gross - discount
            chunk.lines.append((len(chunk.lines), sale_id, member_id, store.id, sold_db, store.brand, sku, kind,
                                price, quantity, discount, amount))
            total += amount
            items += quantity
        receipt = f"{self.days[day]:%Y%m%d}{member_id:08d}{number:03d}"
        chunk.sales.append((sale_id, store.id, member_id, receipt, sold_db, total, items, staff, SALE_SOURCE, None,
                            sold_db))
        chunk.spend_fen += total
        if category != "dining" and rng.random() < REFUND_RATE:
            self._refund(rng, chunk, sale_id, store.id, member_id, receipt, day, first_line)

    def _refund(self, rng, chunk, sale_id, store_id, member_id, receipt, day, first_line) -> None:
        delay = rng.randint(1, 14)
        if day + delay >= len(self.days):
            return
        refunded = self.midnight[day + delay] + datetime.timedelta(seconds=self._time_of_day(rng, "other"))
        refund_id = len(chunk.refunds)
        lines = chunk.lines[first_line:]
        if rng.random() < 0.6:  # everything back: each line's whole amount, as refund_record does
            taken = [(line[0], line[9], line[11]) for line in lines]
        else:  # one unit of one line, priced in proportion to what was paid for it
            line = rng.choice(lines)
            amount = line[11] if line[9] == 1 else line[11] * 1 // line[9]
            taken = [(line[0], 1, amount)]
        refunded_db = self.to_db(refunded)
        chunk.refunds.append((refund_id, sale_id, store_id, member_id, "T" + receipt, refunded_db,
                              sum(a for _, _, a in taken), rng.choice(REFUND_REASONS), SALE_SOURCE, refunded_db))
        for line_id, quantity, amount in taken:
            chunk.refund_lines.append((len(chunk.refund_lines), refund_id, line_id, quantity, amount))


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 50:  # normal approximation; exact enough for visit counts
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1
