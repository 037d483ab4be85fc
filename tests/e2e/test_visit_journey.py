"""The main journey of a visit, in a real browser on phones, in Chinese: a
newcomer registers as a volunteer, a grid worker records a household, its
need and a task, the volunteer claims it, scans the door card in and out,
the resident confirms with the volunteer's QR code on a phone with no login,
and the points show on the volunteer's statement, the honour board and the
community's notice-board screen."""

import io
import re
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import zxingcpp
from PIL import Image

from tests.e2e.conftest import log_in

BEIJING = ZoneInfo("Asia/Shanghai")
GRID_WORKER = "13800000003"  # grid 1 of 阳光社区
COMMUNITY = "阳光社区"
SERVICE_CODE, SERVICE = "haircut", "理发修脚"  # the skill and the service share the name
VOLUNTEER_NAME, MASKED = "邬晓岚", "邬*岚"  # a name no demo volunteer has


def flash_text(page) -> str:
    return " ".join(page.locator("p.flash").all_inner_texts())


def wait_until_shown(image) -> None:
    """The image has loaded and is drawn on the page (not a broken or empty box)."""
    image.page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())


def scan(page, image) -> str:
    """What a phone camera reads from a QR image shown on `page` (fetched through its session)."""
    answer = page.request.get(image.get_attribute("src"))
    assert answer.ok and answer.headers["content-type"] == "image/png"
    codes = zxingcpp.read_barcodes(Image.open(io.BytesIO(answer.body())))
    assert len(codes) == 1, "the image should hold exactly one QR code"
    return codes[0].text


def task_window() -> tuple[str, str, str]:
    """Date, start and end (Beijing time) of a window opening 5–15 minutes from now
    (check-in opens 30 minutes before), inside one day and at least 14 minutes long."""
    start = datetime.now(BEIJING) + timedelta(minutes=5)
    start = (start + timedelta(minutes=-start.minute % 5)).replace(second=0, microsecond=0)
    if start.hour == 23 and start.minute >= 50:
        start = (start + timedelta(days=1)).replace(hour=0, minute=0)
    end = min(start + timedelta(hours=1), start.replace(hour=23, minute=59))
    return start.date().isoformat(), start.strftime("%H:%M"), end.strftime("%H:%M")


# --- the steps ---------------------------------------------------------------------


def register_volunteer(page, steps, phone: str) -> None:
    page.goto("/auth/register")
    assert page.locator("h1").inner_text() == "成为志愿者"
    page.get_by_label("姓名").fill(VOLUNTEER_NAME)
    grid = page.locator(f'#grid_id optgroup[label*="{COMMUNITY}"] option', has_text="第一网格")
    page.get_by_label("所在社区和网格").select_option(grid.get_attribute("value"))
    page.get_by_label(SERVICE, exact=True).check()
    page.get_by_label("周末上午").check()
    page.get_by_label("手机号").fill(phone)
    page.get_by_label("密码", exact=True).fill("journey-pass-1")
    page.get_by_label("再次输入密码").fill("journey-pass-1")
    steps.shot(page, "volunteer-registers")
    page.get_by_role("button", name="注册成为志愿者").click()
    assert "欢迎！您已注册成为志愿者。" in flash_text(page)
    assert page.get_by_role("link", name="任务大厅").is_visible()  # logged in, as a volunteer
    steps.shot(page, "volunteer-registered")


def record_household(page, steps, building: str) -> int:
    page.goto("/registry/")
    steps.shot(page, "registry")
    page.get_by_role("link", name="登记家庭").click()
    assert page.locator("h1").inner_text() == "登记家庭"
    page.get_by_label("楼栋").fill(building)
    page.get_by_label("房号").fill("101")
    page.get_by_label("联系电话").fill("13700000000")
    page.get_by_label("独居").check()
    page.get_by_label("姓名").fill("柏秀英")
    page.get_by_label("出生日期").fill("1941-03-08")
    page.get_by_label("本户现在给予单独同意").check()
    page.get_by_label("同意日期").fill(datetime.now(BEIJING).date().isoformat())
    page.get_by_label("同意范围").fill("身份证号、健康和收入信息，用于安排帮扶")
    steps.shot(page, "household-form")
    page.get_by_role("button", name="登记该户").click()
    assert "该户已登记。" in flash_text(page)
    assert page.locator("h1").inner_text().startswith(building)
    assert "柏秀英" in page.locator("#household").inner_text()
    steps.shot(page, "household-recorded")
    return int(re.search(r"/registry/(\d+)", page.url).group(1))


def add_need(page, steps, note: str) -> None:
    page.locator("#needs").get_by_role("link", name="添加需求").click()
    page.get_by_label("所需服务").select_option(label=SERVICE)
    page.get_by_label("需求内容").fill(note)
    steps.shot(page, "need-form")
    page.get_by_role("button", name="添加需求").click()
    assert "需求已登记。" in flash_text(page)
    assert note in page.locator("#needs").inner_text()
    steps.shot(page, "need-recorded")


def post_task(page, steps, note: str) -> str:
    """Post a task from the need; the day it is on."""
    page.locator("#needs").get_by_role("link", name="为此需求发布任务").click()
    assert page.locator("h1").inner_text() == "发布任务"
    assert page.get_by_label("服务", exact=True).input_value() == SERVICE_CODE  # taken from the need
    assert page.get_by_label("给志愿者的说明").input_value() == note
    day, starts, ends = task_window()
    page.get_by_label("日期", exact=True).fill(day)
    page.get_by_label("开始时间").fill(starts)
    page.get_by_label("结束时间").fill(ends)
    steps.shot(page, "task-form")
    page.get_by_role("button", name="发布任务").click()
    assert "任务已发布。" in flash_text(page)
    assert SERVICE in page.locator("main").inner_text()
    steps.shot(page, "task-posted")
    assert re.search(r"/staff/tasks/\d+$", page.url)
    return day


def claim_task(page, steps, note: str, building: str, day: str) -> None:
    page.get_by_role("link", name="任务大厅").first.click()
    assert page.locator("h1").inner_text() == "任务大厅"
    steps.shot(page, "task-board-all")
    page.get_by_label("服务", exact=True).select_option(label=SERVICE)
    page.get_by_label("日期", exact=True).fill(day)
    page.get_by_role("button", name="筛选").click()
    tile = page.locator("#board li", has_text=note)
    assert tile.count() == 1 and "剩余1个名额" in tile.inner_text().replace(" ", "")
    steps.shot(page, "task-board")
    tile.get_by_role("link").click()
    assert building not in page.locator("main").inner_text()  # no address before a place is held
    steps.shot(page, "task-before-claim")
    page.get_by_role("button", name="认领此任务").click()
    assert "您已认领此任务，地址见下方。" in flash_text(page)
    assert building in page.locator("#contact").inner_text()  # the address, now that a place is held
    steps.shot(page, "task-claimed")


def show_door_card(page, steps, household_id: int):
    """The grid worker issues the new household's door card; its QR image."""
    page.goto(f"/registry/{household_id}")
    steps.shot(page, "household-again")
    page.get_by_role("link", name="入户卡", exact=True).click()
    assert "本户还没有入户卡。" in page.locator("main").inner_text()
    steps.shot(page, "door-card-none")
    page.get_by_role("button", name="发放入户卡").click()
    image = page.get_by_role("img", name="入户卡二维码")
    wait_until_shown(image)
    assert page.get_by_role("button", name="换发新卡").is_visible()  # now it has a card
    steps.shot(page, "door-card")
    return image


def at_the_door(page, steps, door_url: str, button: str, done: str, label: str) -> None:
    page.goto(door_url)
    assert page.locator("h1").inner_text() == "您在这里的服务"
    assert SERVICE in page.locator("main").inner_text()
    steps.shot(page, f"door-{label}")
    page.get_by_role("button", name=button, exact=True).click()
    assert done in flash_text(page)
    steps.shot(page, f"door-{label}-done")


def resident_confirms(page, steps, confirm_url: str, thanks: str) -> None:
    page.goto(confirm_url)
    assert page.locator("h1").inner_text() == f"{MASKED}今天帮到您了吗？"
    assert VOLUNTEER_NAME not in page.content()  # the full name stays private
    page.get_by_label("5 — 非常好").check()
    page.get_by_label("还有什么想说的吗？（可以不填）").fill(thanks)
    steps.shot(page, "resident-confirms")
    page.get_by_role("button", name="是的，确认服务").click()
    assert page.locator("h1").inner_text() == "谢谢您！服务已确认。"
    steps.shot(page, "resident-thanked")


def base_points(page, code: str) -> int:
    catalogue = page.request.get("/api/v1/service-types").json()
    return next(s["points_per_visit"] for s in catalogue if s["code"] == code)


# --- the journey -------------------------------------------------------------------


def test_a_newcomer_helps_a_household_and_is_thanked_on_the_boards(new_phone, tv, steps, server):
    stamp = int(time.time() * 1000)
    phone_number = f"199{stamp % 10**8:08d}"
    building = f"旅程{stamp % 10**6}号楼"
    note = f"老人想理发，请带好工具（{stamp % 10**6}）"
    thanks = f"手艺真好，谢谢小邬！{stamp % 10**4}"

    volunteer = new_phone()
    register_volunteer(volunteer, steps, phone_number)

    worker = new_phone()
    log_in(worker, GRID_WORKER)
    household_id = record_household(worker, steps, building)
    add_need(worker, steps, note)
    day = post_task(worker, steps, note)

    claim_task(volunteer, steps, note, building, day)

    door_url = scan(worker, show_door_card(worker, steps, household_id))
    assert door_url.startswith(f"{server.url}/d/")
    at_the_door(volunteer, steps, door_url, "签到", "已签到，感谢您上门服务！", "check-in")
    at_the_door(
        volunteer, steps, door_url, "签退", "已签退。请把这个二维码给居民扫一扫，确认服务。", "check-out"
    )

    assert volunteer.locator("h1").inner_text() == "请居民扫描这个二维码"
    confirm_qr = volunteer.get_by_role("img", name="确认二维码")
    wait_until_shown(confirm_qr)
    confirm_url = scan(volunteer, confirm_qr)
    assert confirm_url.startswith(f"{server.url}/c/")
    resident = new_phone()  # the resident's own phone: no account, no login
    resident_confirms(resident, steps, confirm_url, thanks)

    points = base_points(volunteer, SERVICE_CODE)
    assert points > 0
    volunteer.get_by_role("link", name="我的积分").click()
    assert volunteer.locator("#balance").inner_text() == str(points)
    lines = volunteer.locator("table.points-lines tbody tr")
    assert lines.count() == 1 and f"+{points}" in lines.first.inner_text()
    assert SERVICE in lines.first.inner_text()  # the reason names the service given
    steps.shot(volunteer, "volunteer-points")

    resident.goto("/honour-board")
    assert resident.locator("h1").inner_text() == "爱心榜"
    steps.shot(resident, "honour-board-default")
    resident.get_by_label("地点").select_option(label=f"幸福街道 · {COMMUNITY}")
    resident.get_by_label("时间段").select_option(label="本月")
    resident.get_by_role("button", name="显示").click()
    row = resident.locator("table.honour").first.locator("tr", has_text=MASKED)
    assert row.count() == 1 and row.locator(".score").inner_text() == str(points)
    assert VOLUNTEER_NAME not in resident.content()
    steps.shot(resident, "honour-board")

    tv.goto("/board/1")
    tv.wait_for_function("document.getAnimations().length === 0")  # the slides have settled
    assert COMMUNITY in tv.locator("h1").inner_text()
    entry = tv.locator("ol.ranking[data-list=volunteers] li", has_text=MASKED)
    assert entry.count() == 1 and entry.locator("[data-field=points]").inner_text() == str(points)
    for part in (".name", ".points"):  # readable from 3 m
        assert entry.locator(part).evaluate("e => parseFloat(getComputedStyle(e).fontSize)") >= 32
    assert thanks in tv.locator(".thanks").first.text_content()  # on the next slide
    assert VOLUNTEER_NAME not in tv.content()
    steps.shot(tv, "notice-board")
