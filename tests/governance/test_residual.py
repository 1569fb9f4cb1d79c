"""The independent residual detector: check digits, full-width and CJK-embedded values, lists of phones
after a phone word, surrogates and placeholders not counted."""

from waterworks.governance.pii.operators import PseudonymKey, surrogate
from waterworks.governance.pii.residual import ResidualReport, residual_findings

KEY = PseudonymKey(b"a test key of enough length")


def test_identifiers_need_valid_check_digits():
    assert residual_findings("身份证11010519491231002X。") == ["CN_RESIDENT_ID"]
    assert residual_findings("身份证110105194912310021。") == []          # wrong check character
    assert residual_findings("身分證A123456789") == ["TW_NATIONAL_ID"]
    assert residual_findings("身分證A123456788") == []
    assert residual_findings("香港身份證A123456(3)") == ["HK_ID"]
    assert residual_findings("card 4111 1111 1111 1111") == ["BANK_CARD"]
    assert residual_findings("card 4111 1111 1111 1112") == []


def test_full_width_and_cjk_embedded():
    assert residual_findings("手机１３９１２３４５６７８，") == ["PHONE_NUMBER"]
    assert residual_findings("发到abc@example.com谢谢") == ["EMAIL_ADDRESS"]
    assert residual_findings("身份证号１１０１０５１９４９１２３１００２Ｘ") == ["CN_RESIDENT_ID"]


def test_phones_and_other_types():
    assert residual_findings("电话是57859826和57859828") == ["PHONE_NUMBER", "PHONE_NUMBER"]
    assert residual_findings("订单 20240101 已发货") == []   # 8 digits without a phone word: not a phone
    assert residual_findings("或者010-62754070") == ["PHONE_NUMBER"]
    assert residual_findings("IBAN GB82 WEST 1234 5698 7654 32") == ["IBAN_CODE"]
    assert residual_findings("server 192.168.1.20") == ["IP_ADDRESS"]


def test_surrogates_and_placeholders_are_not_findings():
    for entity, value in (("CN_RESIDENT_ID", "11010519491231002X"), ("TW_NATIONAL_ID", "A123456789"),
                          ("HK_ID", "A123456(3)"), ("PHONE_NUMBER", "+86 138 0013 8000"),
                          ("EMAIL_ADDRESS", "jen@example.org"), ("BANK_CARD", "4111 1111 1111 1111")):
        assert residual_findings(f"值 {surrogate(entity, value, KEY)} 。") == [], entity
    assert residual_findings("客户<PERSON>的手机<PHONE_NUMBER>") == []


def test_the_plants_own_row_ids_are_not_findings():
    # A row id's 12 hex of a file hash can hold a phone-shaped digit run ("03 714 3442"); the id is the plant's.
    assert residual_findings("mail_archive:75c037143442:12") == []
    assert residual_findings("CRM_Export2:75c037143442:3") == []  # a source id is any Python identifier
    assert residual_findings("see mail_archive:75c037143442:12, call 0371-6275-4070") == ["PHONE_NUMBER"]


def test_report_counts_by_type_and_row_never_values():
    report = ResidualReport()
    report.add("r1", "body", "call 13912345678 or mail a@b.cn")
    report.add("r2", "body", "nothing here")
    assert report.total == 2 and report.values_scanned == 2
    assert dict(report.by_type) == {"PHONE_NUMBER": 1, "EMAIL_ADDRESS": 1}
    assert dict(report.rows["r1"]) == {"body:PHONE_NUMBER": 1, "body:EMAIL_ADDRESS": 1}
