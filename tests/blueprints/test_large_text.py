"""The large-text switch (大字, 适老化): a POST form in every page's footer sets
or clears a year-long cookie, and base.html marks <html> while it is on."""

import re

import pytest

from tests.conftest import DEMO

YEAR = 365 * 24 * 3600
LARGE_HTML = re.compile(r'<html lang="[^"]+" class="large-text">')


def is_large(client, path: str = "/") -> bool:
    page = client.get(path).get_data(as_text=True)
    assert page.startswith("<!doctype html>")
    return bool(LARGE_HTML.search(page))


def set_cookie_header(response) -> str:
    (header,) = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("large_text=")]
    return header


def test_every_page_offers_the_switch_and_text_is_standard_at_first(client):
    for path in ("/", "/help", "/auth/login", "/honour-board"):
        page = client.get(path).get_data(as_text=True)
        assert 'formaction="/text-size/large"' in page and 'formaction="/text-size/normal"' in page, path
    assert not is_large(client)


def test_large_then_standard_sets_and_clears_a_year_long_cookie(client):
    response = client.post("/text-size/large", data={"next": "/help?from=poster"})
    assert response.status_code == 302 and response.location == "/help?from=poster"
    header = set_cookie_header(response)
    assert header.startswith("large_text=1;")
    assert f"Max-Age={YEAR}" in header and "HttpOnly" in header and "SameSite=Lax" in header
    assert "Path=/" in header
    assert is_large(client, "/help") and is_large(client, "/auth/login")

    response = client.post("/text-size/normal", data={"next": "/help"})
    assert response.status_code == 302
    assert "Max-Age=0" in set_cookie_header(response)  # deleted
    assert not is_large(client, "/help")


def test_the_choice_outlives_logging_in_and_out(client, auth):
    client.post("/text-size/large")
    auth.login(DEMO.resident)
    assert is_large(client, "/visits/pending")
    auth.logout()
    assert is_large(client)


def test_the_cookie_is_secure_where_the_session_cookie_is(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    assert "Secure" in set_cookie_header(client.post("/text-size/large"))


def test_csrf_is_required(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    response = client.post("/text-size/large", data={"next": "/"})
    assert response.status_code == 400
    assert "large_text" not in " ".join(response.headers.getlist("Set-Cookie"))
    assert not is_large(client)

    page = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/text-size/large", data={"next": "/", "csrf_token": token})
    assert response.status_code == 302
    assert is_large(client)


def test_get_is_not_allowed_and_an_unknown_size_is_404(client):
    assert client.get("/text-size/large").status_code == 405
    assert client.post("/text-size/huge").status_code == 404
    assert not is_large(client)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "evil", ""])
def test_next_never_leaves_the_site(client, target):
    response = client.post("/text-size/large", data={"next": target})
    assert response.status_code == 302 and response.location == "/"
