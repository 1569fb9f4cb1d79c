import pytest


@pytest.fixture(scope="session")
def corpus_texts() -> list[str]:
    """A small bilingual corpus with repeated structure, so that a tiny model's loss falls within steps."""
    english = ["The card arrived today and works fine.", "I want to cancel a transfer I made yesterday.",
               "How do I change my PIN at an ATM?", "My top-up failed, please check the account."]
    chinese = ["你好，我想查询一下我的银行卡余额。", "请帮我推荐一家评分4分以上的酒店。", "这个景点周边有什么餐馆吗？"]
    return [f"{english[i % 4]} {chinese[i % 3]} {english[(i + 1) % 4]}" for i in range(60)]


@pytest.fixture(scope="session")
def tiny_lm(tmp_path_factory, corpus_texts):
    """A tiny causal LM pretrained on the corpus (recipe `pretrain`): (folder, summary)."""
    from waterworks.models.recipes.pretrain import PretrainConfig, run

    out = tmp_path_factory.mktemp("tiny_lm")
    summary = run(PretrainConfig(size="tiny", vocab_size=400, seq_len=64, batch_size=8, epochs=8, lr=5e-3,
                                 device="cpu"), corpus_texts, corpus_texts[:8], out, log=lambda _: None)
    return out, summary
