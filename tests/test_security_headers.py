"""Security headers on every kind of response, and templates that keep the CSP true."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from app.extensions import db
from app.models import Community
from app.security import register_security_headers
from config import ConfigError, load_config
from tests.conftest import DEMO, second_app

STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'; frame-ancestors 'none'"
)
TEMPLATES = Path(__file__).resolve().parents[1] / "app" / "templates"


def _community_id(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.min(Community.id)))


def _assert_common(response, referrer="strict-origin-when-cross-origin"):
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == referrer
    assert headers["Permissions-Policy"] == "camera=(), microphone=(), geolocation=()"
    assert "Strict-Transport-Security" not in headers  # not outside production


def _assert_framing_denied(response):
    assert response.headers["Content-Security-Policy"] == STRICT_CSP
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("path", ["/", "/auth/login", "/honour-board", "/help"])
def test_public_pages_get_every_header(client, path):
    response = client.get(path)
    assert response.status_code == 200
    _assert_common(response)
    _assert_framing_denied(response)


def test_logged_in_page_gets_every_header(client, auth):
    auth.login(DEMO.grid_worker)
    response = client.get("/registry/")
    assert response.status_code == 200
    _assert_common(response)
    _assert_framing_denied(response)


@pytest.mark.parametrize("path", ["/api/v1/service-types", "/api/v1/openapi.json", "/api/v1/no-such-thing"])
def test_api_gets_the_same_headers(client, path):
    response = client.get(path)
    assert response.status_code in (200, 404)
    assert response.is_json
    _assert_common(response)
    _assert_framing_denied(response)


def test_api_with_a_token_gets_the_headers(client, api_token):
    response = client.get("/api/v1/me", headers=api_token(DEMO.volunteer))
    assert response.status_code == 200
    _assert_common(response)
    _assert_framing_denied(response)


@pytest.mark.parametrize("path", ["/static/css/app.css", "/static/js/notice-board.js"])
def test_static_files_get_the_headers(client, path):
    response = client.get(path)
    assert response.status_code == 200
    _assert_common(response)
    _assert_framing_denied(response)


@pytest.mark.parametrize("path", ["/no-such-page", "/tasks/999999999", "/static/no-such-file.css"])
def test_error_pages_get_the_headers(client, auth, path):
    auth.login(DEMO.volunteer)
    response = client.get(path)
    assert response.status_code == 404
    _assert_common(response)
    _assert_framing_denied(response)


def test_method_not_allowed_page_gets_the_headers(client):
    response = client.delete("/auth/login")
    assert response.status_code == 405
    _assert_framing_denied(response)


@pytest.mark.parametrize(
    "path", ["/c/not-a-token", "/d/not-a-token", "/bank/v/not-a-token", "/calendar/x.ics"]
)
def test_token_pages_send_no_referrer_to_other_sites(client, path):
    # `same-origin`, not `no-referrer`: a form on these pages must still post
    # over HTTPS, where Flask-WTF demands a same-origin Referer.
    response = client.get(path)
    assert response.status_code < 500
    _assert_common(response, referrer="same-origin")
    _assert_framing_denied(response)


def test_other_pages_send_the_origin_only(client):
    # /d (the door-code form) carries no token; only /d/<token> is special.
    assert client.get("/d").headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert client.get("/calendarx").headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_notice_board_display_may_be_framed(app, client):
    community_id = _community_id(app)
    for path in (
        f"/board/{community_id}",
        f"/board/{community_id}/data.json",
        f"/board/{community_id}/qr/join.png",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        _assert_common(response)
        assert "X-Frame-Options" not in response.headers, path
        csp = response.headers["Content-Security-Policy"]
        assert csp == STRICT_CSP.replace("frame-ancestors 'none'", "frame-ancestors *"), path


@pytest.mark.parametrize("path", ["/boards/1", "/board/", "/board/x", "/honour-board", "/teams"])
def test_only_the_display_is_framed(client, path):
    response = client.get(path)
    _assert_framing_denied(response)


def test_board_frame_ancestors_is_a_setting(app):
    sources = "'self' https://screen.example"
    community_id = _community_id(app)
    with second_app(
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"], BOARD_FRAME_ANCESTORS=sources
    ) as other:
        client = other.test_client()
        board = client.get(f"/board/{community_id}")
        page = client.get("/honour-board")
    assert board.status_code == 200
    assert board.headers["Content-Security-Policy"].endswith(f"frame-ancestors {sources}")
    assert "X-Frame-Options" not in board.headers
    _assert_framing_denied(page)


def test_board_frame_ancestors_comes_from_the_environment(monkeypatch):
    assert load_config("development")["BOARD_FRAME_ANCESTORS"] == "*"
    monkeypatch.setenv("BOARD_FRAME_ANCESTORS", "https://screen.example")
    assert load_config("development")["BOARD_FRAME_ANCESTORS"] == "https://screen.example"


@pytest.mark.parametrize(
    "bad", ["*; script-src *", "https://a.example, https://b.example", "* \r\nX-Evil: 1"]
)
def test_board_frame_ancestors_cannot_smuggle_directives(bad):
    bare = Flask(__name__)
    bare.config["BOARD_FRAME_ANCESTORS"] = bad
    with pytest.raises(ConfigError, match="BOARD_FRAME_ANCESTORS"):
        register_security_headers(bare)


def test_hsts_only_in_production(app, client, monkeypatch):
    assert "Strict-Transport-Security" not in client.get("/static/css/app.css").headers
    monkeypatch.setenv("SECRET_KEY", "production-secret")
    monkeypatch.setenv("DATA_KEY", "production-data-key")
    monkeypatch.setenv("DATABASE_URL", app.config["SQLALCHEMY_DATABASE_URI"])
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("BOARD_FRAME_ANCESTORS", raising=False)
    with second_app(env="production") as production:
        client = production.test_client()
        https = {"X-Forwarded-Proto": "https"}
        responses = [
            client.get("/static/css/app.css", headers=https),
            client.get("/auth/login", headers=https),
            client.get("/no-such-page", headers=https),
            client.get("/api/v1/service-types", headers=https),
        ]
    assert [r.status_code for r in responses] == [200, 200, 404, 200]
    for response in responses:
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        _assert_framing_denied(response)


# --- templates keep the policy true --------------------------------------------------

JINJA = re.compile(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", re.S)


class _InlineFinder(HTMLParser):
    """Collects what `script-src 'self'; style-src 'self'` would block."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._script_line: int | None = None
        self._script_text = ""

    def handle_starttag(self, tag, attrs):
        line = self.getpos()[0]
        names = {name.lower(): value or "" for name, value in attrs}
        if tag == "script":
            if "src" not in names:
                self._script_line, self._script_text = line, ""
        elif tag == "style":
            self.found.append(f"line {line}: a <style> element")
        for name, value in names.items():
            if name.startswith("on"):
                self.found.append(f"line {line}: event handler attribute {name}=")
            elif name == "style":
                self.found.append(f"line {line}: style= attribute")
            elif value.strip().lower().startswith("javascript:"):
                self.found.append(f"line {line}: a javascript: URL in {name}=")

    def handle_data(self, data):
        if self._script_line is not None:
            self._script_text += data

    def handle_endtag(self, tag):
        if tag == "script" and self._script_line is not None:
            self.found.append(f"line {self._script_line}: an inline <script> without src")
            self._script_line = None


def inline_code(html: str) -> list[str]:
    """What in `html` (a template with Jinja tags blanked, or a page) the CSP would block."""
    finder = _InlineFinder()
    # Blank the Jinja tags, keeping their newlines so the line numbers stay right.
    finder.feed(JINJA.sub(lambda m: " " + "\n" * m.group().count("\n"), html))
    finder.close()
    return finder.found


def test_the_checker_finds_what_the_csp_blocks():
    bad = (
        "<div style='color:red'>{% if x %}<b>{% endif %}</div>\n<script>alert(1)</script>\n"
        '<button onclick="go()">x</button><style>p{}</style><a href="javascript:go()">y</a>'
    )
    found = inline_code(bad)
    assert len(found) == 5, found
    good = (
        "<script src=\"{{ url_for('static', filename='js/a.js') }}\" defer></script><p class=\"x\">on=1</p>"
    )
    assert inline_code(good) == []


def test_no_template_has_inline_script_style_or_handlers():
    templates = sorted(TEMPLATES.rglob("*.html"))
    assert len(templates) > 20
    problems = [
        f"{path.relative_to(TEMPLATES)} {problem}"
        for path in templates
        for problem in inline_code(path.read_text(encoding="utf-8"))
    ]
    assert problems == [], "the Content-Security-Policy would block:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("phone", "path"),
    [
        (None, "/"),
        (None, "/auth/register"),
        (DEMO.volunteer, "/tasks/"),
        (DEMO.grid_worker, "/staff/tasks/"),
        (DEMO.grid_worker, "/registry/new"),
    ],
)
def test_rendered_pages_have_no_inline_code(client, auth, phone, path):
    # Forms' render_kw and macros add attributes the template scan cannot see.
    if phone:
        auth.login(phone)
    response = client.get(path)
    assert response.status_code == 200
    assert inline_code(response.get_data(as_text=True)) == []
