from django.db import models
from django.utils.translation import gettext_lazy as _


class PlaybookKind(models.TextChoices):
    BIRTHDAY = "birthday", _("Birthday message")
    BIRTHDAY_GIFT = "birthday_gift", _("Birthday gift for top levels")
    HOLIDAY = "holiday", _("Holiday greeting")
    SEASON = "season", _("Season-change care")
    NEW_MEMBER_CALL = "new_member_call", _("Call one week after the first purchase")
    NEW_MEMBER_WEEKLY = "new_member_weekly", _("Monday list of last week's new members")
    REGULAR_CALL = "regular_call", _("Regular call to VIPs")
    DIRECTOR_CONTACT = "director_contact", _("Director contacts top VIPs")
    MISS_YOU = "miss_you", _("We miss you")
    THANK_YOU = "thank_you", _("Thank-you after a visit")
    FALLING_OFF = "falling_off", _("Regular falling off")
    POINTS_MILESTONE = "points_milestone", _("Points near a milestone")
    POINTS_EXPIRING = "points_expiring", _("Points about to expire")
    OCCASION_NOTICE = "occasion_notice", _("VIP event or offer notice")
    GIFT_SENT = "gift_sent", _("Gift sent notice")
    COMPLAINT_SURVEY = "complaint_survey", _("Satisfaction survey after a complaint")


# Care messages are about the member's life, never about selling: their templates are checked
# against the sales-word list.
CARE_KINDS = {PlaybookKind.BIRTHDAY, PlaybookKind.HOLIDAY, PlaybookKind.SEASON, PlaybookKind.MISS_YOU,
              PlaybookKind.THANK_YOU}


class Action(models.TextChoices):
    MESSAGE = "message", _("Message")
    TASK = "task", _("Task for staff")


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat")
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone call")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class TaskOutcome(models.TextChoices):
    REACHED = "reached", _("Reached")
    NO_ANSWER = "no_answer", _("No answer")
    CALL_BACK = "call_back", _("Call back later")
    DONE = "done", _("Done")


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class ContactKind(models.TextChoices):
    CALL = "call", _("Call")
    VISIT = "visit", _("Visit")
    MESSAGE = "message", _("Message")
    GIFT = "gift", _("Gift")
    COMPLAINT = "complaint", _("Complaint")
    SURVEY = "survey", _("Survey")


class ComplaintKind(models.TextChoices):
    COMPLAINT = "complaint", _("Complaint")
    SUGGESTION = "suggestion", _("Suggestion")


class ComplaintStatus(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    RESOLVED = "resolved", _("Resolved")


class GiftStatus(models.TextChoices):
    PLANNED = "planned", _("To choose")
    CHOSEN = "chosen", _("Chosen")
    MAILED = "mailed", _("Mailed, member told")


class ChurnReason(models.TextChoices):
    NATURAL = "natural", _("Natural (moved, life changed)")
    COMPETITIVE = "competitive", _("Went to a competitor")
    FAULT = "fault", _("Our fault (product or service)")
    STAFF_TURNOVER = "staff_turnover", _("Their staff contact left")


class OccasionKind(models.TextChoices):
    EVENT = "event", _("VIP event")
    OFFER = "offer", _("VIP offer")
