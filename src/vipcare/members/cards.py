"""Card numbers and the signed QR payload printed on the member card (视窗卡 / 电子会员卡)."""

import hashlib
import hmac

from django.conf import settings

QR_PREFIX = "VC1"


def _signature(card_no: str) -> str:
    key = settings.VIPCARE_INDEX_KEY.encode()
    return hmac.new(key, f"qr:{card_no}".encode(), hashlib.sha256).hexdigest()[:16]


def qr_payload(card_no: str) -> str:
    """What the QR code holds: the card number and a signature, so nobody can forge one."""
    return f"{QR_PREFIX}.{card_no}.{_signature(card_no)}"


def card_no_from_qr(payload: str) -> str:
    """The card number in a QR payload; ValueError if it is not one of ours or was altered."""
    parts = (payload or "").strip().split(".")
    if len(parts) != 3 or parts[0] != QR_PREFIX:
        raise ValueError("not a vipcare member QR code")
    if not hmac.compare_digest(parts[2], _signature(parts[1])):
        raise ValueError("the QR code's signature does not match")
    return parts[1]


def qr_svg(card_no: str, scale: int = 4) -> str:
    """The card's QR code as an inline <svg> element (segno writes bytes to streams, so ask for a str)."""
    import segno

    return segno.make(qr_payload(card_no), error="m").svg_inline(scale=scale)
