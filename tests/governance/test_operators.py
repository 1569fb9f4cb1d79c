"""Operators: placeholder, mask, drop, and keyed pseudonyms (consistent, format-preserving, never real)."""

import pytest

from waterworks.governance.pii import checksums
from waterworks.governance.pii.operators import (
    PseudonymKey,
    PseudonymKeyMissing,
    is_surrogate,
    replacement,
    surrogate,
)
from waterworks.governance.pii.recognizers import CnPhoneRecognizer

KEY = PseudonymKey(b"a test key of enough length")
OTHER = PseudonymKey(b"another key of enough length")
VALUES = [("CN_RESIDENT_ID", "11010519491231002X"), ("TW_NATIONAL_ID", "A123456789"), ("HK_ID", "A123456(3)"),
          ("BANK_CARD", "6222 0212 3456 7890 128"), ("PHONE_NUMBER", "+86 138 0013 8000"),
          ("PHONE_NUMBER", "0912-345-678"), ("EMAIL_ADDRESS", "jen.morales@example.org"), ("PERSON", "周建国"),
          ("PERSON", "Jennifer Morales")]


@pytest.mark.parametrize(("entity_type", "value"), VALUES)
def test_pseudonyms_are_consistent_keyed_and_different(entity_type, value):
    first = surrogate(entity_type, value, KEY)
    assert first == surrogate(entity_type, value, KEY)
    assert first != value and surrogate(entity_type, value, OTHER) != first
    assert not is_surrogate(entity_type, value)


def test_folded_forms_share_one_pseudonym():
    a = surrogate("PHONE_NUMBER", "138 0013 8000", KEY)
    assert checksums.fold(a) == checksums.fold(surrogate("PHONE_NUMBER", "13800138000", KEY))
    assert surrogate("CN_RESIDENT_ID", "１１０１０５１９４９１２３１００２Ｘ", KEY) == surrogate("CN_RESIDENT_ID", "11010519491231002x", KEY)
    assert surrogate("EMAIL_ADDRESS", "A@B.com", KEY) == surrogate("EMAIL_ADDRESS", "a@b.com", KEY)


def test_surrogates_keep_structure_but_use_forms_no_real_identifier_has():
    cn = surrogate("CN_RESIDENT_ID", "11010519491231002X", KEY)
    assert len(cn) == 18 and cn[17] == checksums.cn_resident_id_check_char(cn[:17]) and is_surrogate("CN_RESIDENT_ID", cn)
    assert not checksums.cn_resident_id_valid(cn)  # birth year 18xx: never a real person
    tw = surrogate("TW_NATIONAL_ID", "A123456789", KEY)
    assert checksums.tw_national_id_valid(tw) and is_surrogate("TW_NATIONAL_ID", tw)
    hk = surrogate("HK_ID", "A123456(3)", KEY)
    assert checksums.hk_id_valid(hk) and is_surrogate("HK_ID", hk)
    card = surrogate("BANK_CARD", "6222 0212 3456 7890 128", KEY)
    assert len(card) == len("6222 0212 3456 7890 128") and card[4] == " " and checksums.luhn_valid(card)
    assert not checksums.bank_card_valid(card) and is_surrogate("BANK_CARD", card)
    phone = surrogate("PHONE_NUMBER", "+86 138 0013 8000", KEY)
    assert phone.startswith("+86 100 ") and len(phone) == len("+86 138 0013 8000") and is_surrogate("PHONE_NUMBER", phone)
    assert CnPhoneRecognizer().analyze(f"电话{phone}", ["PHONE_NUMBER"]) == []  # the scanner does not flag it
    assert is_surrogate("PHONE_NUMBER", surrogate("PHONE_NUMBER", "0912-345-678", KEY))
    assert surrogate("EMAIL_ADDRESS", "x@y.com", KEY).endswith("@example.invalid")
    name = surrogate("PERSON", "周建国", KEY)
    assert len(name) == 3 and all("\u4e00" <= c <= "\u9fff" for c in name)


def test_other_operators_and_key_handling(monkeypatch):
    assert replacement("placeholder", "PHONE_NUMBER", "13800138000") == "<PHONE_NUMBER>"
    assert replacement("mask", "PHONE_NUMBER", "138-0013-8000") == "***-****-****"
    assert replacement("drop", "PERSON", "王伟") == ""
    with pytest.raises(ValueError, match="unknown operator"):
        replacement("shred", "PERSON", "王伟")
    monkeypatch.delenv("WATERWORKS_PSEUDONYM_KEY", raising=False)
    with pytest.raises(PseudonymKeyMissing, match="WATERWORKS_PSEUDONYM_KEY"):
        PseudonymKey.from_env()
    monkeypatch.setenv("WATERWORKS_PSEUDONYM_KEY", "s3cret-s3cret-s3cret")
    key = PseudonymKey.from_env()
    assert "s3cret" not in repr(key) and "s3cret" not in str(key)
