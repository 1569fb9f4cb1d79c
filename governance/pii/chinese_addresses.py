"""Chinese postal addresses in free text (mainland and Taiwan forms), beside the learned detector's ADDRESS
findings: the pattern gives a certain span where an address follows the postal order."""

from __future__ import annotations

import re

from .presidio import Pattern
from .recognizers import WindowContextRecognizer

PROVINCES = ("北京", "天津", "上海", "重庆", "重慶", "河北", "山西", "辽宁", "遼寧", "吉林", "黑龙江", "黑龍江", "江苏",
             "江蘇", "浙江", "安徽", "福建", "江西", "山东", "山東", "河南", "湖北", "湖南", "广东", "廣東", "海南",
             "四川", "贵州", "貴州", "云南", "雲南", "陕西", "陝西", "甘肃", "甘肅", "青海", "台湾", "臺灣", "台灣",
             "内蒙古", "內蒙古", "广西", "廣西", "西藏", "宁夏", "寧夏", "新疆", "香港", "澳门", "澳門")
_HAN = "\u4e00-\u9fff"
_STREET = "路|街|大道|道|巷|弄|胡同|里|村"
_NUMBER = r"(?:[0-9A-Za-z\-]{1,6}(?:号|號|座|栋|棟|幢|室|楼|樓|层|層|单元|單元|段)|之[0-9]{1,3})"


class ChineseAddressRecognizer(WindowContextRecognizer):
    """Chinese postal addresses. Mainland: a province or municipality (with 省/市/自治区/特别行政区), then
    cities, counties and districts, a street (路, 街, 道, 巷…), building and room numbers, an optional postcode.
    Taiwan: a postcode, then district and road (路, 街, 巷, 段) up to a house number (號) and floor (樓)."""

    ENTITY = "ADDRESS"
    REQUIRES = re.compile("[\u4e00-\u9fff]")
    PATTERNS = [
        Pattern("mainland_address",
                "(?:" + "|".join(PROVINCES) + ")(?:[" + _HAN + "]{0,6}?(?:省|自治区|自治區|特别行政区|特別行政區|市))?"
                "[" + _HAN + "0-9]{0,16}?(?:" + _STREET + ")(?:[" + _HAN + "0-9]{0,8}?(?:" + _STREET + "))?" + _NUMBER + r"*(?:\s?[0-9]{6}(?![0-9]))?", 0.6),
        Pattern("taiwan_address",
                r"(?<![0-9])[0-9]{3,6}\s?[" + _HAN + "]{2,12}?(?:" + _STREET + "|段)[" + _HAN + r"0-9]{0,12}?"
                "(?:號|号)" + _NUMBER + "*", 0.6),
    ]
    CONTEXT = ["地址", "住址", "寄到", "送到", "收货", "收貨", "住在", "address"]

    def validate_result(self, pattern_text: str) -> bool | None:
        # "北京路" alone is a road, not somebody's address: a short match needs a number in it.
        return None if len(pattern_text) >= 6 or any(c.isdigit() for c in pattern_text) else False
