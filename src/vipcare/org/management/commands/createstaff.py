import getpass

from django.core.management.base import BaseCommand, CommandError

from vipcare.org.choices import Role
from vipcare.org.models import Organisation, Store
from vipcare.org.services import staff_create


class Command(BaseCommand):
    help = "Create a staff login with a role and the stores it covers."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--name", help="the person's name (default: the username)")
        parser.add_argument("--staff-no", help="staff number (default: the username)")
        parser.add_argument("--store", action="append", default=[], help="store code; repeat for several")
        parser.add_argument("--password", help="default: asked for on the terminal")
        parser.add_argument("--organisation", default="", help="name of the organisation (created if none exists)")

    def handle(self, *args, username, role, name, staff_no, store, password, organisation, **options):
        stores = list(Store.objects.filter(code__in=store))
        missing = set(store) - {s.code for s in stores}
        if missing:
            raise CommandError(f"no store with code {', '.join(sorted(missing))}")
        org = Organisation.objects.first()
        if org is None:
            org = Organisation.objects.create(name=organisation or "vipcare")
        if not password:
            password = getpass.getpass("Password: ")
        try:
            staff = staff_create(organisation=org, username=username, password=password, name=name or username,
                                 role=role, staff_no=staff_no or username, stores=stores)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"created {staff.name} ({staff.get_role_display()})")
