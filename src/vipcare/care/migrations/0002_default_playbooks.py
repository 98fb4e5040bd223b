from django.db import migrations


def add_defaults(apps, schema_editor):
    from vipcare.care.defaults import PLAYBOOKS

    Playbook = apps.get_model("care", "Playbook")
    for row in PLAYBOOKS:
        Playbook.objects.get_or_create(kind=row["kind"], defaults=row)
    apps.get_model("care", "CareSettings").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("care", "0001_initial")]
    operations = [migrations.RunPython(add_defaults, migrations.RunPython.noop)]
