"""What every ledger (points, stored value) does the same way; see docs/adr/0003-ledgers.md.

The hot statements of the ledgers (lock an account, look a key up, append an entry, move the
balance) are written here as plain SQL through Django's connection instead of the ORM: a checkout
makes a dozen of them, and the ORM spends about 0.3 ms of Python building each query and its model
instances, more than SQLite or PostgreSQL take to run it (docs/benchmarks.md, "Till"). The SQL is
made once per model from its fields, values are adapted by the fields themselves
(`get_db_prep_save`: dates in UTC on SQLite, JSON, …), and the same statements run on SQLite and
PostgreSQL. Rare paths (a replayed key, lots to settle, an account's first entry) stay on the ORM.
"""

import contextlib
import contextvars
import functools

from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.utils import timezone

_all_or_nothing: contextvars.ContextVar[bool] = contextvars.ContextVar("vipcare_all_or_nothing", default=False)


@contextlib.contextmanager
def all_or_nothing():
    """Inside, the ledger services join the caller's transaction without a savepoint of their own.

    For a caller that rolls its whole transaction back on any error (the checkout): a savepoint per
    service call (two statements and Django's bookkeeping, five times a checkout) buys it nothing.
    A caller that catches a service's refusal and goes on must not use this."""
    token = _all_or_nothing.set(True)
    try:
        yield
    finally:
        _all_or_nothing.reset(token)


def atomic(function):
    """`transaction.atomic` for a ledger service, left out inside `all_or_nothing()`."""
    inner = transaction.atomic(function)

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        if _all_or_nothing.get() and connection.in_atomic_block:
            return function(*args, **kwargs)
        return inner(*args, **kwargs)

    return wrapper


def lock_member_accounts(account_model: type[models.Model], member_ids) -> dict[int, models.Model]:
    """The members' accounts (created when missing), locked in primary-key order, so two services
    touching the same accounts can never deadlock."""
    ids = sorted(set(member_ids))
    accounts = _locked_accounts(account_model, ids)
    if len(accounts) < len(ids):  # a member's first entry: create the account, then lock them all
        for member_id in ids:
            account_model._default_manager.get_or_create(member_id=member_id)
        accounts = _locked_accounts(account_model, ids)
    return accounts


def _locked_accounts(account_model, ids: list[int]) -> dict[int, models.Model]:
    accounts = select(account_model, f"member_id IN ({', '.join(['%s'] * len(ids))}) ORDER BY id", ids, lock=True)
    return {account.member_id: account for account in accounts}


def entry_for_key(entry_model: type[models.Model], account, key: str, kind: str):
    """The entry an earlier request with this key made, or None. A key reused for another kind
    of operation is a client bug, and is refused rather than silently answered."""
    found = fetch(f"SELECT {_q('id')}, {_q('kind')} FROM {_q(entry_model._meta.db_table)} "
                  f"WHERE {_q('account_id')} = %s AND {_q('idempotency_key')} = %s", [account.pk, key])
    if not found:  # the usual case: a new request
        return None
    if found[0][1] != kind:
        raise ValidationError({"idempotency_key": f"already used for a {found[0][1]} on this account"})
    return entry_model._default_manager.get(pk=found[0][0])


# --- plain SQL through Django's connection --------------------------------------------------------


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def for_update() -> str:
    """" FOR UPDATE" where the database has row locks (PostgreSQL); on SQLite the IMMEDIATE
    transaction already holds the whole database."""
    return " FOR UPDATE" if connection.features.has_select_for_update else ""


def db_datetime(value):
    """A datetime as the database stores it (naive UTC text on SQLite), for a plain statement."""
    return connection.ops.adapt_datetimefield_value(value)


def fetch(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def execute(sql: str, params=()) -> int:
    """Run a statement; the number of rows it changed."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


@functools.cache
def _select_sql(model, where: str, lock: bool, vendor: str, only: tuple[str, ...] | None
                ) -> tuple[str, list[str], list]:
    fields = model._meta.concrete_fields
    if only is not None:  # the primary key always, then the named fields in the model's order
        fields = [f for f in fields if f.primary_key or f.name in only or f.attname in only]
    sql = (f"SELECT {', '.join(_q(f.column) for f in fields)} FROM {_q(model._meta.db_table)} WHERE {where}"
           f"{for_update() if lock else ''}")
    converters = []  # what the ORM's compiler applies to each column (dates made aware, JSON parsed, …)
    for field in fields:
        column = field.get_col(model._meta.db_table)
        found = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        converters.append((found, column))
    return sql, [f.attname for f in fields], converters


def select(model: type[models.Model], where: str, params=(), *, lock: bool = False,
           only: tuple[str, ...] | None = None) -> list:
    """Instances of `model` from `SELECT <every column> … WHERE <where>` (a constant SQL text with
    %s parameters), locked FOR UPDATE where the database has row locks when `lock`. With `only`
    (field names), just those columns and the primary key, the rest deferred as by `QuerySet.only`."""
    sql, names, converters = _select_sql(model, where, lock, connection.vendor, only)
    instances = []
    for row in fetch(sql, params):
        values = list(row)
        for i, (found, column) in enumerate(converters):
            for converter in found:
                values[i] = converter(values[i], column, connection)
        instances.append(model.from_db(connection.alias, names, values))
    return instances


# Fields whose Python value is what the database takes (the rest go through the field's adaptation).
_AS_IS = (models.AutoField, models.IntegerField, models.CharField, models.ForeignKey)


@functools.cache
def _insert_sql(model, vendor: str) -> tuple[str, list, frozenset]:
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    sql = (f"INSERT INTO {_q(model._meta.db_table)} ({', '.join(_q(f.column) for f in fields)}) "
           f"VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {_q(model._meta.pk.column)}")
    plan = [(f, f.attname, f.name, isinstance(f, _AS_IS), getattr(f, "auto_now_add", False) or
             getattr(f, "auto_now", False)) for f in fields]
    assert model._meta.concrete_fields[0].primary_key  # the instance is built positionally, the id first
    return sql, plan, frozenset(f.attname for f in fields) | frozenset(f.name for f in fields)


def insert(model: type[models.Model], **values):
    """INSERT one row of `model` (values by field name or attname, related objects or their ids;
    the rest from the fields' defaults) and return it as an instance, without a read back."""
    sql, plan, names = _insert_sql(model, connection.vendor)
    if unknown := values.keys() - names:
        raise TypeError(f"{model.__name__} has no field {', '.join(sorted(unknown))}")
    row, params = [None], []
    for field, attname, name, as_is, auto_now in plan:
        if attname in values:
            value = values[attname]
        elif name in values:
            value = values[name]
            if isinstance(value, models.Model):
                value = value.pk
        elif auto_now:
            value = timezone.now()
        else:
            value = field.get_default()
        row.append(value)
        params.append(value if as_is and (value is None or type(value) in (int, str)) else
                      field.get_db_prep_save(value, connection))
    row[0] = fetch(sql, params)[0][0]
    instance = model.from_db(connection.alias, None, row)  # positional, in field order: the cheap way in
    for name, value in values.items():  # keep the related objects the caller had, so reading them costs nothing
        if isinstance(value, models.Model):
            setattr(instance, name, value)
    return instance
