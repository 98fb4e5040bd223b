from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _


class Command(BaseCommand):
    help = "Serve the staff web UI and the POS API (migrating the database first)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument("--no-migrate", action="store_true", help="do not apply pending migrations first")
        parser.add_argument("--no-scheduler", action="store_true",
                            help="do not run the scheduled jobs in this process (run them from cron or a worker)")

    def handle(self, *args, host, port, threads, no_migrate, no_scheduler, **options):
        from waitress import serve

        from vipcare.wsgi import application

        if not no_migrate:
            call_command("migrate", interactive=False, verbosity=0)
        if not no_scheduler:
            from vipcare.core import scheduler

            scheduler.start()
        self.stdout.write(_("vipcare is serving on http://%(host)s:%(port)s/") % {"host": host, "port": port})
        serve(application, host=host, port=port, threads=threads, ident="vipcare")
