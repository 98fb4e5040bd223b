"""vipcare offers issue [--date YYYY-MM-DD]       the rules' coupons for a day (safe to run again)
vipcare offers issue-bulk TEMPLATE --batch NAME [--level CODE]   a campaign: one coupon to each member"""

import datetime
import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from vipcare.loyalty.models import MemberTier, Tier
from vipcare.members.choices import MemberStatus
from vipcare.members.models import Member
from vipcare.offers.choices import CouponSource
from vipcare.offers.models import CouponTemplate
from vipcare.offers.services import coupon_issue_bulk, coupons_issue_by_rules


class Command(BaseCommand):
    help = _("Issue coupons: by the rules for a day (birthday, member day, new member, level up), or in bulk.")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        issue = sub.add_parser("issue", help=_("issue the rules' coupons for a day; running it again issues nothing "
                                               "twice"))
        issue.add_argument("--date", type=datetime.date.fromisoformat, default=None,
                           help=_("the local day (default: today)"))
        bulk = sub.add_parser("issue-bulk", help=_("issue one coupon of a template to every active member "
                                                   "(or those at a level and above)"))
        bulk.add_argument("template", help=_("the coupon template's code"))
        bulk.add_argument("--batch", required=True,
                          help=_("a name for this campaign: a second run with the same name issues nothing new"))
        bulk.add_argument("--level", default=None, help=_("only members at this level (code) or above"))

    def handle(self, *args, action: str, **options):
        if action == "issue":
            day = options["date"] or timezone.localdate()
            reports = coupons_issue_by_rules(day=day)
            result = {"date": day.isoformat(), **{trigger: vars(report) for trigger, report in reports.items()}}
        else:
            template = CouponTemplate.objects.filter(code=options["template"]).first()
            if template is None:
                raise CommandError(_("no coupon template with code %(code)s") % {"code": options["template"]})
            batch = options["batch"]
            if not batch.strip() or len(batch) > 64:
                raise CommandError(_("--batch must be 1 to 64 characters"))
            members = Member.objects.filter(status=MemberStatus.ACTIVE)
            if options["level"]:
                tier = Tier.objects.filter(code=options["level"]).first()
                if tier is None:
                    raise CommandError(_("no level with code %(code)s") % {"code": options["level"]})
                members = members.filter(pk__in=MemberTier.objects.filter(tier__rank__gte=tier.rank)
                                         .values("member_id"))
            report = coupon_issue_bulk(template=template, member_ids=members.values_list("pk", flat=True),
                                       key=lambda m: f"bulk:{batch}:{m}", source=CouponSource.BULK, note=batch)
            result = {"template": template.code, "batch": batch, **vars(report)}
        self.stdout.write(json.dumps(result, ensure_ascii=False))
