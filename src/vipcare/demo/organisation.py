"""The demo mall: organisation, stores and staff with every role, through the org services."""

import dataclasses
import random

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from vipcare.demo import catalogue
from vipcare.demo.people import staff_name
from vipcare.org.choices import Role
from vipcare.org.models import Organisation, Staff, Store
from vipcare.org.services import staff_create

# Account managers / shopping guides per store, by category: big-ticket counters have more.
GUIDES_PER_STORE = {"jewellery": 3, "cosmetics": 3, "fashion": 2, "sports": 2, "kids": 2, "home": 1, "dining": 1}


@dataclasses.dataclass
class StoreInfo:
    id: int
    code: str
    name: str
    brand: str
    category: str
    multiplier: float
    guides: list[int]  # staff ids of its account managers
    registrars: list[int]  # staff who sign members up here: guides, cashier, manager
    skus: list[tuple[int, str, str, int]]  # (unit price fen, sku, product type, most per line), by price


@dataclasses.dataclass
class Mall:
    organisation_id: int
    stores: list[StoreInfo]
    diligence: dict[int, float]  # staff id -> how carefully they fill in archives, 0–1


def demo_logins() -> list[tuple[str, str, str]]:
    """(username, role, store) of the logins worth showing; all use catalogue.DEMO_PASSWORD."""
    names = {row[0]: row[1] for row in catalogue.STORES}
    logins = [("admin", Role.ADMIN.label, ""), ("ops", Role.OPERATIONS_MANAGER.label, "")]
    for code in ("C101", "J101"):
        logins += [(f"{code.lower()}-manager", Role.STORE_MANAGER.label, names[code]),
                   (f"{code.lower()}-guide1", Role.ACCOUNT_MANAGER.label, names[code]),
                   (f"{code.lower()}-cashier", Role.CASHIER.label, names[code])]
    return [(username, str(role), store) for username, role, store in logins]


def _price(rng: random.Random, low: int, high: int, multiplier: float) -> int:
    """A list price in fen, rounded the way shops price goods (39, 459, 1299, 12800)."""
    yuan = low * (high / low) ** rng.random() * multiplier
    if yuan < 100:
        yuan = max(9, round(yuan / 10) * 10 - 1)
    elif yuan < 1000:
        yuan = round(yuan / 10) * 10 - 1
    elif yuan < 10000:
        yuan = round(yuan / 100) * 100 - 1
    else:
        yuan = round(yuan / 1000) * 1000 - 200
    return int(yuan) * 100


def _skus(seed: int, code: str, category: str, multiplier: float) -> list[tuple[int, str, str, int]]:
    rng = random.Random(f"vipcare-demo:{seed}:skus:{code}")
    products = catalogue.PRODUCTS[category]
    skus = []
    for n in range(catalogue.SKUS_PER_STORE):
        kind, low, high, most = products[n % len(products)]
        skus.append((_price(rng, low, high, multiplier), f"{code}-{n % len(products) + 1:02d}{n + 1:03d}", kind, most))
    return sorted(skus)


def build_mall(*, seed: int) -> Mall:
    """Create (or find, on a re-run) the mall, its stores and staff; return what the generator needs."""
    rng = random.Random(f"vipcare-demo:{seed}:staff")
    organisation = (Organisation.objects.filter(name=catalogue.ORGANISATION_NAME).first()
                    or Organisation.objects.create(name=catalogue.ORGANISATION_NAME))
    existing = {s.code: s for s in Store.objects.filter(code__in=[row[0] for row in catalogue.STORES])}
    Store.objects.bulk_create(
        Store(organisation=organisation, code=code, name=name, brand=brand, category=category, floor=floor,
              city=catalogue.CITY)
        for code, name, brand, category, floor, _ in catalogue.STORES if code not in existing
    )
    stores = {s.code: s for s in Store.objects.filter(code__in=[row[0] for row in catalogue.STORES])}

    # Hashing a password takes a deliberate ~0.3 s; the demo's ~200 logins share one hash of the
    # demo password instead (set after staff_create made each account with an unusable one).
    shared_hash = make_password(catalogue.DEMO_PASSWORD)
    staff_by_username = {s.user.username: s for s in Staff.objects.select_related("user")}
    new_user_ids = []
    number = iter(range(1, 10_000))

    def person(username: str, role: str, name: str, store_list: list[Store]) -> Staff:
        staff_no = f"E{next(number):04d}"
        if username in staff_by_username:
            return staff_by_username[username]
        staff = staff_create(organisation=organisation, username=username, password=None, name=name, role=role,
                             staff_no=staff_no, stores=store_list)
        new_user_ids.append(staff.user_id)
        return staff

    person("admin", Role.ADMIN, staff_name(rng), [])
    person("ops", Role.OPERATIONS_MANAGER, staff_name(rng), [])
    person("ops2", Role.OPERATIONS_MANAGER, staff_name(rng), [])
    diligence = {}
    infos = []
    for code, _name, _brand, category, _floor, multiplier in catalogue.STORES:
        store = stores[code]
        prefix = code.lower()
        manager = person(f"{prefix}-manager", Role.STORE_MANAGER, staff_name(rng), [store])
        guides = [person(f"{prefix}-guide{i}", Role.ACCOUNT_MANAGER, staff_name(rng), [store])
                  for i in range(1, GUIDES_PER_STORE[category] + 1)]
        cashier = person(f"{prefix}-cashier", Role.CASHIER, staff_name(rng), [store])
        for s in [manager, *guides, cashier]:
            # Some staff keep careful archives, some do not: the archive ranking must show it.
            diligence[s.pk] = round(rng.betavariate(2.0, 1.6), 3)
        registrars = [g.pk for g in guides] * 4 + [cashier.pk] * 2 + [manager.pk]
        infos.append(StoreInfo(id=store.pk, code=code, name=store.name, brand=store.brand, category=category,
                               multiplier=multiplier, guides=[g.pk for g in guides], registrars=registrars,
                               skus=_skus(seed, code, category, multiplier)))
    if new_user_ids:
        get_user_model().objects.filter(pk__in=new_user_ids).update(password=shared_hash)

    return Mall(organisation_id=organisation.pk, stores=infos, diligence=diligence)
