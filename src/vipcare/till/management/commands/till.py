"""vipcare till release-holds    release till holds whose time is up (run it every few minutes)"""

import json

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from vipcare.loyalty.jobs import holds_release_expired
from vipcare.till.services import till_holds_release_expired


class Command(BaseCommand):
    help = _("Jobs of the till: release-holds gives back the points and stored value of holds that timed out.")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("release-holds", help=_("release every hold whose time is up (safe to run again)"))

    def handle(self, *args, action: str, **options):
        released = {"till_holds": till_holds_release_expired()}
        released.update(holds_release_expired())  # holds made outside the till API
        if options["verbosity"] >= 1:
            self.stdout.write(json.dumps(released))
