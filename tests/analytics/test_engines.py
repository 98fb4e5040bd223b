"""DuckDB and Spark compute the same features, hence the same scores, labels and lifetime values."""

import shutil

import numpy as np
import pytest

from tests.analytics.conftest import AS_OF
from vipcare.analytics import engines, pipeline, snapshot
from vipcare.analytics.models import MemberAnalytics
from vipcare.analytics.segments import SegmentRules
from vipcare.analytics.services import analytics_refresh

pytestmark = [
    pytest.mark.spark,
    pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java"),
]
pytest.importorskip("pyspark")


@pytest.fixture(scope="module")
def spark():
    session = engines.spark_session()  # one local session for the module
    yield session
    session.stop()
    engines.spark_session.cache_clear()


def test_spark_sql_is_the_duckdb_query_transpiled():
    sql = engines.features_sql(as_of_day=20000, window=90, dialect="spark")
    assert "MIN_BY(spend_fen, day)" in sql and "20000 - 365" in sql


def test_both_engines_give_identical_features_and_labels(spark, mall):
    rules = SegmentRules()
    facts = snapshot.facts_snapshot(as_of=AS_OF)
    features = {name: run(facts.facts, as_of_day=facts.as_of_day, window=rules.falling_window_days)
                for name, run in engines.ENGINES.items()}
    assert features["duckdb"].num_rows > 300
    assert features["duckdb"].equals(features["spark"])
    results = {name: pipeline.member_results(table, member_ids=facts.member_ids, enrolled_day=facts.enrolled_day,
                                             as_of_day=facts.as_of_day, rules=rules)
               for name, table in features.items()}
    assert results["duckdb"].parameters == results["spark"].parameters
    for column, ours in results["duckdb"].columns.items():
        theirs = results["spark"].columns[column]
        if ours.dtype.kind == "f":
            np.testing.assert_allclose(ours, theirs, rtol=1e-9, err_msg=column)
        else:
            assert np.array_equal(ours, theirs), column


def test_refresh_on_spark_stores_what_duckdb_stores(spark, mall):
    fields = [f.attname for f in MemberAnalytics._meta.concrete_fields if f.attname not in ("id", "refresh_id")]

    def stored(refresh):
        return {row[0]: row for row in MemberAnalytics.objects.filter(refresh=refresh).order_by("member_id")
                .values_list(*fields)}

    on_duckdb = analytics_refresh(as_of=AS_OF, engine="duckdb")
    expected = stored(on_duckdb)
    on_spark = analytics_refresh(as_of=AS_OF, engine="spark")
    assert on_spark.parameters == on_duckdb.parameters
    got = stored(on_spark)
    assert got.keys() == expected.keys()
    for member_id, row in expected.items():
        for name, ours, theirs in zip(fields, row, got[member_id], strict=True):
            if isinstance(ours, float):
                assert theirs == pytest.approx(ours, rel=1e-9), name
            else:
                assert ours == theirs, name
