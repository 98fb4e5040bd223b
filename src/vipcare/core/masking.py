"""How personal data looks to staff who may not see it in full."""


def mask_phone(phone: str | None) -> str:
    if not phone:
        return ""
    if len(phone) <= 4:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7 if len(phone) > 7 else len(phone) - 4) + phone[-4:]


def mask_email(email: str | None) -> str:
    if not email or "@" not in email:
        return "*" * len(email or "")
    name, domain = email.split("@", 1)
    return (name[:1] + "***@" + domain) if name else "***@" + domain


def mask_text(text: str | None, keep: int = 6) -> str:
    """Addresses: keep the start (city, district), hide the rest."""
    if not text:
        return ""
    return text[:keep] + "****" if len(text) > keep else "****"


def mask_id_number(value: str | None) -> str:
    if not value:
        return ""
    return value[:3] + "*" * max(len(value) - 7, 1) + value[-4:]


def mask_date(value) -> str:
    """A birthday keeps its month and day (greetings need them) but hides the year."""
    if not value:
        return ""
    return f"****-{value.month:02d}-{value.day:02d}"
