import dataclasses


@dataclasses.dataclass(frozen=True)
class Outgoing:
    ref: str  # the message's provider_ref: the same on every attempt
    channel: str
    to: str
    subject: str
    body: str
    params: dict = dataclasses.field(default_factory=dict)


class TransientError(Exception):
    """Worth retrying later (network, rate limit)."""


class PermanentError(Exception):
    """Retrying will not help (bad number, rejected template)."""
