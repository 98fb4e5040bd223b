"""Chinese names, mobile numbers, addresses and ID numbers for demo people.

Numbers that must be unique (mobile, card) are made from the member's position with a fixed
permutation, so chunks generated apart (or in parallel) never collide and no set of the
numbers already used has to be kept.
"""

import datetime
import itertools
import random

from vipcare.demo import catalogue

_SURNAMES = [s for s, _ in catalogue.SURNAMES]
_SURNAME_CUM = list(itertools.accumulate(w for _, w in catalogue.SURNAMES))
_PREFIXES = [p for p, _ in catalogue.MOBILE_PREFIXES]
_PREFIX_CUM = list(itertools.accumulate(w for _, w in catalogue.MOBILE_PREFIXES))
_CITIES = [c for c, _ in catalogue.CITY_WEIGHTS]
_CITY_CUM = list(itertools.accumulate(w for _, w in catalogue.CITY_WEIGHTS))
_DOMAINS = [d for d, _ in catalogue.EMAIL_DOMAINS]
_DOMAIN_CUM = list(itertools.accumulate(w for _, w in catalogue.EMAIL_DOMAINS))
_ETHNICITIES = [e for e, _ in catalogue.ETHNICITIES]
_ETHNICITY_CUM = list(itertools.accumulate(w for _, w in catalogue.ETHNICITIES))
_EMAIL_NAMES = ["lily", "vivian", "amy", "coco", "grace", "emma", "sunny", "cherry", "jack", "tony", "kevin",
                "leo", "max", "echo", "yoyo", "nana", "summer", "jason", "eric", "angel"]
# Region codes of the ID card (身份证) for the cities of catalogue.DISTRICTS, first district each.
_ID_REGIONS = ["330102", "330105", "330106", "330108", "330109", "330110", "330602", "330402", "310115"]
_ID_WEIGHTS = [7, 5, 8, 1, 10, 11, 11, 12, 28]
_ID_FACTORS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_ID_CHECK = "10X98765432"

# Multipliers coprime with 10, so index -> (index * M + offset) mod 10^k is a permutation.
_PHONE_MULTIPLIER = 48_271
_CARD_MULTIPLIER = 7_654_321


def surname(rng: random.Random) -> str:
    return rng.choices(_SURNAMES, cum_weights=_SURNAME_CUM)[0]


def given_name(rng: random.Random, gender: str) -> str:
    pool = catalogue.GIVEN_FEMALE if gender == "F" else catalogue.GIVEN_MALE if gender == "M" else catalogue.GIVEN_ANY
    if rng.random() < 0.35:
        return rng.choice(pool)
    first = rng.choice(pool + catalogue.GIVEN_ANY)
    return first + rng.choice(pool)


def full_name(rng: random.Random, gender: str) -> str:
    return surname(rng) + given_name(rng, gender)


def staff_name(rng: random.Random) -> str:
    return full_name(rng, "F" if rng.random() < 0.7 else "M")


def mobile(rng: random.Random, index: int, offset: int) -> str:
    """A unique-per-index mobile number 1[3-9]x xxxx xxxx."""
    suffix = (index * _PHONE_MULTIPLIER + offset) % 100_000_000
    return f"{rng.choices(_PREFIXES, cum_weights=_PREFIX_CUM)[0]}{rng.randrange(10)}{suffix:08d}"


def card_no(index: int, offset: int) -> str:
    """A unique-per-index 12-digit card number starting with 8, as the member services issue."""
    return f"8{(index * _CARD_MULTIPLIER + offset) % 100_000_000_000:011d}"


def email(rng: random.Random) -> str:
    domain = rng.choices(_DOMAINS, cum_weights=_DOMAIN_CUM)[0]
    if domain == "qq.com" and rng.random() < 0.7:
        return f"{rng.randrange(10_000_000, 3_000_000_000)}@qq.com"
    return f"{rng.choice(_EMAIL_NAMES)}{rng.randrange(1, 10_000)}@{domain}"


def address(rng: random.Random, careful: bool) -> tuple[str, str]:
    """(address, residential estate). A careless clerk notes only city and district."""
    city = rng.choices(_CITIES, cum_weights=_CITY_CUM)[0]
    district = rng.choice(catalogue.DISTRICTS[city])
    estate = rng.choice(catalogue.ESTATES)
    if not careful:
        return f"{city}{district}", estate
    street = rng.choice(catalogue.STREETS)
    return (f"{city}{district}{street}{rng.randrange(1, 600)}号{estate}{rng.randrange(1, 30)}幢"
            f"{rng.randrange(1, 4)}单元{rng.randrange(2, 33)}{rng.randrange(1, 5):02d}室"), estate


def ethnicity(rng: random.Random) -> str:
    return rng.choices(_ETHNICITIES, cum_weights=_ETHNICITY_CUM)[0]


def id_number(rng: random.Random, birthday: datetime.date, gender: str) -> str:
    """An 18-digit resident ID number with a valid check digit (GB 11643)."""
    region = rng.choices(_ID_REGIONS, weights=_ID_WEIGHTS)[0]
    sequence = rng.randrange(0, 500) * 2 + (1 if gender == "M" else 0)
    body = f"{region}{birthday:%Y%m%d}{sequence:03d}"
    return body + _ID_CHECK[sum(int(d) * f for d, f in zip(body, _ID_FACTORS, strict=True)) % 11]
