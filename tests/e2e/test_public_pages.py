"""The public pages anyone meets first, in a real browser: the honour board on
a phone and the notice board on the hall's 1080p screen."""


def test_the_honour_board_on_a_phone(phone, steps):
    phone.goto("/honour-board")
    assert phone.locator("h1").inner_text().strip() != ""
    assert "*" in phone.locator("main").inner_text()  # names are masked
    steps.shot(phone, "honour-board")


def test_the_notice_board_on_the_hall_screen_is_readable_from_three_metres(tv, steps):
    tv.goto("/board/1")
    tv.wait_for_timeout(500)
    smallest = tv.evaluate(
        """() => Math.min(...[...document.querySelectorAll('body *')]
             .filter(e => e.offsetParent !== null && e.childNodes.length
                          && [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())
                          && !e.closest('.updated, [data-small]'))
             .map(e => parseFloat(getComputedStyle(e).fontSize)))"""
    )
    assert smallest >= 32, f"text of {smallest}px is too small to read from 3 m"
    steps.shot(tv, "notice-board")
