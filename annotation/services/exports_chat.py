"""The ``chat`` export: fine-tuning JSONL, one ``{"messages": [system, user, assistant]}``
per document.

The system and user messages are built by the same functions a live run uses
(``inference.prompts.prompt_template`` / ``template_messages``), so fine-tuning data
reads exactly like the prompts at inference: the naive strategy by default, or the
frozen prompt of a naive/finetuned run (``prompt_run``). The advanced strategy is
refused: its prompts hold retrieved examples chosen per document, which an export
cannot reproduce faithfully. The assistant message is the gold summary as JSON, keys
in schema order (``json.loads`` gives the gold back).

With a local tokenizer folder (``tokenizer``), each record also gets ``"text"``: the
conversation rendered with the model's chat template (no generation prompt, the answer
is part of it); with ``max_tokens``, records whose rendered text has more tokens are
left out and counted as ``over_max_tokens``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from elmtex_site.errors import ApplicationError
from inference import prompts
from inference.chat_template import chat_template_describe

from ..models import Project

if TYPE_CHECKING:
    from inference.models import ModelRun

    from .exports import ExportStats

CHAT_STRATEGIES = ("naive", "finetuned")
OVER_MAX_TOKENS = "over_max_tokens"
# Rendered texts are tokenised this many at a time (the fast tokenizer batches in Rust).
TOKENIZE_BATCH = 256


def chat_options_check(
    *,
    project: Project | None,
    tokenizer: str | None = None,
    max_tokens: int | None = None,
    prompt_run: ModelRun | None = None,
    prefix: str = "--",
) -> None:
    """Refuse chat options that cannot be honoured (ApplicationError naming the option)."""
    from .exports import option_name

    max_name, tokenizer_name = option_name("max-tokens", prefix), option_name("tokenizer", prefix)
    if max_tokens is not None:
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
            raise ApplicationError(f"{max_name}: expected a whole number of at least 1, got {max_tokens!r}")
        if tokenizer is None:
            raise ApplicationError(
                f"{max_name}: needs {tokenizer_name} (tokens are counted with the model's tokenizer)"
            )
    if tokenizer is not None:
        try:
            chat_template_describe(tokenizer)
        except ApplicationError as exc:
            raise ApplicationError(f"{tokenizer_name}: {exc.message}") from None
    if prompt_run is not None:
        prompt_run_check(project=project, run=prompt_run, prefix=prefix)


def prompt_run_check(*, project: Project | None, run: ModelRun, prefix: str = "--") -> dict:
    """The frozen prompt template of ``run``, or ApplicationError why it cannot be used."""
    from .exports import option_name

    option = option_name("prompt-run", prefix)
    name = f"{option}: run {run.pk} ({run.name})"
    if project is not None and run.project_id != project.pk:
        raise ApplicationError(f"{name} belongs to another project")
    if run.strategy not in CHAT_STRATEGIES:
        raise ApplicationError(
            f"{name} uses the {run.strategy} strategy, whose prompts hold examples retrieved per document; "
            f"the chat export writes {' or '.join(CHAT_STRATEGIES)} prompts only (leave {option} out "
            "for the naive prompt)"
        )
    template = (run.config or {}).get("prompt_template")
    if not isinstance(template, dict) or not isinstance(template.get("system"), str):
        raise ApplicationError(f"{name} has no frozen prompt (imported predictions?); choose a live run")
    if project is not None:
        keys = list(project.categories.order_by("order", "pk").values_list("key", flat=True))
        if list(template.get("keys") or []) != keys:
            raise ApplicationError(
                f"{name} was created with other categories than the project has now; its prompt would ask for "
                "other keys than the answers hold"
            )
    return template


def naive_template(project: Project) -> dict:
    categories = [
        prompts.CategoryPrompt(key=c.key, label=c.label, guideline=c.guideline)
        for c in project.categories.order_by("order", "pk")
    ]
    return prompts.prompt_template(strategy="naive", categories=categories)


def tokenizer_load(path: str):
    """The folder's tokenizer, offline; ApplicationError when it cannot be loaded. A
    folder with ``tokenizer.json`` loads as ``PreTrainedTokenizerFast`` (no torch)."""
    try:
        if (Path(path) / "tokenizer.json").is_file():
            from transformers import PreTrainedTokenizerFast

            return PreTrainedTokenizerFast.from_pretrained(path, local_files_only=True)
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(path, local_files_only=True)
    except Exception as exc:  # noqa: BLE001 - transformers raises many types for a bad folder
        raise ApplicationError(
            f"--tokenizer: the tokenizer in {path} could not be loaded ({type(exc).__name__}); check the folder"
        ) from None


class ChatLines:
    """Turns records into chat JSONL lines with one prompt (and tokenizer, if any).

    Without a tokenizer and with a prompt that sends the report as the user message (the
    naive and finetuned templates do), lines are joined from JSON texts made by the
    database (:func:`.exports.gold_chat_parts`): ``takes_parts``. The bytes equal
    ``json.dumps({"messages": chat_messages(...)})``; tests compare the two.
    """

    def __init__(self, *, template: dict, tokenizer=None, path: str | None = None, max_tokens=None, stats=None):
        self.template = template
        self.tokenizer = tokenizer
        self.path = path
        self.max_tokens = max_tokens
        self.stats = stats
        user = template.get("user", prompts.REPORT_PLACEHOLDER)
        self.takes_parts = tokenizer is None and user == prompts.REPORT_PLACEHOLDER
        system = json.dumps(template["system"], ensure_ascii=False)
        self._head = '{"messages": [{"role": "system", "content": ' + system + '}, {"role": "user", "content": '
        self._middle = '}, {"role": "assistant", "content": '

    def from_parts(self, parts: Iterator[tuple]) -> Iterator[str]:
        """Lines from ``(report JSON text, summary JSON text)`` pairs."""
        head, middle, dumps = self._head, self._middle, json.dumps
        for part in parts:
            yield head + part[0] + middle + dumps(part[1], ensure_ascii=False) + "}]}\n"

    def from_records(self, records: Iterator[dict]) -> Iterator[str]:
        if self.tokenizer is None:
            return _plain_lines(records, self.template)
        return _rendered_lines(records, self.template, self.tokenizer, self.path, self.max_tokens, self.stats)


def chat_chunker(
    *,
    project: Project,
    keys: list[str],
    stats: ExportStats,
    tokenizer: str | None = None,
    max_tokens: int | None = None,
    prompt_run: ModelRun | None = None,
) -> ChatLines:
    """The chat lines maker for an export. The prompt and the tokenizer are prepared
    now, so a bad option fails before a record is read."""
    template = prompt_run_check(project=project, run=prompt_run) if prompt_run is not None else naive_template(project)
    if tokenizer is None:
        return ChatLines(template=template, stats=stats)
    loaded = tokenizer_load(tokenizer)
    return ChatLines(template=template, tokenizer=loaded, path=tokenizer, max_tokens=max_tokens, stats=stats)


def chat_messages(template: dict, record: dict) -> list[dict]:
    """The conversation for one record: the strategy's messages, then the gold as JSON."""
    messages = prompts.template_messages(template, report=record["report"])
    messages.append({"role": "assistant", "content": json.dumps(record["summary"], ensure_ascii=False)})
    return messages


def _plain_lines(records: Iterator[dict], template: dict) -> Iterator[str]:
    dumps = json.dumps
    for record in records:
        yield dumps({"messages": chat_messages(template, record)}, ensure_ascii=False) + "\n"


def _rendered_lines(
    records: Iterator[dict], template: dict, tokenizer, path: str, max_tokens: int | None, stats: ExportStats
) -> Iterator[str]:
    batch: list[tuple[list[dict], str]] = []
    for record in records:
        messages = chat_messages(template, record)
        batch.append((messages, _render(tokenizer, path, messages)))
        if len(batch) >= TOKENIZE_BATCH:
            yield from _batch_lines(batch, tokenizer, max_tokens, stats)
            batch = []
    if batch:
        yield from _batch_lines(batch, tokenizer, max_tokens, stats)


def _render(tokenizer, path: str, messages: list[dict]) -> str:
    try:
        return tokenizer.apply_chat_template(messages, tokenize=False)
    except Exception as exc:  # noqa: BLE001 - jinja's TemplateError, or a template's raise_exception()
        reason = " ".join(str(exc).split())[:200]  # a template's own message, no patient text
        raise ApplicationError(
            f"--tokenizer: the chat template in {path} refused the conversation ({type(exc).__name__}: {reason})"
        ) from None


def _batch_lines(
    batch: list[tuple[list[dict], str]], tokenizer, max_tokens: int | None, stats: ExportStats
) -> Iterator[str]:
    if max_tokens is None:
        lengths = [0] * len(batch)
    else:
        # The rendered text holds the template's special tokens already. verbose=False: the
        # limit here is max_tokens, not the tokenizer's model_max_length (no warning about it).
        encoded = tokenizer([text for _, text in batch], add_special_tokens=False, verbose=False)["input_ids"]
        lengths = [len(ids) for ids in encoded]
    for (messages, text), length in zip(batch, lengths, strict=True):
        if max_tokens is not None and length > max_tokens:
            stats.skip(OVER_MAX_TOKENS)
            continue
        yield json.dumps({"messages": messages, "text": text}, ensure_ascii=False) + "\n"
