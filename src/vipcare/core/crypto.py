"""Encryption of personal data at rest and the keyed hashes (blind indexes) used to find it.

Values are encrypted with Fernet (AES-128-CBC + HMAC-SHA256, random IV): the same phone number
encrypts differently every time, so it can neither be read nor matched in the database file.
To look a member up by phone we store HMAC-SHA256(index key, normalised phone) beside it.
Several data keys may be configured (newest first) so keys can be rotated.
"""

import hashlib
import hmac
import re
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


@cache
def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in settings.VIPCARE_DATA_KEYS])


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:  # wrong key or tampered data: say so rather than show garbage
        raise ValueError("personal data cannot be decrypted with the configured VIPCARE_DATA_KEY") from exc


def blind_index(kind: str, normalised: str) -> str:
    """A keyed hash of a normalised value; `kind` keeps indexes of different fields apart."""
    key = settings.VIPCARE_INDEX_KEY.encode()
    return hmac.new(key, f"{kind}:{normalised}".encode(), hashlib.sha256).hexdigest()


_NON_DIGITS = re.compile(r"\D")


def normalise_phone(raw: str) -> str:
    """Digits only, without a +86 / 0086 country prefix; raises ValueError if it is no phone."""
    digits = _NON_DIGITS.sub("", raw or "")
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not 7 <= len(digits) <= 15:
        raise ValueError("not a phone number")
    return digits


def phone_index(raw: str) -> str:
    return blind_index("phone", normalise_phone(raw))
