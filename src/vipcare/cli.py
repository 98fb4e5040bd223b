"""The `vipcare` command: Django's management commands with vipcare's settings.

    vipcare serve [--host H --port P]     the staff web UI and POS API
    vipcare demo [--members N --years Y --seed S]
    vipcare import members|sales FILE
    vipcare createstaff USERNAME --role ROLE ...
    vipcare migrate, vipcare shell, ...   everything Django's manage.py offers
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vipcare.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["vipcare", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
