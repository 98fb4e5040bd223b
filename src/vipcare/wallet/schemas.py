"""Request and response shapes of the stored-value endpoints (/api/pos/wallet)."""

from ninja import Field, Schema
from pydantic import model_validator

from vipcare.wallet.models import WalletAccount, WalletEntry


class ErrorOut(Schema):
    detail: str
    errors: dict[str, str] | None = None


class TopUpIn(Schema):
    member: str = Field(..., min_length=1, max_length=200, description="card number, phone or QR payload")
    plan_id: int | None = Field(None, description="a top-up plan on offer today (its pay and bonus)")
    amount_fen: int | None = Field(None, gt=0, description="or a plain amount without bonus, in fen")

    @model_validator(mode="after")
    def _one_of(self):
        if (self.plan_id is None) == (self.amount_fen is None):
            raise ValueError("give either plan_id or amount_fen")
        return self


class BalanceOut(Schema):
    principal_fen: int
    bonus_fen: int
    total_fen: int


class TopUpOut(Schema):
    entry_id: int
    card_no: str
    plan_id: int | None
    paid_fen: int = Field(..., description="what the member pays: the principal loaded")
    bonus_fen: int
    balance: BalanceOut


def top_up_body(entry: WalletEntry, *, card_no: str) -> dict:
    account = WalletAccount.objects.get(pk=entry.account_id)
    return {"entry_id": entry.pk, "card_no": card_no, "plan_id": entry.plan_id, "paid_fen": entry.principal_delta,
            "bonus_fen": entry.bonus_delta,
            "balance": {"principal_fen": account.principal_fen, "bonus_fen": account.bonus_fen,
                        "total_fen": account.principal_fen + account.bonus_fen}}
