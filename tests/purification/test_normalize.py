"""Each normalizer on input/expected pairs, English and Chinese."""

import polars as pl
import pytest

from waterworks.assets.purification import normalize as n


def apply(fn, text, **kwargs):
    return pl.DataFrame({"t": [text]}).select(fn(pl.col("t"), **kwargs)).item()


@pytest.mark.parametrize(("text", "expected"), [
    ("ﬁnance ①", "finance 1"),
    ("电话：１３８００１３８０００", "电话:13800138000"),   # NFKC folds full-width punctuation too
    ("Ｈｅｌｌｏ　ｗｏｒｌｄ", "Hello world"),
    ("㈱会社", "(株)会社"),
])
def test_nfkc(text, expected):
    assert apply(n.nfkc, text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("zero\u200bwidth\u200d joiner\ufeff", "zerowidth joiner"),
    ("bell\x07 and\x00 nul", "bell and nul"),
    ("line1\r\nline2\rline3", "line1\nline2\nline3"),
    ("身份\u200e证\u202e号", "身份证号"),
    ("keeps\ttab\nand newline", "keeps\ttab\nand newline"),
])
def test_strip_control(text, expected):
    assert apply(n.strip_control, text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("身份证号：１１０１０５１９９００３０７１２３Ｘ", "身份证号：11010519900307123X"),   # Chinese colon kept
    ("手机１３９　１２３４　５６７８，谢谢！", "手机139 1234 5678，谢谢！"),
    ("ＡＢＣ ａｂｃ", "ABC abc"),
])
def test_fullwidth_to_halfwidth(text, expected):
    assert apply(n.fullwidth_to_halfwidth, text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("  a  \t b  \n\n\n\n c  ", "a b\n\nc"),
    ("你好\u00a0\u00a0世界\u3000！", "你好 世界 ！"),
])
def test_collapse_whitespace(text, expected):
    assert apply(n.collapse_whitespace, text) == expected


def test_html_to_text():
    html = ("<html><head><title>T</title><style>p{}</style></head><body><h1>产品说明</h1>"
            "<p>Fish &amp; chips &lt;3</p><!-- hidden --><script>alert(1)</script><p>第二段<br>换行</p></body></html>")
    out = apply(lambda e: n.collapse_whitespace(n.html_to_text(e)), html)
    assert out == "产品说明\n\nFish & chips <3\n\n第二段\n换行"


def test_markdown_to_text():
    md = "# 标题\n\nSome **bold** and _it_ text, a [link](http://x.y) and ![img](a.png).\n\n- item one\n1. first\n> quoted\n\n```\ncode\n```\n`inline`"
    out = apply(lambda e: n.collapse_whitespace(n.markdown_to_text(e)), md)
    assert out == "标题\n\nSome bold and it text, a link and img.\n\nitem one\nfirst\nquoted\n\ncode\n\ninline"


@pytest.mark.parametrize(("text", "expected"), [
    ("Hello,\n\nMy card is lost.\n\nOn Monday, Support wrote:\n> Please send your order number.\n> Thanks\n\n-- \nJohn\n",
     "Hello,\n\nMy card is lost."),
    ("您好，\n\n请帮我退款。\n\n> 上一封邮件：请提供订单号。\n> 客服中心\n\n-- \n张三\n", "您好，\n\n请帮我退款。"),
    ("Hi\n\n-----Original Message-----\nFrom: a\n", "Hi\n\nFrom: a"),
])
def test_strip_email_clutter(text, expected):
    assert apply(lambda e: n.collapse_whitespace(n.strip_email_clutter(e)), text) == expected


@pytest.mark.parametrize(("config", "text", "expected"), [
    ("t2s", "這是一個測試，身分證號碼", "这是一个测试，身分证号码"),
    ("s2t", "这是一个测试", "這是一個測試"),
    ("t2s", "plain English stays", "plain English stays"),
])
def test_convert_chinese(config, text, expected):
    assert apply(n.convert_chinese, text, config=config) == expected


def test_conversion_goes_to_its_own_column_and_keeps_the_original():
    from waterworks.assets.purification.purify import add_chinese_conversion

    frame = pl.DataFrame({"body": ["這是一個測試", "hello"], "language": ["zh-Hant", "en"]})
    out = add_chinese_conversion(frame, "t2s")
    assert out["body"].to_list() == ["這是一個測試", "hello"]
    assert out["body_zh_hans"].to_list() == ["这是一个测试", None]


@pytest.mark.parametrize(("text", "expected"), [
    ("  张\u200b三 ", "张三"),
    ("１３８ ００１３\n８０００", "138 0013 8000"),
    ("   ", None),
])
def test_normalize_field(text, expected):
    assert apply(n.normalize_field, text) == expected


def test_normalize_text_chain_on_an_html_email():
    text = "<p>Ｒｅｆｕｎｄ　ｐｌｅａｓｅ&nbsp;！</p>\n> old quote\n-- \nsig"
    assert apply(n.normalize_text, text, markup="html", email=True) == "Refund please !"
