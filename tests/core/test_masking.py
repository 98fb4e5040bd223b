import datetime

from vipcare.core import masking


def test_mask_phone_keeps_prefix_and_last_four():
    assert masking.mask_phone("13812345678") == "138****5678"
    assert masking.mask_phone("") == ""


def test_mask_email_keeps_first_letter_and_domain():
    assert masking.mask_email("lina@example.com") == "l***@example.com"


def test_mask_text_hides_the_street():
    masked = masking.mask_text("上海市浦东新区世纪大道100号")
    assert masked.startswith("上海市浦东新") and "100" not in masked


def test_mask_id_number_and_date():
    assert masking.mask_id_number("330106198803081234") == "330***********1234"
    assert masking.mask_date(datetime.date(1988, 3, 8)) == "****-03-08"
