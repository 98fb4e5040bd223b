"""The benchmark's floor: a checkout's rows written by hand with the plain driver (sqlite3 or
psycopg), no Django in the loop. The same statements a checkout needs, in the same order and lock
order, in one transaction: find the key and the member, claim the idempotency key, lock and
redeem the coupon, lock the points account and burn its soonest-expiring lots, lock the card and
pay pro rata, insert the sale and its line, earn a lot, read the quarter's spend and lock the
level, insert the checkout, store the answer. The rows are the real ones, so `check ledgers`
proves them too. Table and column names come from the models, once, at start."""

import datetime
import hashlib
import json
import sqlite3

from django.db import connection

from vipcare.core.models import IdempotencyRecord
from vipcare.loyalty.models import MemberTier, PointsAccount, PointsEntry, PointsLot
from vipcare.members.models import Member
from vipcare.offers.models import Coupon, CouponRedemption
from vipcare.org.models import ApiKey
from vipcare.sales.models import Sale, SaleLine
from vipcare.till.models import Checkout
from vipcare.wallet.models import WalletAccount, WalletEntry


def _t(model) -> str:
    return model._meta.db_table


class DriverCheckout:
    def __init__(self) -> None:
        settings = connection.settings_dict
        self.sqlite = connection.vendor == "sqlite"
        if self.sqlite:
            self.conn = sqlite3.connect(settings["NAME"], timeout=20, isolation_level=None,
                                        check_same_thread=False)
            self.conn.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;")
        else:
            import psycopg

            self.conn = psycopg.connect(host=settings["HOST"], port=settings["PORT"] or 5432, dbname=settings["NAME"],
                                        user=settings["USER"], password=settings["PASSWORD"] or None)
        p = "?" if self.sqlite else "%s"
        j = "?" if self.sqlite else "CAST(%s AS jsonb)"
        lock = "" if self.sqlite else " FOR UPDATE"
        ret = "" if self.sqlite else " RETURNING id"
        self.sql = {
            "key": f"SELECT id, store_id FROM {_t(ApiKey)} WHERE key_hash = {p} AND revoked_at IS NULL",
            "member": f"SELECT id, status FROM {_t(Member)} WHERE card_no = {p}",
            "claim": f"INSERT INTO {_t(IdempotencyRecord)} (api_key_id, key, operation, request_hash, status_code, "
                     f"response, created_at) VALUES ({p}, {p}, 'till.checkout', {p}, 0, {j}, {p}){ret}",
            "find": f"SELECT status_code FROM {_t(IdempotencyRecord)} WHERE api_key_id = {p} AND key = {p}",
            "answer": f"UPDATE {_t(IdempotencyRecord)} SET status_code = 201, response = {j} WHERE id = {p}",
            "coupon": f"SELECT id, status, member_id, valid_until FROM {_t(Coupon)} WHERE code = {p}{lock}",
            "redeem": f"UPDATE {_t(Coupon)} SET status = 'redeemed', redeemed_at = {p} WHERE id = {p} "
                      f"AND status = 'issued'",
            "redemption": f"INSERT INTO {_t(CouponRedemption)} (coupon_id, member_id, sale_id, store_id, discount_fen, "
                          f"redeemed_at) VALUES ({p}, {p}, {p}, {p}, {p}, {p})",
            "points": f"SELECT id, balance FROM {_t(PointsAccount)} WHERE member_id = {p}{lock}",
            "lots": f"SELECT id, remaining FROM {_t(PointsLot)} WHERE account_id = {p} AND matured AND remaining > 0 "
                    f"AND (expires_at IS NULL OR expires_at > {p}) "
                    f"ORDER BY expires_at IS NULL, expires_at, earned_at, id",
            "burn": f"UPDATE {_t(PointsLot)} SET remaining = {p} WHERE id = {p}",
            "lot": f"INSERT INTO {_t(PointsLot)} (account_id, points, remaining, earned_at, available_at, matured, "
                   f"expires_at, sale_id, line_points, reversed_points) VALUES ({p}, {p}, {p}, {p}, {p}, TRUE, {p}, "
                   f"{p}, {j}, 0){ret}",
            "entry": f"INSERT INTO {_t(PointsEntry)} (account_id, kind, delta, pending_delta, balance_after, "
                     f"pending_after, lot_id, allocations, shortfall, sale_id, store_id, idempotency_key, reason, "
                     f"created_at) VALUES ({p}, {p}, {p}, 0, {p}, 0, {p}, {j}, 0, {p}, {p}, {p}, '', {p}){ret}",
            "balance": f"UPDATE {_t(PointsAccount)} SET balance = {p} WHERE id = {p}",
            "card": f"SELECT id, principal_fen, bonus_fen FROM {_t(WalletAccount)} WHERE member_id = {p}{lock}",
            "pay": f"INSERT INTO {_t(WalletEntry)} (account_id, kind, principal_delta, bonus_delta, principal_after, "
                   f"bonus_after, idempotency_key, store_id, sale_id, reason, created_at) VALUES ({p}, 'pay', {p}, "
                   f"{p}, {p}, {p}, {p}, {p}, {p}, '', {p}){ret}",
            "card_balance": f"UPDATE {_t(WalletAccount)} SET principal_fen = {p}, bonus_fen = {p} WHERE id = {p}",
            "receipt": f"SELECT 1 FROM {_t(Sale)} WHERE store_id = {p} AND receipt_no = {p}",
            "sale": f"INSERT INTO {_t(Sale)} (store_id, member_id, receipt_no, sold_at, total_fen, item_count, source, "
                    f"created_at) VALUES ({p}, {p}, {p}, {p}, {p}, 1, 'pos', {p}){ret}",
            "line": f"INSERT INTO {_t(SaleLine)} (sale_id, member_id, store_id, sold_at, brand, sku, category, "
                    f"unit_price_fen, quantity, discount_fen, amount_fen) VALUES ({p}, {p}, {p}, {p}, {p}, '', {p}, "
                    f"{p}, 1, {p}, {p}){ret}",
            "window": f"SELECT COALESCE(SUM(total_fen), 0) FROM {_t(Sale)} WHERE member_id = {p} AND sold_at >= {p}",
            "level": f"SELECT id, tier_id FROM {_t(MemberTier)} WHERE member_id = {p}{lock}",
            "checkout": f"INSERT INTO {_t(Checkout)} (sale_id, member_id, store_id, gross_fen, level_discount_fen, "
                        f"birthday_discount_fen, member_day_discount_fen, coupon_discount_fen, total_fen, points_paid, "
                        f"points_paid_fen, stored_value_paid_fen, other_paid_fen, points_entry_id, points_allocations, "
                        f"wallet_entry_id, points_earned, created_at) VALUES ({p}, {p}, {p}, {p}, 0, 0, 0, {p}, {p}, "
                        f"{p}, {p}, {p}, {p}, {p}, {j}, {p}, {p}, {p})",
        }

    def _when(self, at: datetime.datetime):
        return at.astimezone(datetime.UTC).replace(tzinfo=None).isoformat(" ") if self.sqlite else at

    def _insert(self, cur, name: str, params) -> int:
        cur.execute(self.sql[name], params)
        return cur.lastrowid if self.sqlite else cur.fetchone()[0]

    def send(self, raw_key: str, idem: str, body: dict) -> int:
        now = datetime.datetime.now(datetime.UTC)
        at = self._when(now)
        cur = self.conn.cursor()
        cur.execute(self.sql["key"], (hashlib.sha256(raw_key.encode()).hexdigest(),))
        key_id, store_id = cur.fetchone()
        cur.execute(self.sql["find"], (key_id, idem))
        done = cur.fetchone()
        if not self.sqlite:
            self.conn.commit()  # end the read's implicit transaction
        if done is not None:  # a retry: the stored answer, nothing written
            return done[0]
        try:
            if self.sqlite:
                cur.execute("BEGIN IMMEDIATE")
            request_hash = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
            record = self._insert(cur, "claim", (key_id, idem, request_hash, "{}", at))
            cur.execute(self.sql["member"], (body["member"],))
            member_id, _status = cur.fetchone()
            line = body["lines"][0]
            price = line["unit_price_fen"]
            coupon_off, coupon = 0, None
            if body.get("coupons"):
                cur.execute(self.sql["coupon"], (body["coupons"][0],))
                coupon = cur.fetchone()
                if coupon is None or coupon[1] != "issued" or coupon[2] != member_id:
                    raise _Refused(409)
                coupon_off = min(2000, price)
            total = price - coupon_off
            points, stored = body["points"], body["stored_value_fen"]
            # points: lock the account, burn the soonest-expiring lots
            cur.execute(self.sql["points"], (member_id,))
            account_id, balance = cur.fetchone()
            cur.execute(self.sql["lots"], (account_id, at))
            need, allocations, left = points, [], []
            for lot_id, remaining in cur.fetchall():
                if not need:
                    break
                take = min(remaining, need)
                need -= take
                allocations.append([lot_id, take])
                left.append((remaining - take, lot_id))
            if need:
                raise _Refused(409)
            for row in left:
                cur.execute(self.sql["burn"], row)
            # the card: lock, pay pro rata
            cur.execute(self.sql["card"], (member_id,))
            card_id, principal, bonus = cur.fetchone()
            if stored > principal + bonus:
                raise _Refused(409)
            bonus_paid = stored * bonus // (principal + bonus)
            principal, bonus = principal - (stored - bonus_paid), bonus - bonus_paid
            # the sale
            receipt = "D-" + hashlib.sha256(f"{key_id}:{idem}".encode()).hexdigest()[:16].upper()
            cur.execute(self.sql["receipt"], (store_id, receipt))
            if cur.fetchone():
                raise _Refused(422)
            sale_id = self._insert(cur, "sale", (store_id, member_id, receipt, at, total, at))
            line_id = self._insert(cur, "line", (sale_id, member_id, store_id, at, line["brand"], line["category"],
                                                 price, coupon_off, total))
            spend_id = self._insert(cur, "entry", (account_id, "spend", -points, balance - points, None,
                                                   json.dumps(allocations), sale_id, store_id, f"sale:{sale_id}:pay",
                                                   at))
            balance -= points
            wallet_id = self._insert(cur, "pay", (card_id, -(stored - bonus_paid), -bonus_paid, principal, bonus,
                                                  f"sale:{sale_id}:pay", store_id, sale_id, at))
            cur.execute(self.sql["card_balance"], (principal, bonus, card_id))
            if coupon is not None:
                cur.execute(self.sql["redeem"], (at, coupon[0]))
                cur.execute(self.sql["redemption"], (coupon[0], member_id, sale_id, store_id, coupon_off, at))
            earned = (total - points) // 100
            if earned > 0:
                expires = self._when(now + datetime.timedelta(days=365))
                lot_id = self._insert(cur, "lot", (account_id, earned, earned, at, at, expires, sale_id,
                                                   json.dumps({str(line_id): earned})))
                self._insert(cur, "entry", (account_id, "earn", earned, balance + earned, lot_id,
                                            json.dumps([[lot_id, earned]]), sale_id, store_id, f"sale:{sale_id}", at))
                balance += earned
            cur.execute(self.sql["balance"], (balance, account_id))
            # the level: the quarter's spend, the member's level row locked
            quarter = now.replace(month=3 * ((now.month - 1) // 3) + 1, day=1, hour=0, minute=0, second=0,
                                  microsecond=0)
            cur.execute(self.sql["window"], (member_id, self._when(quarter)))
            cur.fetchone()
            cur.execute(self.sql["level"], (member_id,))
            cur.fetchone()
            cur.execute(self.sql["checkout"], (sale_id, member_id, store_id, price, coupon_off, total, points, points,
                                               stored, total - points - stored, spend_id, json.dumps(allocations),
                                               wallet_id, max(earned, 0), at))
            cur.execute(self.sql["answer"], (json.dumps({"sale": sale_id, "total_fen": total}), record))
            self._end(cur, "COMMIT")
            return 201
        except _Refused as refused:
            self._end(cur, "ROLLBACK")
            return refused.status
        except Exception:
            self._end(cur, "ROLLBACK")
            raise

    def _end(self, cur, how: str) -> None:
        if self.sqlite:
            cur.execute(how)
        elif how == "COMMIT":
            self.conn.commit()
        else:
            self.conn.rollback()


class _Refused(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status
