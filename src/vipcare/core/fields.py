"""Model fields whose values are encrypted at rest (see crypto.py)."""

import datetime

from django.db import models

from vipcare.core import crypto


class EncryptedTextField(models.TextField):
    """Text kept encrypted in the database; Python code sees the plain value.

    Encrypted columns cannot be filtered or sorted on: search through a blind index instead.
    """

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(str(value))


class EncryptedDateField(EncryptedTextField):
    """A date (such as a birthday) kept encrypted; Python code sees a datetime.date."""

    def from_db_value(self, value, expression, connection):
        value = super().from_db_value(value, expression, connection)
        return datetime.date.fromisoformat(value) if value else None

    def to_python(self, value):
        if value is None or value == "" or isinstance(value, datetime.date):
            return value or None
        return datetime.date.fromisoformat(str(value))

    def get_prep_value(self, value):
        if isinstance(value, datetime.date):
            value = value.isoformat()
        return super().get_prep_value(value)

    def formfield(self, **kwargs):
        from django import forms

        return forms.DateField(**{"required": not self.blank, **kwargs})
