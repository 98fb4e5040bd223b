"""Forms of the member screens. They only parse input; the member services do the writing."""

from django import forms
from django.utils.translation import gettext_lazy as _

from vipcare.members.choices import BirthdayCalendar, ExtraFieldType, Gender
from vipcare.members.models import SOFT_ARCHIVE_FIELDS, Member, MemberFieldDefinition
from vipcare.members.services import CONSENT_FIELDS

# Personal data is never put into a form as its current value (that would reveal it):
# in the edit form these fields start blank and a blank one keeps what is stored.
PERSONAL_FIELDS = ("phone", "email", "address", "id_number", "birthday")
HARD_FIELDS = ("name", "gender", "ethnicity", "birthday_calendar", "size_top", "size_bottom", "size_shoe")
EXTRA_PREFIX = "extra__"
# The member services speak English to programmers; staff see these instead.
SERVICE_MESSAGES = {
    "not a phone number": _("This is not a phone number."),
    "a birthday cannot be in the future": _("A birthday cannot be in the future."),
    "a member needs a name": _("A member needs a name."),
    "must be a number": _("Enter a number."),
    "must be a date YYYY-MM-DD": _("Enter a date (YYYY-MM-DD)."),
    "this card number is already taken": _("This card number is already taken."),
    "a merged member cannot be changed; change the member it was merged into":
        _("This card was merged into another member; change that member instead."),
}


def _label(field: str):
    return Member._meta.get_field(field).verbose_name


class MemberSearchForm(forms.Form):
    q = forms.CharField(label=_("Phone, name or card number"), required=False, max_length=100)
    store = forms.ModelChoiceField(label=_("Home store"), queryset=None, required=False,
                                   empty_label=_("All stores"))
    gender = forms.ChoiceField(label=_("Gender"), required=False,
                               choices=[("", _("Any gender")), *Gender.choices])
    manager = forms.ModelChoiceField(label=_("Account manager"), queryset=None, required=False,
                                     empty_label=_("Any account manager"))

    def __init__(self, *args, stores, managers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = stores
        self.fields["manager"].queryset = managers

    def search_kwargs(self) -> dict:
        data = self.cleaned_data if self.is_valid() else {}
        return {
            "query": data.get("q", ""),
            "store_id": data["store"].pk if data.get("store") else None,
            "gender": data.get("gender", ""),
            "account_manager_id": data["manager"].pk if data.get("manager") else None,
        }


class MemberForm(forms.Form):
    """Enrolment and editing of the hard and soft archive, extra fields and consent."""

    name = forms.CharField(label=_label("name"), max_length=50)
    gender = forms.ChoiceField(label=_label("gender"), choices=Gender.choices, initial=Gender.UNKNOWN)
    ethnicity = forms.CharField(label=_label("ethnicity"), max_length=20, required=False)
    birthday = forms.DateField(label=_label("birthday"), required=False,
                               widget=forms.DateInput(attrs={"type": "date"}))
    birthday_calendar = forms.ChoiceField(label=_label("birthday_calendar"), choices=BirthdayCalendar.choices,
                                          initial=BirthdayCalendar.SOLAR)
    phone = forms.CharField(label=_label("phone"), max_length=30, required=False,
                            widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}))
    email = forms.EmailField(label=_label("email"), required=False)
    address = forms.CharField(label=_label("address"), max_length=200, required=False)
    id_number = forms.CharField(label=_label("id_number"), max_length=30, required=False)
    size_top = forms.CharField(label=_label("size_top"), max_length=10, required=False)
    size_bottom = forms.CharField(label=_label("size_bottom"), max_length=10, required=False)
    size_shoe = forms.CharField(label=_label("size_shoe"), max_length=10, required=False)
    home_store = forms.ModelChoiceField(label=_label("home_store"), queryset=None, required=False)
    account_manager = forms.ModelChoiceField(label=_label("account_manager"), queryset=None, required=False)
    consent_sms = forms.BooleanField(label=_label("consent_sms"), required=False)
    consent_phone = forms.BooleanField(label=_label("consent_phone"), required=False)
    consent_wechat = forms.BooleanField(label=_label("consent_wechat"), required=False)
    consent_email = forms.BooleanField(label=_label("consent_email"), required=False)

    def __init__(self, *args, stores, managers, member: Member | None = None, masked: dict | None = None, **kwargs):
        self.member = member
        if member is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                **{f: getattr(member, f) for f in (*HARD_FIELDS, *SOFT_ARCHIVE_FIELDS, *CONSENT_FIELDS)},
                "home_store": member.home_store_id,
                "account_manager": member.account_manager_id,
                **{EXTRA_PREFIX + k: v for k, v in (member.extra or {}).items()},
            }
        super().__init__(*args, **kwargs)
        for field in SOFT_ARCHIVE_FIELDS:
            model_field = Member._meta.get_field(field)
            self.fields[field] = forms.CharField(label=model_field.verbose_name, max_length=model_field.max_length,
                                                 required=False)
        self.extra_definitions = list(MemberFieldDefinition.objects.all())
        for definition in self.extra_definitions:
            self.fields[EXTRA_PREFIX + definition.key] = self._extra_field(definition)
        self.fields["home_store"].queryset = stores
        self.fields["account_manager"].queryset = managers
        if member is not None:  # editing: personal data starts blank, blank keeps the stored value
            for field in PERSONAL_FIELDS:
                shown = (masked or {}).get(field)
                self.fields[field].help_text = _("Leave blank to keep the current value.")
                if shown:
                    self.fields[field].widget.attrs["placeholder"] = shown

    @staticmethod
    def _extra_field(definition: MemberFieldDefinition) -> forms.Field:
        label = definition.label
        if definition.field_type == ExtraFieldType.NUMBER:
            return forms.DecimalField(label=label, required=False)
        if definition.field_type == ExtraFieldType.DATE:
            return forms.DateField(label=label, required=False, widget=forms.DateInput(attrs={"type": "date"}))
        if definition.field_type == ExtraFieldType.CHOICE:
            return forms.ChoiceField(label=label, required=False,
                                     choices=[("", "—"), *[(c, c) for c in definition.choice_list()]])
        return forms.CharField(label=label, required=False, max_length=200)

    def groups(self) -> list[tuple[str, list]]:
        """The fields in the order and sections the page shows them."""
        hard = [*HARD_FIELDS[:2], "birthday", *HARD_FIELDS[2:4], "phone", "email", "address", "id_number",
                *HARD_FIELDS[4:]]
        return [
            (_("Hard archive"), [self[f] for f in hard]),
            (_("Soft archive"), [self[f] for f in SOFT_ARCHIVE_FIELDS]),
            (_("Extra fields"), [self[EXTRA_PREFIX + d.key] for d in self.extra_definitions]),
            (_("Store and account manager"), [self["home_store"], self["account_manager"]]),
            (_("Consent"), [self[f] for f in CONSENT_FIELDS]),
        ]

    def service_fields(self) -> dict:
        """cleaned_data as keyword arguments of member_enroll / member_update."""
        data = dict(self.cleaned_data)
        extra = dict(self.member.extra or {}) if self.member is not None else {}
        for definition in self.extra_definitions:
            value = data.pop(EXTRA_PREFIX + definition.key, None)
            if value in (None, ""):
                extra.pop(definition.key, None)
            else:
                extra[definition.key] = value.isoformat() if hasattr(value, "isoformat") else str(value)
        data["extra"] = extra
        for field in PERSONAL_FIELDS:
            if self.member is not None and data.get(field) in (None, ""):
                data.pop(field)  # blank keeps the stored value
            elif data.get(field) is None:
                data[field] = "" if field != "birthday" else None
        return data

    def add_service_errors(self, error) -> None:
        """Put a service's ValidationError on the fields it names ("extra.key" → the extra field)."""
        if not hasattr(error, "error_dict"):
            for message in error.messages:
                self.add_error(None, SERVICE_MESSAGES.get(message, message))
            return
        for field, messages in error.message_dict.items():
            name = EXTRA_PREFIX + field[6:] if field.startswith("extra.") else field
            for message in messages:
                self.add_error(name if name in self.fields else None, SERVICE_MESSAGES.get(message, message))
