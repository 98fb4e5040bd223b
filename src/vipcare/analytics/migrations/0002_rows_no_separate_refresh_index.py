import django.db.models.deletion
from django.db import migrations, models


def drop_refresh_index(apps, schema_editor):
    """Drop the index Django made for the foreign key, by what it covers, not by its generated name.

    Done as a plain DROP INDEX: altering the field would make SQLite copy the whole table, which
    holds a million rows per kept refresh."""
    model = apps.get_model("analytics", "MemberAnalytics")
    table = model._meta.db_table
    with schema_editor.connection.cursor() as cursor:
        constraints = schema_editor.connection.introspection.get_constraints(cursor, table)
    for name, info in constraints.items():
        if info["index"] and not info["unique"] and not info["primary_key"] and info["columns"] == ["refresh_id"]:
            schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")


def create_refresh_index(apps, schema_editor):
    model = apps.get_model("analytics", "MemberAnalytics")
    field = model._meta.get_field("refresh")
    schema_editor.execute(schema_editor._create_index_sql(model, fields=[field], suffix="_refresh_idx"))


class Migration(migrations.Migration):

    dependencies = [
        ("analytics", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="memberanalytics",
                    name="refresh",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                            related_name="rows", to="analytics.analyticsrefresh"),
                ),
            ],
            database_operations=[migrations.RunPython(drop_refresh_index, create_refresh_index)],
        ),
    ]
