"""WeChat Official Account template messages (模板消息): POST JSON to message/template/send."""

import json
import urllib.request

from vipcare.care.channels.base import Outgoing, PermanentError, TransientError

ENDPOINT = "https://api.weixin.qq.com/cgi-bin/message/template/send?access_token="


class WeChatTemplate:
    idempotent = False

    def __init__(self, *, access_token: str, template_id: str, transport=None):
        self.access_token, self.template_id = access_token, template_id
        self.transport = transport or _http_post

    def payload(self, outgoing: Outgoing) -> dict:
        return {
            "touser": outgoing.to,
            "template_id": self.template_id,
            "client_msg_id": outgoing.ref,
            "data": {"thing1": {"value": outgoing.subject[:20]}, "thing2": {"value": outgoing.body}},
        }

    def body(self, outgoing: Outgoing) -> bytes:
        return json.dumps(self.payload(outgoing), ensure_ascii=False, separators=(",", ":")).encode()

    def send(self, outgoing: Outgoing) -> str:
        answer = self.transport(ENDPOINT + self.access_token, self.body(outgoing))
        errcode = answer.get("errcode", 0)
        if errcode == 0:
            return str(answer.get("msgid", ""))
        if errcode in (-1, 45009, 40001, 42001):  # busy, rate limit, token expired
            raise TransientError(f"{errcode}: {answer.get('errmsg', '')}")
        raise PermanentError(f"{errcode}: {answer.get('errmsg', '')}")


def _http_post(url: str, body: bytes) -> dict:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (fixed https endpoint)
            return json.loads(response.read())
    except OSError as exc:
        raise TransientError(str(exc)) from exc
