"""One small gateway interface, `send(phone, template_code, params, out_id) -> provider id`,
with its backends:

- ConsoleGateway: logs the text and gives a local id; nothing leaves the machine (the default
  for `make run`; the outbox page shows every message it "sent").
- AliyunGateway: Alibaba Cloud SMS `SendSms` (API version 2017-05-25) over plain HTTPS, signed
  by the RPC scheme: every parameter sorted by name, percent-encoded by RFC 3986, the
  canonical string "POST&%2F&" + encode(query), HMAC-SHA1 keyed with the secret + "&",
  Base64. It answers JSON with Code "OK" and a BizId, or an error code.

A failure raises SmsError, which says whether a later try may succeed (throttled, the
network, a 5xx) or not (a bad number, a wrong template, our keys)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Protocol

log = logging.getLogger("fairsite.sms")

# Aliyun's codes worth another try later: flow control per number/minute/hour/day, the
# platform's own throttling, a service hiccup.
ALIYUN_TRANSIENT = frozenset({
    "isv.BUSINESS_LIMIT_CONTROL", "Throttling.User", "Throttling",
    "isp.SYSTEM_ERROR", "ServiceUnavailable", "InternalError", "SignatureNonceUsed",
    "isv.OUT_OF_SERVICE", "isv.DAY_LIMIT_CONTROL",
})


class SmsError(Exception):
    def __init__(self, code: str, message: str = "", transient: bool = False):
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message
        self.transient = transient


class Gateway(Protocol):
    def send(self, phone: str, template_code: str, params: Mapping[str, str],
             out_id: str) -> str: ...


class ConsoleGateway:
    """Logs the message instead of sending it."""

    def send(self, phone: str, template_code: str, params: Mapping[str, str], out_id: str) -> str:
        log.info("SMS (console, not sent) to %s****%s template %s out_id %s params %s",
                 phone[:3], phone[-4:], template_code, out_id,
                 json.dumps(dict(params), ensure_ascii=False))
        return f"console-{secrets.token_hex(8)}"


def percent_encode(value: str) -> str:
    """RFC 3986 as Aliyun's signature wants it: only A-Z a-z 0-9 - _ . ~ stay as they are
    (so a space is %20, "*" is %2A, "~" stays)."""
    return urllib.parse.quote(str(value), safe="~")


def canonical_query(params: Mapping[str, str]) -> str:
    return "&".join(f"{percent_encode(k)}={percent_encode(params[k])}" for k in sorted(params))


def aliyun_signature(params: Mapping[str, str], secret: str, method: str = "POST") -> str:
    string_to_sign = f"{method}&{percent_encode('/')}&{percent_encode(canonical_query(params))}"
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class AliyunGateway:
    def __init__(self, access_key_id: str, access_key_secret: str, sign_name: str,
                 endpoint: str = "https://dysmsapi.aliyuncs.com/", region: str = "cn-hangzhou",
                 timeout: float = 10.0):
        if not (access_key_id and access_key_secret and sign_name):
            raise ValueError("SMS_BACKEND 'aliyun' needs SMS_ALIYUN_ACCESS_KEY_ID, "
                             "SMS_ALIYUN_ACCESS_KEY_SECRET and SMS_SIGN_NAME")
        self.key_id = access_key_id
        self.secret = access_key_secret
        self.sign_name = sign_name
        self.endpoint = endpoint
        self.region = region
        self.timeout = timeout

    def request_params(self, phone: str, template_code: str, params: Mapping[str, str],
                       out_id: str) -> dict[str, str]:
        signed = {
            "AccessKeyId": self.key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "RegionId": self.region,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": secrets.token_hex(16),
            "SignatureVersion": "1.0",
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
            "PhoneNumbers": phone,
            "SignName": self.sign_name,
            "TemplateCode": template_code,
            "TemplateParam": json.dumps(dict(params), ensure_ascii=False, separators=(",", ":")),
            "OutId": out_id,
        }
        signed["Signature"] = aliyun_signature(signed, self.secret)
        return signed

    def send(self, phone: str, template_code: str, params: Mapping[str, str], out_id: str) -> str:
        body = urllib.parse.urlencode(self.request_params(phone, template_code, params, out_id),
                                      quote_via=urllib.parse.quote).encode()
        request = urllib.request.Request(
            self.endpoint, data=body, method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                     "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            # Aliyun answers refusals (a bad signature, a wrong key) with a 4xx and the same
            # JSON body; a 5xx is the service's own trouble.
            status, raw = error.code, error.read()
        except (OSError, TimeoutError) as error:
            raise SmsError("network", str(error)[:150], transient=True) from error
        try:
            answer = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise SmsError(f"http.{status}", "unreadable answer", transient=status >= 500) from None
        code = str(answer.get("Code", ""))
        if code == "OK" and answer.get("BizId"):
            return str(answer["BizId"])
        raise SmsError(code or f"http.{status}", str(answer.get("Message", ""))[:150],
                       transient=status >= 500 or code in ALIYUN_TRANSIENT)


def make_gateway(config: Mapping) -> Gateway:
    backend = config.get("SMS_BACKEND", "console")
    if backend == "console":
        return ConsoleGateway()
    if backend == "aliyun":
        return AliyunGateway(
            config["SMS_ALIYUN_ACCESS_KEY_ID"], config["SMS_ALIYUN_ACCESS_KEY_SECRET"],
            config["SMS_SIGN_NAME"], endpoint=config["SMS_ALIYUN_ENDPOINT"],
            region=config["SMS_ALIYUN_REGION"], timeout=float(config["SMS_TIMEOUT"]),
        )
    raise ValueError(f"Unknown SMS_BACKEND {backend!r}: 'console' or 'aliyun'")
