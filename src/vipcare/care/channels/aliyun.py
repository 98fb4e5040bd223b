"""Aliyun SMS (阿里云短信服务) SendSms through its RPC API: signed query parameters.

Signature (Aliyun "RPC signature", version 1.0): sort the parameters, percent-encode names and
values (RFC 3986: space %20, * %2A, ~ kept), join as a query string, sign
"GET&%2F&" + percent-encode(query) with HMAC-SHA1 keyed by secret + "&", base64.
"""

import base64
import datetime
import hashlib
import hmac
import json
import urllib.parse
import urllib.request
import uuid

from vipcare.care.channels.base import Outgoing, PermanentError, TransientError

ENDPOINT = "https://dysmsapi.aliyuncs.com/"


def percent_encode(value: str) -> str:
    return urllib.parse.quote(str(value), safe="~")


def signature(params: dict, secret: str, method: str = "GET") -> str:
    query = "&".join(f"{percent_encode(k)}={percent_encode(params[k])}" for k in sorted(params))
    to_sign = f"{method}&{percent_encode('/')}&{percent_encode(query)}"
    digest = hmac.new((secret + "&").encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class AliyunSms:
    idempotent = False  # OutId is only echoed back in delivery reports

    def __init__(self, *, access_key_id: str, access_key_secret: str, sign_name: str, template_code: str,
                 transport=None, clock=None, nonce=None):
        self.access_key_id, self.secret = access_key_id, access_key_secret
        self.sign_name, self.template_code = sign_name, template_code
        self.transport = transport or _http_get
        self.clock = clock or (lambda: datetime.datetime.now(datetime.UTC))
        self.nonce = nonce or (lambda: str(uuid.uuid4()))

    def params(self, outgoing: Outgoing) -> dict:
        return {
            "AccessKeyId": self.access_key_id, "Action": "SendSms", "Format": "JSON",
            "OutId": outgoing.ref, "PhoneNumbers": outgoing.to, "RegionId": "cn-hangzhou",
            "SignName": self.sign_name, "SignatureMethod": "HMAC-SHA1", "SignatureNonce": self.nonce(),
            "SignatureVersion": "1.0", "TemplateCode": self.template_code,
            "TemplateParam": json.dumps({"content": outgoing.body}, ensure_ascii=False, separators=(",", ":")),
            "Timestamp": self.clock().strftime("%Y-%m-%dT%H:%M:%SZ"), "Version": "2017-05-25",
        }

    def request_url(self, params: dict) -> str:
        signed = {"Signature": signature(params, self.secret), **params}
        return ENDPOINT + "?" + "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in signed.items())

    def send(self, outgoing: Outgoing) -> str:
        answer = self.transport(self.request_url(self.params(outgoing)))
        code = answer.get("Code")
        if code == "OK":
            return answer.get("BizId", "")
        if code in {"isv.BUSINESS_LIMIT_CONTROL", "Throttling.User", "ServiceUnavailable"}:
            raise TransientError(f"{code}: {answer.get('Message', '')}")
        raise PermanentError(f"{code}: {answer.get('Message', '')}")


def _http_get(url: str) -> dict:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (fixed https endpoint)
            return json.loads(response.read())
    except OSError as exc:
        raise TransientError(str(exc)) from exc
