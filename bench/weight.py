"""Page weight: what a phone downloads for a page — the HTML and every stylesheet,
script, font and image it references (and the stylesheets' own url()s) — in
bytes over the wire.

Neither the app nor gunicorn compresses responses; the README's reverse proxy
(nginx) is where that belongs. So text (HTML, CSS, JS, SVG, JSON) is counted
gzip-compressed at level 6 as such a proxy would send it, and files that are
compressed already (PNG, WOFF2…) as they are. A response the server did
compress is counted as served.
"""

import gzip
import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from bench.client import SETUP, Session, path_of
from bench.report import WEIGHT_TARGET
from bench.scenarios import ROWS, SCENARIOS

TEXT_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml", "application/manifest")
LINK_RELS = {"stylesheet", "icon", "shortcut", "apple-touch-icon", "preload", "modulepreload", "manifest"}
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")


class _References(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "link" and LINK_RELS & set((attributes.get("rel") or "").lower().split()):
            self._add(attributes.get("href"))
        elif tag in ("script", "img", "source", "video", "audio") or (
            tag == "input" and attributes.get("type") == "image"
        ):
            self._add(attributes.get("src"))
            for candidate in (attributes.get("srcset") or "").split(","):
                self._add(candidate.strip().split(" ")[0])

    def _add(self, url):
        if url and not url.startswith(("data:", "#", "javascript:")):
            self.urls.append(url)


def references(page: str) -> list[str]:
    parser = _References()
    parser.feed(page)
    return parser.urls


def css_references(css: str) -> list[str]:
    found = [match.group(1) or match.group(2) for match in CSS_URL.finditer(css)]
    return [url for url in found if not url.startswith("data:")]


def wire_bytes(content_type: str, body: bytes, served_compressed: bool) -> int:
    if served_compressed or not content_type.startswith(TEXT_TYPES):
        return len(body)
    return len(gzip.compress(body, compresslevel=6, mtime=0))


def page_weight(session: Session, path: str) -> dict:
    """The page at `path` and everything it loads, once each."""
    files, external, queue, seen = [], [], [path], set()
    while queue:
        url = queue.pop(0)
        parts = urlsplit(url)
        if parts.netloc and parts.netloc != session.host:
            external.append(url)  # nothing the site serves; a CDN would be a finding in itself
            continue
        local = path_of(url) if parts.netloc else url
        if local in seen:
            continue
        seen.add(local)
        answer = session.get(local, name=SETUP)
        kind = answer.headers.get("content-type", "").split(";")[0]
        compressed = answer.headers.get("content-encoding", "") in ("gzip", "br", "deflate")
        files.append(
            {
                "path": _shown(local),
                "type": kind,
                "raw_bytes": len(answer.body),
                "wire_bytes": wire_bytes(kind, answer.body, compressed),
                "served_compressed": compressed,
            }
        )
        if kind == "text/html" and local == path:
            queue += [urljoin(local, ref) for ref in references(answer.text())]
        elif kind == "text/css":
            queue += [urljoin(local, ref) for ref in css_references(answer.text())]
    total = sum(f["wire_bytes"] for f in files)
    return {
        "path": _shown(path),
        "html_bytes": files[0]["raw_bytes"],
        "raw_bytes": sum(f["raw_bytes"] for f in files),
        "gzip_bytes": total,
        "served_compressed": any(f["served_compressed"] for f in files),
        "files": files,
        "external": external,
        "pass": total <= WEIGHT_TARGET and not external,
    }


def _shown(path: str) -> str:
    """Paths with a secret token in them are shown without it."""
    return re.sub(r"^/(c|d)/[^/?]+", r"/\1/<token>", path)


def measure(plan: dict, new_session) -> list[dict]:
    """The volunteer pages' weight (logged in as the plan's volunteer) and the
    resident's confirmation page (the plan's spare visit)."""
    results = []
    volunteer = new_session()
    volunteer.log_in(plan["volunteer"]["phone"], plan["password"])
    for key, scenario in SCENARIOS.items():
        if scenario.weight_path is None:
            continue
        results.append(
            {"key": key, "title": ROWS[key].title, **page_weight(volunteer, scenario.weight_path(plan))}
        )
    visit = plan["weight_visit"]
    task = f"/api/v1/tasks/{visit['task_id']}"
    phone = new_session()
    phone.request(
        "POST",
        f"{task}/check-out",
        name=SETUP,
        bearer=visit["token"],
        payload={"door_token": visit["door_token"]},
    )
    link = phone.request("POST", f"{task}/confirmation", name=SETUP, bearer=visit["token"]).json()["url"]
    page = page_weight(new_session(), path_of(link))
    results.append({"key": "confirm-page", "title": ROWS["confirm-page"].title, **page})
    return results
