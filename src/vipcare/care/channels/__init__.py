"""Delivery channels. Each backend has `send(outgoing) -> provider message id` and says whether
the provider recognises a resend of the same `ref` (`idempotent`), which decides what happens to
a message interrupted mid-send (see messaging.outbox_drain)."""

import os

from django.conf import settings

from vipcare.care.channels.base import Outgoing, PermanentError, TransientError  # noqa: F401


def backend_for(channel: str):
    """The configured backend of a channel: a file per message in the data folder by default;
    VIPCARE_EMAIL_BACKEND=smtp, VIPCARE_SMS_BACKEND=aliyun, VIPCARE_WECHAT_BACKEND=wechat."""
    from vipcare.care.channels.file import FileBackend

    env = os.environ.get
    kind = env(f"VIPCARE_{channel.upper()}_BACKEND", "file")
    if channel == "email" and kind == "smtp":
        from vipcare.care.channels.smtp import SmtpBackend

        return SmtpBackend(host=env("VIPCARE_SMTP_HOST", "localhost"), port=int(env("VIPCARE_SMTP_PORT", "25")),
                           username=env("VIPCARE_SMTP_USER", ""), password=env("VIPCARE_SMTP_PASSWORD", ""),
                           from_email=env("VIPCARE_SMTP_FROM", "vip@localhost"),
                           use_tls=env("VIPCARE_SMTP_TLS", "") == "1")
    if channel == "sms" and kind == "aliyun":
        from vipcare.care.channels.aliyun import AliyunSms

        return AliyunSms(access_key_id=env("VIPCARE_ALIYUN_ACCESS_KEY_ID", ""),
                         access_key_secret=env("VIPCARE_ALIYUN_ACCESS_KEY_SECRET", ""),
                         sign_name=env("VIPCARE_ALIYUN_SIGN_NAME", ""),
                         template_code=env("VIPCARE_ALIYUN_TEMPLATE_CODE", ""))
    if channel == "wechat" and kind == "wechat":
        from vipcare.care.channels.wechat import WeChatTemplate

        return WeChatTemplate(access_token=env("VIPCARE_WECHAT_ACCESS_TOKEN", ""),
                              template_id=env("VIPCARE_WECHAT_TEMPLATE_ID", ""))
    return FileBackend(folder=settings.DATA_DIR / "outbox" / channel)
