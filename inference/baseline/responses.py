"""What the baseline "generates" and the TGI/OpenAI response bodies around it (pure)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from .extractor import extract
from .protocol import Generation, Token, tokenize

LOGPROB = -0.01  # a rule engine is sure of itself; clients only need a float here


def _max_length(prop) -> int | None:
    if not isinstance(prop, dict):
        return None
    if isinstance(prop.get("maxLength"), int):
        return prop["maxLength"]
    for option in prop.get("anyOf") or []:
        if isinstance(option, dict) and option.get("type") == "string" and isinstance(option.get("maxLength"), int):
            return option["maxLength"]
    return None


def completion_text(gen: Generation) -> str:
    """The extractor's answer as JSON: the schema's properties in schema order when there is a grammar."""
    values = extract(gen.report, gen.keys)
    if gen.schema is not None:
        for key, prop in gen.schema["properties"].items():
            limit = _max_length(prop)
            if limit is not None:
                values[key] = values[key][:limit]  # a grammar would stop the string there
    return json.dumps(values, ensure_ascii=False)


@dataclass(frozen=True)
class Output:
    tokens: list[Token]
    finish_reason: str  # TGI's: "length", "eos_token", "stop_sequence"

    @property
    def text(self) -> str:
        return "".join(t.text for t in self.tokens)


def finish(text: str, *, max_new_tokens: int, stop: list[str], cut_at: int | None = None) -> Output:
    """Token-by-token end conditions: a stop sequence, then the token budget (or ``cut_at``)."""
    reason = "eos_token"
    ends = [text.find(s) + len(s) for s in stop if s and s in text]
    if ends:
        text, reason = text[: min(ends)], "stop_sequence"
    tokens = tokenize(text)
    limit = max_new_tokens if cut_at is None else min(cut_at, max_new_tokens)
    if len(tokens) > limit:
        tokens, reason = tokens[:limit], "length"
    return Output(tokens, reason)


def _token(t: Token) -> dict:
    return {"id": t.id, "text": t.text, "logprob": LOGPROB, "special": False}


def _full(gen: Generation, out: Output) -> str:
    return gen.inputs + out.text if gen.return_full_text else out.text


def generate_body(gen: Generation, out: Output) -> dict:
    body: dict = {"generated_text": _full(gen, out)}
    if gen.details:
        prefill = []
        if gen.decoder_input_details:
            prefill = [{"id": t.id, "text": t.text, "logprob": None if i == 0 else LOGPROB} for i, t in
                       enumerate(tokenize(gen.inputs))]  # fmt: skip
        body["details"] = {
            "finish_reason": out.finish_reason,
            "generated_tokens": len(out.tokens),
            "seed": gen.seed if gen.do_sample else None,
            "prefill": prefill,
            "tokens": [_token(t) for t in out.tokens],
            "top_tokens": [],
        }
    return body


def stream_events(gen: Generation, out: Output) -> Iterator[dict]:
    """``/generate_stream`` events: one per token, the last with ``generated_text`` and ``details``."""
    last = len(out.tokens) - 1
    for i, t in enumerate(out.tokens):
        event = {"index": i + 1, "token": _token(t), "top_tokens": None, "generated_text": None, "details": None}
        if i == last:
            event["generated_text"] = _full(gen, out)
            event["details"] = {
                "finish_reason": out.finish_reason,
                "generated_tokens": len(out.tokens),
                "seed": gen.seed if gen.do_sample else None,
                "input_length": gen.input_tokens,
            }
        yield event


def chat_finish_reason(out: Output) -> str:
    return "length" if out.finish_reason == "length" else "stop"


def _usage(gen: Generation, out: Output) -> dict:
    n = len(out.tokens)
    return {"prompt_tokens": gen.input_tokens, "completion_tokens": n, "total_tokens": gen.input_tokens + n}


def chat_body(gen: Generation, out: Output, *, ident: str, created: int, model: str, fingerprint: str) -> dict:
    return {
        "id": ident,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "system_fingerprint": fingerprint,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": out.text},
                "logprobs": None,
                "finish_reason": chat_finish_reason(out),
            }
        ],
        "usage": _usage(gen, out),
    }


def chat_chunks(gen: Generation, out: Output, *, ident: str, created: int, model: str, fingerprint: str):
    """OpenAI stream chunks (the caller ends the stream with ``data: [DONE]``)."""
    head = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model}
    head["system_fingerprint"] = fingerprint
    last = len(out.tokens) - 1
    for i, t in enumerate(out.tokens):
        choice = {
            "index": 0,
            "delta": {"role": "assistant", "content": t.text},
            "logprobs": None,
            "finish_reason": chat_finish_reason(out) if i == last else None,
        }
        yield {**head, "choices": [choice], "usage": None}
    if gen.stream_usage:
        yield {**head, "choices": [], "usage": _usage(gen, out)}
