"""The community dashboard on the demo data in a real browser: at desktop width
(the screenshot a person looks at), and on a phone without sideways scrolling."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.e2e.conftest import log_in

DESKTOP = {"width": 1366, "height": 900}


def _demo_months() -> str:
    """A range over the demo's five months of history, ending today (Beijing)."""
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    return f"period=custom&from={(today - timedelta(days=160)).replace(day=1).isoformat()}&to={today.isoformat()}"


def test_the_community_dashboard_at_desktop_width(browser, server, steps):
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", base_url=server.url)
    page = context.new_page()
    try:
        log_in(page, "13800000002")  # the community worker of 阳光社区
        page.goto(f"/dashboard/?{_demo_months()}")
        assert page.locator("h1").inner_text().strip()
        charts = page.locator("svg.chart[role=img]")
        assert charts.count() >= 6
        assert page.locator("svg.chart rect").count() > 30
        visits = page.locator("#table-services_month tbody td:nth-child(2)").all_inner_texts()
        assert sum(int(v.replace(",", "")) for v in visits) > 0  # the demo history is on the chart
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        steps.shot(page, "community-dashboard")
    finally:
        context.close()


def test_the_dashboard_on_a_phone(phone, steps):
    log_in(phone, "13800000002")
    phone.goto(f"/dashboard/?{_demo_months()}")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    steps.shot(phone, "dashboard-phone")
