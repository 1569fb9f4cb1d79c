"""The chat format the plant's datasets and models share, with no heavy import (the datasets stage renders
with it): ChatML special tokens and template, and the default system prompts."""

from __future__ import annotations

EOS, PAD, IM_START, IM_END = "<|endoftext|>", "<|pad|>", "<|im_start|>", "<|im_end|>"
SPECIAL_TOKENS = [EOS, PAD, IM_START, IM_END]

# ChatML, the format Qwen models use; a base model that brings its own template keeps it.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

SYSTEM_PROMPTS = {
    "en": "You are a helpful customer-service assistant.",
    "zh": "你是一名耐心、专业的客服助手。",
}


def render_chat(messages: list[dict], add_generation_prompt: bool = False) -> str:
    import jinja2

    return jinja2.Template(CHAT_TEMPLATE).render(messages=messages, add_generation_prompt=add_generation_prompt)
