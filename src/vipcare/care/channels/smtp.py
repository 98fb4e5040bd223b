import smtplib
from email.message import EmailMessage
from email.utils import formatdate

from vipcare.care.channels.base import Outgoing, PermanentError, TransientError


class SmtpBackend:
    """Email over SMTP. The Message-ID is derived from the message's ref, so a duplicate after a
    crash could be recognised by the receiving side; SMTP itself does not deduplicate."""

    idempotent = False

    def __init__(self, *, host: str, port: int, from_email: str, username: str = "", password: str = "",
                 use_tls: bool = False, timeout: float = 10):
        self.host, self.port, self.from_email = host, port, from_email
        self.username, self.password, self.use_tls, self.timeout = username, password, use_tls, timeout

    def build(self, outgoing: Outgoing) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.from_email
        email["To"] = outgoing.to
        email["Subject"] = outgoing.subject
        email["Date"] = formatdate(localtime=False)
        email["Message-ID"] = f"<{outgoing.ref}@vipcare>"
        email.set_content(outgoing.body)
        return email

    def send(self, outgoing: Outgoing) -> str:
        email = self.build(outgoing)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.use_tls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentError(str(exc)) from exc
        except (TimeoutError, OSError, smtplib.SMTPException) as exc:
            raise TransientError(str(exc)) from exc
        return email["Message-ID"]
