"""Gateways: SMTP against a real server on loopback; Aliyun SMS and WeChat requests exactly."""

import datetime
import json
import urllib.parse

import pytest

from vipcare.care.channels import Outgoing, PermanentError, TransientError
from vipcare.care.channels.aliyun import AliyunSms, signature
from vipcare.care.channels.smtp import SmtpBackend
from vipcare.care.channels.wechat import WeChatTemplate

OUT = Outgoing(ref="6f1c2d3e-0000-4000-8000-000000000001", channel="sms", to="13812345678", subject="生日祝福",
               body="李女士，生日快乐！")


def test_aliyun_signature_matches_the_documented_example():
    # the worked example of Aliyun's SMS API signature documentation
    params = {"AccessKeyId": "testId", "Action": "SendSms", "Format": "XML", "OutId": "123",
              "PhoneNumbers": "15300000001", "RegionId": "cn-hangzhou", "SignName": "阿里云短信测试专用",
              "SignatureMethod": "HMAC-SHA1", "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
              "SignatureVersion": "1.0", "TemplateCode": "SMS_71390007", "TemplateParam": '{"customer":"test"}',
              "Timestamp": "2017-07-12T02:42:19Z", "Version": "2017-05-25"}
    assert signature(params, "testSecret") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="


def test_aliyun_send_request_is_signed_query_parameters():
    seen = []
    sms = AliyunSms(access_key_id="testId", access_key_secret="testSecret", sign_name="星河购物中心",
                    template_code="SMS_1", transport=lambda url: seen.append(url) or {"Code": "OK", "BizId": "9"},
                    clock=lambda: datetime.datetime(2026, 3, 8, 2, 0, tzinfo=datetime.UTC), nonce=lambda: "n-1")
    assert sms.send(OUT) == "9"
    url = urllib.parse.urlsplit(seen[0])
    query = dict(urllib.parse.parse_qsl(url.query))
    assert url.netloc == "dysmsapi.aliyuncs.com" and "+" not in url.query
    assert query.pop("Signature") == signature(query, "testSecret")
    assert query == {"AccessKeyId": "testId", "Action": "SendSms", "Format": "JSON", "OutId": OUT.ref,
                     "PhoneNumbers": "13812345678", "RegionId": "cn-hangzhou", "SignName": "星河购物中心",
                     "SignatureMethod": "HMAC-SHA1", "SignatureNonce": "n-1", "SignatureVersion": "1.0",
                     "TemplateCode": "SMS_1", "TemplateParam": '{"content":"李女士，生日快乐！"}',
                     "Timestamp": "2026-03-08T02:00:00Z", "Version": "2017-05-25"}


def test_aliyun_errors_are_transient_or_permanent():
    def sms(code):
        return AliyunSms(access_key_id="a", access_key_secret="b", sign_name="c", template_code="d",
                         transport=lambda url: {"Code": code, "Message": "x"})
    with pytest.raises(TransientError):
        sms("Throttling.User").send(OUT)
    with pytest.raises(PermanentError):
        sms("isv.MOBILE_NUMBER_ILLEGAL").send(OUT)


def test_wechat_template_message_request_json():
    seen = []
    wechat = WeChatTemplate(access_token="TOKEN", template_id="TPL-1",
                            transport=lambda url, body: seen.append((url, body)) or {"errcode": 0, "msgid": 200})
    outgoing = Outgoing(ref="r-1", channel="wechat", to="oOPENID", subject="生日祝福", body="生日快乐")
    assert wechat.send(outgoing) == "200"
    url, body = seen[0]
    assert url == "https://api.weixin.qq.com/cgi-bin/message/template/send?access_token=TOKEN"
    assert body == ('{"touser":"oOPENID","template_id":"TPL-1","client_msg_id":"r-1","data":{"thing1":{"value":'
                    '"生日祝福"},"thing2":{"value":"生日快乐"}}}').encode()
    assert json.loads(body)["touser"] == "oOPENID"


def test_email_goes_over_smtp_to_a_real_server():
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Sink

    class Keep(Sink):
        def __init__(self):
            self.envelopes = []

        async def handle_DATA(self, server, session, envelope):
            self.envelopes.append(envelope)
            return "250 OK"

    import socket

    with socket.socket() as probe:  # a free loopback port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Keep()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        backend = SmtpBackend(host="127.0.0.1", port=port,
                              from_email="vip@mall.example")
        message_id = backend.send(Outgoing(ref="r-9", channel="email", to="lina@example.com", subject="生日祝福",
                                           body="李女士，生日快乐！"))
    finally:
        controller.stop()
    assert message_id == "<r-9@vipcare>"
    [envelope] = handler.envelopes
    assert envelope.rcpt_tos == ["lina@example.com"] and envelope.mail_from == "vip@mall.example"
    text = envelope.content.decode()
    assert "Message-ID: <r-9@vipcare>" in text


def test_smtp_unreachable_is_transient():
    with pytest.raises(TransientError):
        SmtpBackend(host="127.0.0.1", port=1, from_email="a@b.c", timeout=2).send(OUT)
