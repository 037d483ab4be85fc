"""The one name-masking rule, and what a volunteer sees of a household."""

import pytest

from app.services.privacy import mask_name


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张小明", "张*明"),
        ("欧阳晓华", "欧**华"),
        ("刘备", "刘*"),
        ("王", "王"),
        ("", ""),
        (None, ""),
        (" 李四 ", "李*"),
        ("Anna Li", "A*****i"),
    ],
)
def test_mask_name(name, masked):
    assert mask_name(name) == masked
