"""A local stand-in for Alibaba Cloud SMS (dysmsapi, SendSms 2017-05-25): a real HTTP server
in a thread that checks each request as the service does and answers as it does.

It recomputes the RPC signature itself (sorted parameters, RFC 3986 encoding, HMAC-SHA1 with
the secret + "&"), refuses a missing parameter, an unknown key, a stale timestamp or a
reused nonce (HTTP 400/404 with the service's JSON error), and checks the business side:
the approved signature name, the approved template and its variables (present, at most 35
characters), a mainland mobile number. It answers Code "OK" with a BizId, or the service's
error codes (isv.MOBILE_NUMBER_ILLEGAL, isv.BUSINESS_LIMIT_CONTROL...). Failures can be
scripted per phone (`fail_next`), and every accepted message is recorded (`accepted`)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from urllib.parse import parse_qsl, quote, urlsplit

REQUIRED = ("AccessKeyId", "Action", "Format", "SignatureMethod", "SignatureNonce",
            "SignatureVersion", "Timestamp", "Version", "Signature", "PhoneNumbers", "SignName",
            "TemplateCode")
MOBILE = re.compile(r"1[3-9][0-9]{9}")


def _encode(value: str) -> str:
    # Written apart from the client's on purpose: RFC 3986 unreserved characters stay.
    return quote(value, safe="-_.~", encoding="utf-8")


def expected_signature(params: dict[str, str], secret: str, method: str) -> str:
    pairs = sorted((k, v) for k, v in params.items() if k != "Signature")
    query = "&".join(f"{_encode(k)}={_encode(v)}" for k, v in pairs)
    to_sign = "&".join((method, _encode("/"), _encode(query)))
    mac = hmac.new((secret + "&").encode(), to_sign.encode(), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


class AliyunSmsServer:
    def __init__(self, keys: dict[str, str], sign_names: set[str],
                 templates: dict[str, tuple[str, ...]], per_minute: int | None = None):
        self.keys = keys
        self.sign_names = sign_names
        self.templates = templates
        self.per_minute = per_minute
        self.accepted: list[dict] = []
        self.requests = 0
        self.fail_next: dict[str, list[str]] = defaultdict(list)
        self.http_error_next: list[int] = []
        self._nonces: set[str] = set()
        self._recent: dict[str, list[datetime]] = defaultdict(list)
        self._biz = count(900000)
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8")
                self._answer(*server.handle("POST", dict(parse_qsl(body, keep_blank_values=True))))

            def do_GET(self):
                query = urlsplit(self.path).query
                self._answer(*server.handle("GET", dict(parse_qsl(query, keep_blank_values=True))))

            def _answer(self, status: int, payload: dict):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    def handle(self, method: str, p: dict[str, str]) -> tuple[int, dict]:
        request_id = str(uuid.uuid4()).upper()

        def error(status: int, code: str, message: str) -> tuple[int, dict]:
            return status, {"RequestId": request_id, "Code": code, "Message": message,
                            "Recommend": "https://api.aliyun.com/troubleshoot"}

        with self._lock:
            self.requests += 1
            if self.http_error_next:
                return error(self.http_error_next.pop(0), "ServiceUnavailable",
                             "The request has failed due to a temporary failure of the server.")
            for name in REQUIRED:
                if not p.get(name):
                    return error(400, f"Missing{name}", f"{name} is mandatory for this action.")
            if p["AccessKeyId"] not in self.keys:
                return error(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
            if p["SignatureMethod"] != "HMAC-SHA1" or p["SignatureVersion"] != "1.0":
                return error(400, "InvalidSignatureMethod", "Specified signature method is not valid.")
            if not hmac.compare_digest(
                    p["Signature"], expected_signature(p, self.keys[p["AccessKeyId"]], method)):
                return error(400, "SignatureDoesNotMatch",
                             "Specified signature is not matched with our calculation.")
            try:
                stamp = datetime.strptime(p["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            except ValueError:
                return error(400, "InvalidTimeStamp.Format", "Specified time stamp is not valid.")
            if abs(datetime.now(UTC) - stamp) > timedelta(minutes=15):
                return error(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")
            if p["SignatureNonce"] in self._nonces:
                return error(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
            self._nonces.add(p["SignatureNonce"])
            if p["Action"] != "SendSms":
                return error(400, "InvalidAction.NotFound", "Specified api is not found.")
            if p["Version"] != "2017-05-25":
                return error(400, "InvalidVersion", "Specified parameter Version is not valid.")
            if p.get("Format", "XML").upper() != "JSON":
                return error(400, "InvalidParameter", "This test server speaks JSON only.")
            # The business checks: HTTP 200, an isv.* code.
            phone = p["PhoneNumbers"]
            if self.fail_next.get(phone):
                code = self.fail_next[phone].pop(0)
                return error(200, code, "scripted failure")
            if not MOBILE.fullmatch(phone):
                return error(200, "isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
            if p["SignName"] not in self.sign_names:
                return error(200, "isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名")
            names = self.templates.get(p["TemplateCode"])
            if names is None:
                return error(200, "isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板")
            try:
                values = json.loads(p.get("TemplateParam") or "{}")
            except ValueError:
                return error(200, "isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值")
            if not isinstance(values, dict) or any(not isinstance(v, str) for v in values.values()):
                return error(200, "isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值")
            missing = [n for n in names if n not in values]
            if missing:
                return error(200, "isv.TEMPLATE_MISSING_PARAMETERS", f"模板缺少变量 {missing}")
            if any(len(v) > 35 for v in values.values()):
                return error(200, "isv.PARAM_LENGTH_LIMIT", "参数超出长度限制")
            now = datetime.now(UTC)
            if self.per_minute is not None:
                recent = [t for t in self._recent[phone] if now - t < timedelta(minutes=1)]
                self._recent[phone] = recent
                if len(recent) >= self.per_minute:
                    return error(200, "isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1")
                recent.append(now)
            biz_id = f"{next(self._biz)}^0"
            self.accepted.append({"phone": phone, "template": p["TemplateCode"],
                                  "params": values, "out_id": p.get("OutId", ""),
                                  "sign_name": p["SignName"], "biz_id": biz_id})
            return 200, {"Message": "OK", "RequestId": request_id, "BizId": biz_id, "Code": "OK"}
