"""Elder-friendly pages (适老化) in a real browser: the pages a resident meets
keep a base font of at least 18 px, tap targets of at least 44×44 px and
readable contrast (axe, in steps.shot); a large-text switch on every page
persists; forms post with JavaScript off; a form left open still posts.

Tap targets: buttons, inputs, selects, text areas and links that stand on
their own. A link inside a sentence is exempt, as WCAG 2.5.8 exempts inline
targets ("the size of the target is constrained by the line-height of
non-target text"). A checkbox or radio is tapped through its label, so the
label is what is measured.
"""

import io
import re
import secrets
import time
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import zxingcpp
from PIL import Image

from tests.e2e.conftest import PHONE, Steps, log_in

LOCAL = ZoneInfo("Asia/Shanghai")
HOUSEHOLD = 3  # a demo household of grid 1 (5号楼301), not the resident 13800000005's own
RESIDENT = "13800000005"
GRID_WORKER = "13800000003"
BASE_FONT = 18
LARGE_FONT = 22
SMALLEST = 16 / 18  # secondary text (a tag, a note) may be smaller than the base, not below 16 px
TARGET = 44
TEXT_CONTROLS = "main :is(input:not([type=checkbox], [type=radio]), select, textarea):visible"

# Tap targets smaller than 44×44 px, as "tag "text" w×h" strings.
SMALL_TARGETS = """() => {
  const small = [];
  const shown = e => {
    const s = getComputedStyle(e), r = e.getBoundingClientRect();
    return s.visibility !== 'hidden' && s.display !== 'none' && r.width > 0 && r.height > 0
      && r.right > 0;  // the skip link waits off-screen until it is focused
  };
  const inSentence = a => getComputedStyle(a).display === 'inline'
    && [...a.parentElement.childNodes].some(n => n !== a && n.textContent.trim());
  for (const e of document.querySelectorAll(
      'a[href], button, input:not([type=hidden]), select, textarea, summary')) {
    if (!shown(e) || (e.matches('a') && inSentence(e))) continue;
    const target = e.matches('input[type=radio], input[type=checkbox]') && e.labels.length
      ? e.labels[0] : e;
    const r = target.getBoundingClientRect();
    if (r.width < 44 || r.height < 44) {
      const text = (target.textContent || target.name || target.value || '').trim().slice(0, 20);
      small.push(`${target.tagName.toLowerCase()} "${text}" ${Math.round(r.width)}×${Math.round(r.height)}`);
    }
  }
  return small;
}"""


def scan(page, image_path: str) -> str:
    """Decode a QR image fetched through the page's own session."""
    png = page.request.get(image_path).body()
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(found) == 1, f"no QR code in {image_path}"
    return found[0].text


def path_of(url: str) -> str:
    return urlsplit(url).path


# --- a checked-out visit, made through the pages ---------------------------------------


def _task_window() -> tuple[str, str, str]:
    """Today's date and a window starting in about ten minutes (local time, 5-minute steps)."""
    start = datetime.now(LOCAL) + timedelta(minutes=10)
    start = start.replace(minute=start.minute - start.minute % 5, second=0, microsecond=0)
    end = min(start + timedelta(hours=1), start.replace(hour=23, minute=59))
    return start.date().isoformat(), start.strftime("%H:%M"), end.strftime("%H:%M")


def _post_task(page) -> int:
    """The grid worker posts a task from the household's open need; its id."""
    log_in(page, GRID_WORKER)
    page.goto(f"/registry/{HOUSEHOLD}")
    from_need = page.get_by_role("link", name="为此需求发布任务")
    if from_need.count():
        from_need.first.click()
    else:  # another test closed the demo need: post the task without one
        page.goto(f"/staff/tasks/new?household_id={HOUSEHOLD}")
    day, starts, ends = _task_window()
    page.get_by_label("日期", exact=True).fill(day)
    page.get_by_label("开始时间").fill(starts)
    page.get_by_label("结束时间").fill(ends)
    page.get_by_role("button", name="发布任务").click()
    page.wait_for_load_state()
    assert page.get_by_text("任务已发布。").is_visible()
    return int(re.search(r"/staff/tasks/(\d+)", page.url).group(1))


def _register_volunteer(page) -> str:
    """A newcomer registers as a volunteer in grid 1; their phone number."""
    phone = "199" + "".join(secrets.choice("0123456789") for _ in range(8))
    page.goto("/auth/register")
    page.get_by_label("姓名").fill("适老测试志愿者")
    page.get_by_label("所在社区和网格").select_option("1")
    page.get_by_label("手机号").fill(phone)
    page.get_by_label("密码", exact=True).fill("a-long-password-1")
    page.get_by_label("再次输入密码").fill("a-long-password-1")
    page.get_by_role("button", name="注册成为志愿者").click()
    page.wait_for_load_state()
    assert page.get_by_text("欢迎！您已注册成为志愿者。").is_visible()
    return phone


def make_checked_out_visit(browser, server, steps: Steps) -> str:
    """Post a task, claim it, check in and out at the door; the confirmation link's path.

    The grid worker also links the resident 13800000005 as a family proxy
    of the household, so that the visit waits on their /visits/pending page.
    """
    contexts = [
        browser.new_context(viewport=PHONE, locale="zh-CN", base_url=server.url, device_scale_factor=1)
        for _ in range(2)
    ]
    worker, volunteer = (context.new_page() for context in contexts)
    try:
        task_id = _post_task(worker)
        steps.shot(worker, "task-posted")
        worker.goto(f"/registry/{HOUSEHOLD}/door-card")
        if worker.get_by_role("button", name="发放入户卡").count():
            worker.get_by_role("button", name="发放入户卡").click()
        worker.get_by_label("亲属的手机号（即其登录账号）").fill(RESIDENT)
        worker.get_by_label("与居民的关系").fill("女儿")
        worker.get_by_role("button", name="绑定为亲情代理人").click()
        worker.wait_for_load_state()
        steps.shot(worker, "door-card-and-proxy")
        door = scan(worker, f"/registry/{HOUSEHOLD}/door-card.png")

        _register_volunteer(volunteer)
        volunteer.goto(f"/tasks/{task_id}")
        volunteer.get_by_role("button", name="认领此任务").click()
        volunteer.wait_for_load_state()
        steps.shot(volunteer, "claimed")
        volunteer.goto(door)
        volunteer.get_by_role("button", name="签到").click()
        volunteer.wait_for_load_state()
        assert volunteer.get_by_text("已签到，感谢您上门服务！").is_visible()
        volunteer.get_by_role("button", name="签退").click()
        volunteer.wait_for_load_state()
        assert f"/visits/{task_id}/confirm-qr" in volunteer.url
        steps.shot(volunteer, "confirmation-qr")
        return path_of(scan(volunteer, f"/visits/{task_id}/confirmation.png"))
    finally:
        for context in contexts:
            context.close()


@pytest.fixture(scope="module")
def confirmation_path(browser, server) -> str:
    """The path a resident's phone opens from the volunteer's confirmation QR."""
    return make_checked_out_visit(browser, server, Steps("elder_friendly_visit_setup"))


# --- the checks ----------------------------------------------------------------------------


def font_px(page, selector: str = "body") -> float:
    return page.evaluate(f"parseFloat(getComputedStyle(document.querySelector('{selector}')).fontSize)")


def smallest_text_px(page) -> float:
    """The smallest font size of any visible text on the page."""
    return page.evaluate(
        """() => Math.min(...[...document.querySelectorAll('body *')]
             .filter(e => e.offsetParent !== null
                          && [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
             .map(e => parseFloat(getComputedStyle(e).fontSize)))"""
    )


def is_large(page) -> bool:
    return page.evaluate("document.documentElement.classList.contains('large-text')")


def check_elder_friendly(page, steps: Steps, label: str, base: float) -> None:
    """Base font, tap targets, no sideways scrolling on the phone; axe and fonts in steps.shot."""
    assert font_px(page) >= base, f"{label}: body text {font_px(page)}px < {base}px"
    assert smallest_text_px(page) >= base * SMALLEST - 0.01, f"{label}: text of {smallest_text_px(page)}px"
    for control in page.locator(TEXT_CONTROLS).all():
        size = control.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
        assert size >= base, f"{label}: the text in a form control is {size}px"
    assert page.evaluate(SMALL_TARGETS) == [], f"{label}: tap targets under {TARGET}×{TARGET}px"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{label}: the page is {width}px wide on a {PHONE['width']}px phone"
    steps.shot(page, label)


def switch_text_size(page, large: bool) -> None:
    """Press the footer's switch, as a person would; the same page comes back."""
    before = page.url
    name = re.compile("^(大字|Large text)$" if large else "^(标准字|Standard text)$")
    page.locator("footer").get_by_role("button", name=name).click()
    page.wait_for_load_state()
    assert page.url == before
    assert is_large(page) is large


RESIDENT_PAGES = {
    "help-choose": "/help",
    "help-grid-poster": "/help/g/1",
    "help-thanks": "/help/g/1/thanks",
    "login": "/auth/login",
    "visit-confirmed": "/c/thanks",
    "confirm-link-not-valid": "/c/not-a-real-token",
    "honour-board": "/honour-board",
}


@pytest.mark.parametrize("name", list(RESIDENT_PAGES))
def test_public_resident_page_is_elder_friendly(new_phone, steps, name):
    page = new_phone()
    page.goto(RESIDENT_PAGES[name])
    check_elder_friendly(page, steps, name, BASE_FONT)
    switch_text_size(page, large=True)
    check_elder_friendly(page, steps, f"{name}-large", LARGE_FONT)


def test_the_confirmation_page_from_a_volunteers_qr_is_elder_friendly(new_phone, steps, confirmation_path):
    resident = new_phone()  # the resident's own phone: no login
    resident.goto(confirmation_path)
    assert "今天帮到您了吗" in resident.locator("h1").inner_text()
    assert resident.get_by_role("radio").count() == 5
    check_elder_friendly(resident, steps, "confirm", BASE_FONT)
    assert font_px(resident, "h1") >= 30  # the one question on the page, in large type
    switch_text_size(resident, large=True)
    check_elder_friendly(resident, steps, "confirm-large", LARGE_FONT)


def test_the_family_proxy_page_is_elder_friendly(new_phone, steps, confirmation_path):
    proxy = new_phone()
    log_in(proxy, RESIDENT)
    proxy.goto("/visits/pending")
    assert proxy.get_by_text("帮到您的家人了吗").count() >= 1  # the visit made above waits here
    check_elder_friendly(proxy, steps, "proxy-pending", BASE_FONT)
    switch_text_size(proxy, large=True)
    check_elder_friendly(proxy, steps, "proxy-pending-large", LARGE_FONT)


def test_large_text_persists_across_pages_and_a_new_page_load(new_phone, steps):
    page = new_phone()
    page.goto("/help/g/1")
    assert not is_large(page) and font_px(page) == BASE_FONT
    switch_text_size(page, large=True)
    assert font_px(page) >= LARGE_FONT
    steps.shot(page, "large-on")

    page.locator("header").get_by_role("link", name="登录").click()  # another page, by a link
    page.wait_for_load_state()
    assert "/auth/login" in page.url and is_large(page)
    steps.shot(page, "next-page-still-large")

    cookie = next(c for c in page.context.cookies() if c["name"] == "large_text")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    days = (cookie["expires"] - time.time()) / 86400
    assert 360 < days <= 366, f"the large-text cookie lasts {days:.0f} days, not a year"

    fresh = page.context.new_page()  # a new load, as after closing the tab
    fresh.goto("/honour-board")
    assert is_large(fresh) and font_px(fresh) >= LARGE_FONT
    steps.shot(fresh, "new-page-load-still-large")

    switch_text_size(fresh, large=False)
    assert font_px(fresh) == BASE_FONT
    fresh.goto("/help")
    assert not is_large(fresh)
    steps.shot(fresh, "back-to-standard")


def fill_help_form(page, marker: str) -> None:
    page.get_by_label("您的姓名").fill("孙阿姨")
    page.get_by_label("电话号码").fill("13912345678")
    page.get_by_label("地址").fill("3号楼101")
    page.get_by_label("您需要什么帮助？").fill(f"灯泡坏了，够不着。{marker}")


def test_the_help_form_works_without_javascript(new_phone, steps):
    page = new_phone(java_script_enabled=False)
    page.goto("/help/g/1")
    assert page.evaluate("document.scripts.length") == 0  # nothing to miss
    fill_help_form(page, "无脚本")
    steps.shot(page, "form-filled-no-js", check=False)  # axe needs JavaScript; checked above
    page.get_by_role("button", name="发送求助").click()
    page.wait_for_load_state()
    assert page.url.endswith("/help/g/1/thanks")
    assert page.get_by_role("heading", name="谢谢您，求助已发送。").is_visible()
    steps.shot(page, "thanks-no-js", check=False)

    switch_text_size(page, large=True)  # the switch is a plain form too
    steps.shot(page, "large-text-no-js", check=False)


def test_a_help_form_left_open_still_posts(new_phone, steps):
    """WTF_CSRF_TIME_LIMIT is None: a token never expires. The server's clock cannot be
    moved from here, so this only checks that a form posted after a wait still goes
    through; config.py's setting is what makes it hold for hours."""
    page = new_phone()
    page.goto("/help/g/1")
    fill_help_form(page, "慢慢填")
    page.wait_for_timeout(3000)  # an elderly user reading slowly
    steps.shot(page, "form-left-open")
    page.get_by_role("button", name="发送求助").click()
    page.wait_for_load_state()
    assert page.url.endswith("/help/g/1/thanks")
    steps.shot(page, "sent-after-a-wait")
