"""Per-member features from the sales facts: one SQL query, run by DuckDB or by Spark.

The query is written once in DuckDB's dialect and transpiled to Spark SQL by sqlglot. It only
aggregates integers (days, fen, counts), so both engines give exactly the same numbers; all
floating-point work (the models) happens afterwards in numpy, identically for both.
"""

from __future__ import annotations

import functools

import pyarrow as pa
import sqlglot

FEATURES_SQL = """
WITH visits AS (
    -- one row per member and purchase day, with the day's net spend; fully refunded days drop out
    SELECT member_id, day, CAST(SUM(amount_fen) AS BIGINT) AS spend_fen
    FROM facts
    WHERE day <= {as_of_day}
    GROUP BY member_id, day
    HAVING SUM(amount_fen) > 0
)
SELECT
    member_id,
    CAST(MIN(day) AS BIGINT) AS first_day,
    CAST(MAX(day) AS BIGINT) AS last_day,
    CAST(COUNT(*) AS BIGINT) AS visit_days,
    CAST(SUM(spend_fen) AS BIGINT) AS spend_fen,
    -- spend on the days after the first (Gamma-Gamma's repeat purchases)
    CAST(SUM(spend_fen) - ARG_MIN(spend_fen, day) AS BIGINT) AS repeat_spend_fen,
    CAST(SUM(CASE WHEN day > {as_of_day} - 365 THEN spend_fen ELSE 0 END) AS BIGINT) AS spend_12m_fen,
    CAST(SUM(CASE WHEN day > {as_of_day} - 365 THEN 1 ELSE 0 END) AS BIGINT) AS visits_12m,
    CAST(SUM(CASE WHEN day > {as_of_day} - 730 AND day <= {as_of_day} - 365 THEN 1 ELSE 0 END) AS BIGINT)
        AS visits_prev_12m,
    CAST(SUM(CASE WHEN day > {as_of_day} - {window} THEN 1 ELSE 0 END) AS BIGINT) AS visits_recent,
    CAST(SUM(CASE WHEN day > {as_of_day} - {window} THEN spend_fen ELSE 0 END) AS BIGINT) AS spend_recent_fen
FROM visits
GROUP BY member_id
ORDER BY member_id
"""

FEATURE_COLUMNS = ["member_id", "first_day", "last_day", "visit_days", "spend_fen", "repeat_spend_fen",
                   "spend_12m_fen", "visits_12m", "visits_prev_12m", "visits_recent", "spend_recent_fen"]


def features_sql(*, as_of_day: int, window: int, dialect: str = "duckdb") -> str:
    sql = FEATURES_SQL.format(as_of_day=int(as_of_day), window=int(window))
    if dialect == "duckdb":
        return sql
    return sqlglot.transpile(sql, read="duckdb", write=dialect, pretty=True)[0]


def _normalise(table: pa.Table) -> pa.Table:
    return table.select(FEATURE_COLUMNS).cast(pa.schema([(name, pa.int64()) for name in FEATURE_COLUMNS]))


def features_duckdb(facts: pa.Table, *, as_of_day: int, window: int) -> pa.Table:
    import duckdb

    with duckdb.connect() as con:
        con.execute("SET enable_progress_bar = false")  # on by default; it only costs in a batch job
        con.register("facts", facts)
        relation = con.sql(features_sql(as_of_day=as_of_day, window=window))
        # DuckDB 2 names it to_arrow_table(); DuckDB 1 arrow().
        fetch = getattr(relation, "to_arrow_table", None) or relation.arrow
        return _normalise(fetch())


@functools.cache
def spark_session():
    """A local Spark session unless SPARK_REMOTE / spark-submit configured another (one per process)."""
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.appName("vipcare-analytics")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )


def features_spark(facts: pa.Table, *, as_of_day: int, window: int) -> pa.Table:
    spark = spark_session()
    frame = spark.createDataFrame(facts)
    frame.createOrReplaceTempView("facts")
    return _normalise(spark.sql(features_sql(as_of_day=as_of_day, window=window, dialect="spark")).toArrow())


ENGINES = {"duckdb": features_duckdb, "spark": features_spark}
