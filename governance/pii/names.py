"""Chinese personal names: a surname lexicon plus context.

No offline Chinese NER model is available as a package, so names are found the way a person reading a form
would: a common surname (single or compound) and one or two given-name characters, right after a context
word that introduces a person (我叫, 客户, 联系人, 姓名：…) or right before a title (先生, 女士, 经理…). The
given name stops before characters that usually begin the next word (的, 是, 手机, 电话…)."""

from __future__ import annotations

import re

from .lexicon import COMPOUND_SURNAMES, SURNAMES
from .presidio import Pattern
from .recognizers import WindowContextRecognizer

# Words right before a name (客户张三, 我叫李四); a colon after them usually starts an utterance in a dialogue
# ("客户:谢谢"), so a name after "客户:" must stand alone (followed by punctuation, a space or the end).
INTRODUCERS = ("我叫", "我是", "本人", "客户", "客戶", "顾客", "顧客", "用户", "用戶", "会员", "會員", "员工", "員工",
               "患者", "乘客", "租客", "致", "尊敬的", "亲爱的", "親愛的",
               # A Chinese name in English text: "My name is 张红霞", "This is 吴欢".
               "my name is", "this is", "i am", "i'm", "mr.", "ms.", "mrs.", "dear")
# Field labels of forms: a colon after them is normal (姓名：张三).
LABELS = ("联系人", "聯絡人", "聯繫人", "收件人", "寄件人", "经办人", "經辦人", "负责人", "負責人", "持卡人", "姓名",
          "名字", "申请人", "申請人", "name")
# Common words that begin with a surname character: never a name after an introducer.
NOT_NAMES = ("谢谢", "謝謝", "好的", "是的", "没有", "沒有", "可以", "不是", "请问", "請問", "你好", "您好", "对不起",
             "對不起", "麻烦", "麻煩", "景点", "景點", "周边", "周邊")
TITLES = ("先生", "女士", "小姐", "经理", "經理", "老师", "老師", "医生", "醫生", "律师", "律師", "主任", "总", "總")
# Characters that rarely end a given name but often begin what follows it.
_STOP = "的是在和与與及手电電身证證号號先女小经經老医醫律主总總请請说說要会會已也都就还還到给給于於为為，。、：:；;！!？?（(）) \n"

CONTACT_WORDS = ("方式", "电话", "電話", "客服", "我们", "我們", "我", "人", "地址", "邮箱", "郵箱", "信息", "資訊")
_SURNAME = "(?:" + "|".join(COMPOUND_SURNAMES) + "|[" + SURNAMES + "])"
_GIVEN = f"[\u4e00-\u9fff](?:[^{_STOP}\\W\\d_A-Za-z])?"
_NOT_A_NAME = "(?!" + "|".join(NOT_NAMES) + ")"
# Checked first at each position: a surname's first character (cheap) before the introducer lookbehind (not).
_SURNAME_AHEAD = "(?=[" + SURNAMES + "".join(c[0] for c in COMPOUND_SURNAMES) + "])"


class ChineseNameRecognizer(WindowContextRecognizer):
    ENTITY = "PERSON"
    REQUIRES = re.compile("[\u4e00-\u9fff]")
    PATTERNS = [
        Pattern("introduced", _SURNAME_AHEAD + "(?<=(?:" + "|".join(INTRODUCERS) + r")\s?)" + _NOT_A_NAME + _SURNAME + _GIVEN, 0.75),
        Pattern("introduced_colon", _SURNAME_AHEAD + "(?<=(?:" + "|".join(INTRODUCERS) + r")\s?[:：]\s*)" + _NOT_A_NAME + _SURNAME
                + _GIVEN + r"(?=[\s,，。.;；、!！?？)）]|$)", 0.75),
        Pattern("labelled", _SURNAME_AHEAD + "(?<=(?:" + "|".join(LABELS) + r")[:：\s]*)" + _NOT_A_NAME + _SURNAME + _GIVEN, 0.75),
        Pattern("titled", _SURNAME + _GIVEN + "(?=" + "|".join(TITLES) + ")", 0.6),
        # 请联系吴晶(…) — but not 联系方式, 联系电话, 联系我们…
        Pattern("contact", _SURNAME_AHEAD + "(?<=(?:联系|聯繫|聯絡|致电|致電|询问|詢問)[:：\\s]*)(?!" + "|".join(CONTACT_WORDS) + ")"
                + _SURNAME + _GIVEN, 0.6),
        # A name cell in a table pasted into text: 莫欢,18680462220 (a line or field start, a delimiter, a number).
        Pattern("listed", "(?<=^|[\\n,\\t|;])" + _SURNAME + _GIVEN + "(?=[,\\t|;]\\s*[+0-9])", 0.6),
    ]


class EnglishIntroducedNameRecognizer(WindowContextRecognizer):
    """A capitalised name right after words that introduce a person ("My name is Alexandra Walker", "This is
    Crystal Mitchell"), which a small NER model misses in short support messages."""

    ENTITY = "PERSON"
    REQUIRES = re.compile(r"(?i)name|this is|i am|i'm|signed")
    REGEX_FLAGS = re.DOTALL | re.MULTILINE  # case matters: a name is capitalised (introducers use (?i:…))
    PATTERNS = [
        Pattern("introduced_full_name", r"(?<=(?i:\bmy name is|\bthis is|\bi am|\bi'm|\bname:|\bsigned,?)\s+)"
                r"[A-Z][a-z]+(?:[\-'][A-Z]?[a-z]+)?(?:\s[A-Z][a-z]+(?:[\-'][A-Z]?[a-z]+)?){1,2}(?![A-Za-z])", 0.6),
        Pattern("my_name_is", r"(?<=(?i:\bmy name is|\bname:)\s+)[A-Z][a-z]+(?![A-Za-z])", 0.6),
    ]


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


class MailboxNameRecognizer(WindowContextRecognizer):
    """The display name of a mailbox: "孙刚 <gtaylor@example.com>", "Shelby Rodriguez <s.r@example.com>" (From, To
    and Cc headers, signatures, forwarded text). Whatever stands before an address in angle brackets names
    its owner, a person more often than not."""

    ENTITY = "PERSON"
    REQUIRES = re.compile(r"<[^<>@\s]+@")
    PATTERNS = [
        Pattern("display_name", r"(?<=^|[,;:]|\s)[^\s<>,;:\"@][^<>,;:\"@\n]{0,38}?(?=\s*<[^<>@\s]+@[^<>\s]+>)", 0.6),
        Pattern("quoted_display_name", r'"[^"<>@\n]{1,40}"(?=\s*<[^<>@\s]+@[^<>\s]+>)', 0.6),
    ]
