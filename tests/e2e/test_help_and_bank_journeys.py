"""Two journeys on a phone, in Chinese: a resident with no account asks for
help and the grid worker finds it in the inbox; a volunteer redeems a reward
in the welfare bank and the partner scans the voucher and hands it over."""

import io
import re
import secrets

import zxingcpp
from PIL import Image

from tests.e2e.conftest import log_in

GRID_WORKER_OF_GRID_1 = "13800000003"
PARTNER = "13800000006"
# Demo volunteers with points; the journey takes the first with enough, so that
# another test spending some of them does not break it.
VOLUNTEERS_WITH_POINTS = ("13800000034", "13800000024", "13800000044")
HAIRCUT = "理发券"
HAIRCUT_PRICE = 60


def scan(page, image_path: str) -> str:
    """Fetch a QR image through the page's own session and decode it with zxing-cpp."""
    response = page.request.get(image_path)
    assert response.ok and response.headers["content-type"] == "image/png"
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(response.body())))
    assert len(found) == 1, f"no QR code in {image_path}"
    return found[0].text


# --- a resident asks for help -----------------------------------------------------------


def test_a_resident_asks_for_help_and_the_grid_worker_finds_it(new_phone, steps):
    marker = secrets.token_hex(3)
    need = f"家里厨房的灯坏了，我够不着，想请人来换一下。（{marker}）"

    resident = new_phone()  # no account, no login
    resident.goto("/")
    steps.shot(resident, "home")
    resident.locator("main").get_by_role("link", name="一键求助").click()
    resident.get_by_label("您住在哪里：社区和网格").select_option("1")
    steps.shot(resident, "choose-grid")
    resident.get_by_role("button", name="下一步").click()
    resident.wait_for_load_state()
    assert resident.url.endswith("/help/g/1")  # the address a grid's poster QR carries
    resident.get_by_label("您的姓名").fill("王奶奶")
    resident.get_by_label("电话号码").fill("13912345678")
    resident.get_by_label("地址").fill("3号楼101")
    resident.get_by_label("您需要什么帮助？").fill(need)
    resident.get_by_label("需要哪类帮助（不清楚可不选）").select_option(label="水电气维修")
    steps.shot(resident, "form-filled")
    resident.get_by_role("button", name="发送求助").click()
    resident.wait_for_load_state()
    assert resident.url.endswith("/help/g/1/thanks")
    assert resident.get_by_role("heading", name="谢谢您，求助已发送。").is_visible()
    steps.shot(resident, "thanks")

    worker = new_phone()
    log_in(worker, GRID_WORKER_OF_GRID_1)
    steps.shot(worker, "grid-worker-home")
    worker.locator("header").get_by_role("link", name="求助信息").click()
    worker.wait_for_load_state()
    row = worker.locator("tr", has_text=marker)
    assert row.count() == 1, "the request is not in the grid worker's inbox"
    assert "王奶奶" in row.inner_text() and "第一网格" in row.inner_text()
    steps.shot(worker, "inbox")
    row.get_by_role("link", name="王奶奶").click()
    worker.wait_for_load_state()
    main = worker.locator("main").inner_text()
    assert need in main and "13912345678" in main and "3号楼101" in main and "水电气维修" in main
    steps.shot(worker, "request")


# --- a volunteer redeems a reward, the partner hands it over -------------------------------


def balance(page) -> int:
    return int(page.locator(".balance .points").inner_text())


def volunteer_with_points(new_phone, at_least: int):
    """A logged-in page of a demo volunteer with enough points, on the bank's catalogue."""
    for phone in VOLUNTEERS_WITH_POINTS:
        page = new_phone()
        log_in(page, phone)
        page.goto("/bank")
        if balance(page) >= at_least:
            return page
        page.context.close()
    raise AssertionError(f"no demo volunteer has {at_least} points left")


def test_a_volunteer_redeems_a_reward_and_the_partner_hands_it_over(new_phone, steps):
    volunteer = volunteer_with_points(new_phone, HAIRCUT_PRICE)
    volunteer.goto("/")
    volunteer.locator("header").get_by_role("link", name="公益银行").click()
    volunteer.wait_for_load_state()
    points_before = balance(volunteer)
    steps.shot(volunteer, "catalogue")

    reward = volunteer.locator("li.reward", has=volunteer.get_by_role("heading", name=HAIRCUT))
    reward.get_by_role("button", name=f"用{HAIRCUT_PRICE}积分兑换").click()
    volunteer.wait_for_load_state()
    assert volunteer.url.endswith("/bank/vouchers")
    code = re.search(r"兑换券 (\w+) 领取", volunteer.locator(".flash-success").inner_text()).group(1)
    voucher = volunteer.locator("li.voucher", has_text=code)
    assert HAIRCUT in voucher.inner_text() and "待领取" in voucher.inner_text()
    qr_image = voucher.get_by_role("img", name="兑换券二维码")
    assert qr_image.evaluate("img => img.complete && img.naturalWidth > 0")
    steps.shot(volunteer, "voucher-with-qr")
    url = scan(volunteer, qr_image.get_attribute("src"))  # the partner's phone camera
    assert "/bank/v/" in url and code not in url  # a signed token, not the short code

    partner = new_phone()
    log_in(partner, PARTNER)
    partner.goto(url)
    assert partner.get_by_role("heading", name=HAIRCUT).is_visible()
    assert code in partner.locator("main").inner_text()
    steps.shot(partner, "hand-over")
    partner.get_by_role("button", name="确认兑付").click()
    partner.wait_for_load_state()
    assert partner.url.endswith("/bank/partner")
    assert f"已兑付：{HAIRCUT}（兑换券 {code}）。" in partner.locator(".flash-success").inner_text()
    steps.shot(partner, "handed-over")

    volunteer.reload()
    voucher = volunteer.locator("li.voucher", has_text=code)
    assert "已领取" in voucher.inner_text()
    assert voucher.get_by_role("img").count() == 0  # no QR once collected
    steps.shot(volunteer, "voucher-collected")
    volunteer.locator("main").get_by_role("link", name="兑换品").click()
    volunteer.wait_for_load_state()
    assert balance(volunteer) == points_before - HAIRCUT_PRICE
    steps.shot(volunteer, "points-spent")

    again = partner.goto(url)  # the same QR scanned a second time
    assert again.status == 410
    assert partner.get_by_role("heading", name="抱歉").is_visible()
    assert "这张兑换券已经兑付过了。" in partner.locator("main").inner_text()
    assert partner.get_by_role("button", name="确认兑付").count() == 0
    steps.shot(partner, "scanned-again-refused")
