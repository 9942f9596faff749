"""The responder's prompts: templates in ``prompts/`` filled with a conversation rendered as
``Speaker: …`` / ``Listener: …`` lines. Written for base (not instruction-tuned) models: each prompt is
a document whose natural continuation is the answer."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

PROMPTS_DIR = Path(__file__).resolve().parent / "prompts"
CAUSE_MARK = "*"


@cache
def template(name: str) -> str:
    return (PROMPTS_DIR / f"{name}.txt").read_text(encoding="utf-8").rstrip("\n")


@cache
def strategy_descriptions() -> dict[str, str]:
    return json.loads((PROMPTS_DIR / "strategies.json").read_text(encoding="utf-8"))


def render_turn(role: str, text: str, marks: list[tuple[int, int]] = ()) -> str:
    """One line of the conversation; the character spans in ``marks`` are wrapped in asterisks."""
    for start, end in sorted(marks, reverse=True):
        text = f"{text[:start]}{CAUSE_MARK}{text[start:end]}{CAUSE_MARK}{text[end:]}"
    return f"{role.capitalize()}: {' '.join(text.split())}"


def or_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def emotion_prompt(conversation: str, candidates: list[str] | None = None) -> str:
    if not candidates:
        return template("emotion").format(conversation=conversation)
    return template("emotion_hinted").format(conversation=conversation, candidates=or_list(candidates))


def response_prompt(conversation: str, emotion: str | None = None, causes_marked: bool = False,
                    strategy: str | None = None, memories: str = "") -> str:
    """``memories``: recalled memories as prompt lines (:func:`affectlab.memory.memory_lines`), shown first."""
    guidance = [memories] if memories else []
    if emotion:
        why = "; the words between asterisks show what caused it." if causes_marked else "."
        guidance.append(f"The speaker feels {emotion}{why}")
    if strategy:
        guidance.append(f"In the next reply the listener {strategy_descriptions()[strategy]}.")
    if not guidance:
        return template("respond_plain").format(conversation=conversation)
    return template("respond_guided").format(conversation=conversation, guidance="\n".join(guidance) + "\n")
