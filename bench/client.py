"""What a phone does over HTTP, on top of any transport: cookies, CSRF tokens, logins.

The bench stands where the README's reverse proxy stands: TLS ends there,
so every request says `X-Forwarded-Proto: https` (the app trusts one proxy
hop in production), the Secure session cookie is sent back as a browser on
https would, and forms are posted with a same-origin Referer, which
Flask-WTF demands over https. A transport is a callable
`(method, path, headers, body, name, expect) -> Answer` that also records the
request's time under `name` (bench/drivers.py, bench/locustfile.py).
"""

import html
import json
import re
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

SETUP = "setup"  # requests under this name (logins) are not measured
PROXY_HEADERS = {
    "X-Forwarded-Proto": "https",
    "X-Forwarded-For": "127.0.0.1",
    "Accept-Language": "zh-CN,zh;q=0.9",
    "Accept-Encoding": "gzip",
    "User-Agent": "mutual-aid-bench",
}
_CSRF_INPUT = re.compile(r"<input[^>]*\bname=\"csrf_token\"[^>]*>")
_VALUE = re.compile(r"\bvalue=\"([^\"]*)\"")


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # lower-case names
    set_cookies: list[str]
    body: bytes

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)


class Refused(Exception):
    """The site answered otherwise than a working site does (the request is counted as an error)."""


def csrf_token(page: str) -> str:
    """The value of the form's hidden csrf_token field."""
    tag = _CSRF_INPUT.search(page)
    value = _VALUE.search(tag.group(0)) if tag else None
    if value is None:
        raise Refused("the page has no csrf_token field")
    return html.unescape(value.group(1))


def path_of(url: str) -> str:
    """`/c/<token>` of `https://host/c/<token>`: the bench talks to its own server."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class Session:
    """One phone: its cookies, and what it sends with every request."""

    def __init__(self, transport, host: str):
        self.transport = transport
        self.host = host  # "127.0.0.1:8000", for the Referer
        self.cookies: dict[str, str] = {}

    def request(
        self,
        method: str,
        path: str,
        *,
        name: str,
        expect: int = 200,
        form: dict | None = None,
        payload: dict | None = None,
        bearer: str | None = None,
        referer: str | None = None,
    ) -> Answer:
        """Send one request; Refused unless it answers `expect`."""
        headers = dict(PROXY_HEADERS)
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif payload is not None:
            body = json.dumps(payload).encode()
            headers["Content-Type"] = "application/json"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{key}={value}" for key, value in self.cookies.items())
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        if referer:
            headers["Referer"] = f"https://{self.host}{referer}"
        answer = self.transport(method, path, headers, body, name, expect)
        self._keep(answer.set_cookies)
        if answer.status != expect:
            raise Refused(f"{name}: {method} {path} answered {answer.status}, not {expect}")
        return answer

    def get(self, path: str, *, name: str, expect: int = 200) -> Answer:
        return self.request("GET", path, name=name, expect=expect)

    def submit(self, page_path: str, page: Answer, fields: dict, *, name: str, expect: int = 302) -> Answer:
        """Post the page's form back to it, with its CSRF token, as a browser does."""
        form = {"csrf_token": csrf_token(page.text()), **fields}
        return self.request("POST", page_path, name=name, expect=expect, form=form, referer=page_path)

    def log_in(self, phone: str, password: str) -> None:
        """Through the login form: the session cookie a phone's browser gets."""
        page = self.get("/auth/login", name=SETUP)
        self.submit("/auth/login", page, {"phone": phone, "password": password}, name=SETUP)

    def api_token(self, phone: str, password: str) -> str:
        """POST /api/v1/auth/token, as the phone client does."""
        answer = self.request(
            "POST", "/api/v1/auth/token", name=SETUP, payload={"phone": phone, "password": password}
        )
        return answer.json()["token"]

    def _keep(self, set_cookies: list[str]) -> None:
        for header in set_cookies:
            pair, _, attributes = header.partition(";")
            key, _, value = pair.strip().partition("=")
            attributes = attributes.lower()
            if not value or "max-age=0" in attributes or "expires=thu, 01 jan 1970" in attributes:
                self.cookies.pop(key, None)
            else:
                self.cookies[key] = value
