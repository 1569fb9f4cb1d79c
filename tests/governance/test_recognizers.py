"""Each recognizer: a valid value, an invalid checksum, embedded in Chinese text (no spaces: \\b never
matches there), full-width digits; plus the checksums themselves."""

import unicodedata

import pytest

from waterworks.governance.pii import checksums
from waterworks.governance.pii.recognizers import (
    BankCardRecognizer,
    CnPhoneRecognizer,
    CnResidentIdRecognizer,
    HkIdRecognizer,
    HkPhoneRecognizer,
    PassportRecognizer,
    TwNationalIdRecognizer,
    TwPhoneRecognizer,
)

THRESHOLD = 0.4  # what the engine keeps (EngineConfig.score_threshold)


def found(recognizer, text: str) -> list[str]:
    results = recognizer.analyze(text, recognizer.supported_entities)
    return [text[r.start:r.end] for r in results if r.score >= THRESHOLD]


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "0" <= c <= "9" or "A" <= c <= "Z" else c for c in text)


# (recognizer, valid value, invalid value (bad checksum / impossible), Chinese sentence template)
CASES = [
    (CnResidentIdRecognizer, "11010519491231002X", "110105194912310021", "客户身份证号码{}已核实"),
    (CnResidentIdRecognizer, "440524198001010013", "440524198013010013", "证件{}请保管"),  # 13th month: invalid
    (CnPhoneRecognizer, "13800138000", "12800138000", "请拨打{}联系我"),
    (CnPhoneRecognizer, "+86 139 1234 5678", "+86 129 1234 5678", "手机{}，谢谢"),
    (TwPhoneRecognizer, "0912-345-678", "0912-345-67", "聯絡電話{}謝謝"),
    (HkPhoneRecognizer, "+852 9123 4567", "+852 4123 4567", "香港電話{}謝謝"),
    (TwNationalIdRecognizer, "A123456789", "A123456788", "身分證字號{}已登記"),
    (TwNationalIdRecognizer, "A800000014", "A800000015", "居留證號{}已登記"),  # new-format resident certificate
    (HkIdRecognizer, "A123456(3)", "A123456(4)", "香港身份證{}已核對"),
    (BankCardRecognizer, "6222021234567890128", "6222021234567890127", "银行卡号{}麻烦查一下"),
    (BankCardRecognizer, "4111 1111 1111 1111", "4111 1111 1111 1112", "卡号{}已冻结"),
    (BankCardRecognizer, "6212345678901232", "6212345678901233", "银联卡{}"),
]


@pytest.mark.parametrize(("recognizer", "valid", "invalid", "template"), CASES,
                         ids=[f"{c[0].__name__}-{c[1]}" for c in CASES])
def test_valid_invalid_embedded_and_fullwidth(recognizer, valid, invalid, template):
    r = recognizer()
    assert found(r, valid) == [valid]
    assert found(r, invalid) == []
    assert found(r, template.format(valid)) == [valid]
    assert found(r, template.format(invalid)) == []
    wide = fullwidth(valid)
    assert wide != valid
    assert found(r, template.format(wide)) == [wide]


def test_a_value_inside_a_longer_run_of_digits_or_letters_is_not_matched():
    assert found(CnPhoneRecognizer(), "订单号913800138000123") == []
    assert found(TwNationalIdRecognizer(), "SKUA123456789X") == []
    assert found(HkPhoneRecognizer(), "卡号6222 0212 3456 7890 128") == []


def test_phone_formats_our_users_meet():
    r = CnPhoneRecognizer()
    for value in ("0086-138-0013-8000", "138 0013 8000", "138-0013-8000", "+8613800138000"):
        assert found(r, f"电话{value}。") == [value], value
    # A landline needs context (a bare 0xx number could be anything) and keeps its extension.
    assert found(r, "电话：010-6512 3456 转 88。") == ["010-6512 3456 转 88"]
    assert found(r, "Call 021 5888 1234 ext 12 today") == ["021 5888 1234 ext 12"]
    assert found(r, "或者010-6275 4070") == ["010-6275 4070"]
    assert found(r, "编号 0106512") == []
    # A local number without area code only in context, and the next item of a list shares it.
    assert found(r, "订单号 66174063") == []
    assert found(r, "电话是多少?\n客服:有两部,你都记一下,57859826和57859828。") == ["57859826", "57859828"]


def test_legacy_15_digit_id_only_in_context():
    r = CnResidentIdRecognizer()
    assert found(r, "身份证：110105491231002") == ["110105491231002"]
    assert found(r, "流水号110105491231002") == []
    assert found(r, "身份证：110105491331002") == []  # month 13


def test_passports_need_context():
    r = PassportRecognizer()
    assert found(r, "护照号码E12345678，请核对") == ["E12345678"]
    assert found(r, "My passport number is G12345678 if you need it.") == ["G12345678"]
    assert found(r, "型号E12345678") == []


def test_a_resident_id_that_happens_to_pass_luhn_is_an_id_not_a_card():
    candidates = (f"44052419800101{seq:03d}" for seq in range(1000))
    value = next(v + c for v in candidates if (c := checksums.cn_resident_id_check_char(v)) != "X"
                 and checksums.luhn_valid(v + c))
    assert checksums.cn_resident_id_valid(value) and checksums.luhn_valid(value)
    assert found(BankCardRecognizer(), f"号码{value}") == []
    assert found(CnResidentIdRecognizer(), f"号码{value}") == [value]


def test_checksums_fold_fullwidth_forms():
    assert checksums.cn_resident_id_valid(unicodedata.normalize("NFKC", "１１０１０５１９４９１２３１００２Ｘ"))
    assert checksums.cn_resident_id_valid("１１０１０５１９４９１２３１００２ｘ")
    assert checksums.hk_id_valid("Ａ１２３４５６（３）")
    assert checksums.hk_id_check_digit("AB", "987654") in "0123456789A"
    assert checksums.luhn_valid("4111-1111-1111-1111")
    assert not checksums.bank_card_valid("1111111111111111")  # no issuer starts with 1


def test_demo_estate_identifiers_are_found_in_sentences(estate_dir):
    import json

    recognizers = {"CN_RESIDENT_ID": CnResidentIdRecognizer(), "TW_NATIONAL_ID": TwNationalIdRecognizer(),
                   "HK_ID": HkIdRecognizer(), "BANK_CARD": BankCardRecognizer()}
    entries = [json.loads(line) for line in (estate_dir / "manifest.jsonl").read_text().splitlines()]
    checked = 0
    for entry in entries:
        if entry["type"] in recognizers:
            assert found(recognizers[entry["type"]], f"资料：{entry['value']}。") == [entry["value"]], entry["type"]
            checked += 1
    assert checked > 300


def test_taiwan_landlines_in_any_script():
    r = TwPhoneRecognizer()
    for number in ("02-1551716", "07 2401439", "(02)2345-6789", "04-23456789", "+886 2 2345 6789", "089-123456"):
        assert found(r, f"電話{number}謝謝") == [number], number
        assert found(r, f"office {number}") == [number], number
    for number in ("01-6393802", "(03) 8123456", "005 55566586"):  # any area code written apart: a landline
        assert found(r, f"電話 {number}") == [number], number
    assert found(r, "2024-05-06") == [] and found(r, "比分 3-1") == [] and found(r, "0912-345-67") == []


def test_chinese_addresses_mainland_and_taiwan():
    from waterworks.governance.pii.chinese_addresses import ChineseAddressRecognizer

    r = ChineseAddressRecognizer()
    for address in ("山西省齐齐哈尔市金平周街E座 129446", "广东省秀华市上街东莞街r座 413119",
                    "新疆维吾尔自治区辛集县上街陈路M座 949620", "上海市浦东新区世纪大道100号",
                    "43977 光復文化路8號9樓", "609 蘆洲石牌巷208號之9", "16211 八德市松山巷6段91號6樓"):
        assert found(r, f"我的地址是{address}。") == [address], address
    assert found(r, "我们在北京路上见面") == []
    assert found(r, "我想去北京市的天安门广场看看") == []


def test_every_planted_chinese_address_is_found(estate_dir):
    import json

    from waterworks.governance.pii.chinese_addresses import ChineseAddressRecognizer

    r = ChineseAddressRecognizer()
    entries = [json.loads(line) for line in (estate_dir / "manifest.jsonl").read_text().splitlines()]
    addresses = {e["value"] for e in entries if e["type"] == "ADDRESS" and any("\u4e00" <= c <= "\u9fff" for c in e["value"])}
    assert len(addresses) > 300
    missed = [a for a in addresses if not any(a in hit for hit in found(r, f"地址：{a}。"))]
    assert missed == []


def test_english_addresses_anchored_on_state_and_zip():
    from waterworks.governance.pii.english_addresses import EnglishAddressRecognizer

    r = EnglishAddressRecognizer()
    for address in ("323 Jose Walk Suite 917, North Michaelshire, IN 09028", "2371 Laura Island, Christopherfort, GU 66193",
                    "PSC 0810, Box 9040, APO AE 08137", "USCGC Brock, FPO AA 39313",
                    "73715 Foster Road Apt. 655, East Patrickberg, CO 72730"):
        assert found(r, f"I live at {address}.") == [address], address
    assert found(r, "We met at 10 Downing Street yesterday.") == []
    assert found(r, "I paid 300 Dollars, TX 12345") == []
