"""TGI's request validation and error bodies, as the baseline server speaks them (pure).

Messages and statuses follow TGI's router (v3.x) and axum: a body that is not JSON is a
400 in plain text, JSON of the wrong shape a 422 in plain text, a request TGI's validation
refuses a 422 ``{"error", "error_type": "validation"}``. See /work/shared/TGI_PROTOCOL.md.
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass, field

from .prompting import chat_report, report_from_prompt, wanted_keys

PAYLOAD_LIMIT = 2_000_000  # TGI's --payload-limit default, in bytes
MAX_STOP_SEQUENCES = 4
VOCAB_SIZE = 32_000

# Bodies TGI sends for the statuses --fail-status can inject.
ERROR_BODIES: dict[int, tuple[str, str]] = {
    400: ("Input validation error: injected by the baseline server", "validation"),
    413: ("Input validation error: payload too large (injected by the baseline server)", "validation"),
    422: ("Input validation error: injected by the baseline server", "validation"),
    424: ("Request failed during generation: Server error: injected failure (baseline)", "generation"),
    429: ("Model is overloaded", "overloaded"),
    500: ("Incomplete generation", "incomplete_generation"),
    502: ("Bad gateway: the model server is not reachable", "unavailable"),
    503: ("unhealthy", "healthcheck"),
    504: ("Gateway timeout", "timeout"),
}

_TOKEN_RE = re.compile(r"\s*(?:\w+|[^\w\s])|\s+")


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs ~3x (hundreds per answer)
class Token:
    id: int
    text: str
    start: int
    stop: int


def tokenize(text: str) -> list[Token]:
    """Words and punctuation with their leading whitespace; the pieces concatenate back to ``text``."""
    out = []
    for m in _TOKEN_RE.finditer(text):
        piece = m.group()
        out.append(Token(zlib.crc32(piece.encode("utf-8")) % VOCAB_SIZE, piece, m.start(), m.end()))
    return out


def token_dict(token: Token) -> dict:
    """A token as /tokenize answers it."""
    return {"id": token.id, "text": token.text, "start": token.start, "stop": token.stop}


def token_count(text: str) -> int:
    """``len(tokenize(text))`` without building the tokens."""
    return sum(1 for _ in _TOKEN_RE.finditer(text))


class ProtocolError(Exception):
    """An HTTP error answer: ``body`` is a dict (sent as JSON) or a str (sent as plain text)."""

    def __init__(self, status: int, body: dict | str):
        super().__init__(status)
        self.status = status
        self.body = body

    @property
    def error_type(self) -> str:
        return self.body.get("error_type", "") if isinstance(self.body, dict) else "request"


def tgi_error(status: int, message: str | None = None) -> ProtocolError:
    default, error_type = ERROR_BODIES.get(status, ("Request failed", "unknown"))
    return ProtocolError(status, {"error": message or default, "error_type": error_type})


def validation_error(message: str) -> ProtocolError:
    return ProtocolError(422, {"error": message, "error_type": "validation"})


def shape_error(message: str) -> ProtocolError:
    return ProtocolError(422, f"Failed to deserialize the JSON body into the target type: {message}")


def parse_json_body(raw: bytes) -> dict:
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ProtocolError(
            400, f"Failed to parse the request body as JSON: invalid UTF-8 at byte {exc.start}"
        ) from None
    except json.JSONDecodeError as exc:
        raise ProtocolError(
            400, f"Failed to parse the request body as JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise ProtocolError(400, "Failed to parse the request body as JSON: recursion limit exceeded") from None
    if not isinstance(data, dict):
        raise shape_error(f"invalid type: {type(data).__name__}, expected a JSON object")
    return data


def _field(obj: dict, name: str, kinds: tuple, where: str, default=None):
    value = obj.get(name, default)
    if value is None:
        return default
    # bool is an int in Python; serde does not accept true for a number.
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise shape_error(f"{where}{name}: invalid type: {type(value).__name__}, expected {kinds[0].__name__}")
    return value


def _uint(obj: dict, name: str, where: str) -> int | None:
    value = _field(obj, name, (int,), where)
    if value is not None and value < 0:
        raise shape_error(f"{where}{name}: invalid value: integer `{value}`, expected u32")
    return value


def _stop(obj: dict, where: str) -> list[str]:
    stop = obj.get("stop") or []
    if isinstance(stop, str):
        stop = [stop]
    if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop):
        raise shape_error(f"{where}stop: invalid type, expected a sequence of strings")
    if len(stop) > MAX_STOP_SEQUENCES:
        raise validation_error(f"`stop` supports up to {MAX_STOP_SEQUENCES} stop sequences. Given: {len(stop)}")
    return stop


def _has_type_list(node) -> bool:
    if isinstance(node, dict):
        if isinstance(node.get("type"), list):
            return True
        return any(_has_type_list(v) for v in node.values())
    if isinstance(node, list):
        return any(_has_type_list(v) for v in node)
    return False


def grammar_schema(grammar, where: str) -> dict | None:
    """The JSON schema of a ``grammar``/``response_format`` (``None`` for a regex grammar)."""
    if not isinstance(grammar, dict):
        raise shape_error(f"{where}: invalid type, expected internally tagged enum GrammarType")
    kind = grammar.get("type")
    if kind not in ("json", "json_object", "regex", "json_schema"):
        raise shape_error(f"{where}: unknown variant `{kind}`, expected one of `json`, `regex`, `json_schema`")
    if "value" not in grammar:
        raise shape_error(f"{where}: missing field `value`")
    value = grammar["value"]
    if kind == "regex":
        if not isinstance(value, str):
            raise shape_error(f"{where}.value: invalid type, expected a string")
        return None
    if kind == "json_schema":
        if not isinstance(value, dict) or "schema" not in value:
            raise shape_error(f"{where}.value: missing field `schema`")
        value = value["schema"]
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise validation_error(f"grammar is not valid: {exc.msg}") from None
    if not isinstance(value, dict):
        raise validation_error("grammar is not valid: the schema must be a JSON object")
    if _has_type_list(value):
        raise validation_error(
            'grammar is not valid: a `type` list is not supported; write {"anyOf": [{"type": ...}, ...]}'
        )
    if not isinstance(value.get("properties"), dict):
        raise validation_error("grammar is not valid: Grammar must have a 'properties' field")
    return value


@dataclass
class Generation:
    """A validated request, in the form the generator needs."""

    inputs: str  # the text the prompt tokens are counted on (for chat: the templated messages)
    report: str
    keys: list[str]
    schema: dict | None
    max_new_tokens: int
    input_tokens: int
    stop: list[str] = field(default_factory=list)
    seed: int | None = None
    do_sample: bool = False
    details: bool = False
    decoder_input_details: bool = False
    return_full_text: bool = False
    stream: bool = False
    stream_usage: bool = False


def _check_lengths(input_tokens: int, max_new_tokens: int | None, limits: tuple[int, int]) -> int:
    max_input, max_total = limits
    if max_new_tokens is None:
        max_new_tokens = max(max_total - input_tokens, 0)
    if max_new_tokens == 0:
        raise validation_error("`max_new_tokens` must be strictly positive")
    if input_tokens + max_new_tokens > max_total:
        raise validation_error(
            f"`inputs` tokens + `max_new_tokens` must be <= {max_total}. "
            f"Given: {input_tokens} `inputs` tokens and {max_new_tokens} `max_new_tokens`"
        )
    if input_tokens > max_input:
        raise validation_error(f"`inputs` must have less than {max_input} tokens. Given: {input_tokens}")
    return max_new_tokens


def generate_request(
    data: dict, *, limits: tuple[int, int], stream: bool | None = None, full_text_default: bool = False
) -> Generation:
    """Validate a ``/``, ``/generate`` or ``/generate_stream`` body (``stream=None``: the body says).

    ``full_text_default``: what an absent ``return_full_text`` means (true on ``/``, as in TGI).
    """
    inputs = data.get("inputs")
    if inputs is None:
        raise shape_error("missing field `inputs`")
    if not isinstance(inputs, str):
        raise shape_error(f"inputs: invalid type: {type(inputs).__name__}, expected a string")
    params = _field(data, "parameters", (dict,), "", {})
    where = "parameters."
    for name in ("temperature", "repetition_penalty", "top_k"):
        value = _field(params, name, (int, float), where)
        if value is not None and value <= 0:
            raise validation_error(f"`{name}` must be strictly positive")
    top_p = _field(params, "top_p", (int, float), where)
    if top_p is not None and not 0 < top_p < 1:
        raise validation_error("`top_p` must be > 0.0 and < 1.0")
    stop = _stop(params, where)
    schema = grammar_schema(params["grammar"], "parameters.grammar") if params.get("grammar") is not None else None
    if not inputs.strip():
        raise validation_error("`inputs` cannot be empty")
    truncate = _uint(params, "truncate", where)
    if truncate is not None:
        if truncate == 0 or truncate > limits[0]:
            raise validation_error(f"`truncate` must be strictly positive and less than {limits[0]}. Given: {truncate}")
        inputs = "".join(t.text for t in tokenize(inputs)[-truncate:])  # TGI keeps the last tokens
    input_tokens = token_count(inputs)
    max_new = _check_lengths(input_tokens, _uint(params, "max_new_tokens", where), limits)
    report, rest = report_from_prompt(inputs)
    return Generation(
        inputs=inputs,
        report=report,
        keys=wanted_keys(rest, schema),
        schema=schema,
        max_new_tokens=max_new,
        input_tokens=input_tokens,
        stop=stop,
        seed=_uint(params, "seed", where),
        do_sample=bool(_field(params, "do_sample", (bool,), where, False)),
        details=bool(_field(params, "details", (bool,), where, False)),
        decoder_input_details=bool(_field(params, "decoder_input_details", (bool,), where, False)),
        return_full_text=bool(_field(params, "return_full_text", (bool,), where, full_text_default)),
        stream=bool(_field(data, "stream", (bool,), "", False)) if stream is None else stream,
    )


def chat_template(messages: list) -> str:
    """A plain chat template: the text the prompt tokens of a chat request are counted on."""
    parts = [
        f"<|{m.get('role')}|>\n{m.get('content') if isinstance(m.get('content'), str) else ''}\n" for m in messages
    ]
    return "".join(parts) + "<|assistant|>\n"


def chat_request(data: dict, *, limits: tuple[int, int]) -> Generation:
    """Validate a ``/v1/chat/completions`` body."""
    messages = data.get("messages")
    if messages is None:
        raise shape_error("missing field `messages`")
    if not isinstance(messages, list) or not all(isinstance(m, dict) and "role" in m for m in messages):
        raise shape_error("messages: invalid type, expected a sequence of messages with a `role`")
    temperature = _field(data, "temperature", (int, float), "")
    if temperature is not None and temperature < 0:
        raise validation_error("`temperature` must be strictly positive")
    stop = _stop(data, "")
    fmt = data.get("response_format")
    schema = grammar_schema(fmt, "response_format") if fmt is not None else None
    inputs = chat_template(messages)
    input_tokens = token_count(inputs)
    max_new = _check_lengths(input_tokens, _uint(data, "max_tokens", ""), limits)
    report, rest = chat_report(messages)
    stream_options = _field(data, "stream_options", (dict,), "", {})
    return Generation(
        inputs=inputs,
        report=report,
        keys=wanted_keys(rest, schema),
        schema=schema,
        max_new_tokens=max_new,
        input_tokens=input_tokens,
        stop=stop,
        seed=_uint(data, "seed", ""),
        # TGI's chat: temperature 0 means greedy; leaving it out means sampling.
        do_sample=temperature is None or temperature > 0,
        stream=bool(_field(data, "stream", (bool,), "", False)),
        stream_usage=bool(stream_options.get("include_usage")),
    )
