from django.core.management.base import BaseCommand, CommandError

from vipcare.org.models import Store
from vipcare.org.services import api_key_issue


class Command(BaseCommand):
    help = "Issue a POS API key for a till of a store. The key is printed once and never stored."

    def add_arguments(self, parser):
        parser.add_argument("store_code", metavar="STORE_CODE")
        parser.add_argument("--name", required=True, help='what the key is for, e.g. "till 1"')

    def handle(self, *args, store_code, name, **options):
        store = Store.objects.filter(code=store_code).first()
        if store is None:
            raise CommandError(f"no store with code {store_code}")
        if not store.is_active:
            raise CommandError(f"store {store_code} is not active; its keys would be refused")
        key, raw = api_key_issue(store=store, name=name)
        self.stderr.write(f"issued key {key.prefix}… ({name}) for {store.code} {store.name}; "
                          "it is shown only now, keep it in the till's configuration:")
        self.stdout.write(raw)
