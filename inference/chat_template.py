"""A model's chat template for raw /generate prompts (issue 3).

An endpoint in ``generate`` mode with a local tokenizer folder (``add_endpoint --tokenizer
PATH``) gets its prompts built the way the model was trained to read them: transformers'
``apply_chat_template`` on the run's chat messages, with the generation prompt added.

Two halves:
- :func:`chat_template_describe` reads the folder as plain files (no transformers), for
  ``add_endpoint`` and for freezing into a run's config: where it is, and the SHA-256 of
  its template text, so a run can tell later whether the template changed under it.
- :func:`chat_template_render` (workers only) loads the tokenizer once per folder and
  process, checks the hash against the frozen one, and renders.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

from elmtex_site.errors import ApplicationError

CONFIG_FILE = "tokenizer_config.json"
JINJA_FILE = "chat_template.jinja"  # newer transformers save the template here
JSON_FILE = "chat_template.json"

_tokenizers: dict[str, object] = {}
_lock = threading.Lock()


def _template_text(folder: Path) -> str | None:
    """The chat template as saved in the folder (a string, or the JSON of named
    templates), or None when the folder holds none."""
    jinja = folder / JINJA_FILE
    if jinja.is_file():
        return jinja.read_text(encoding="utf-8")
    for name in (JSON_FILE, CONFIG_FILE):
        path = folder / name
        if not path.is_file():
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        template = data.get("chat_template") if isinstance(data, dict) else None
        if template:
            return template if isinstance(template, str) else json.dumps(template, sort_keys=True)
    return None


def chat_template_describe(path: str) -> dict:
    """``{"tokenizer_path", "sha256"}`` of a tokenizer folder with a chat template;
    ApplicationError naming the folder when it is missing or has no template."""
    path = (path or "").strip()
    if not path:
        raise ApplicationError("tokenizer path is blank; give the folder holding tokenizer_config.json")
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise ApplicationError(
            f"tokenizer folder {path} does not exist; give a local folder with tokenizer files (tokenizer_config.json)"
        )
    if not (folder / CONFIG_FILE).is_file():
        raise ApplicationError(f"tokenizer folder {path} has no {CONFIG_FILE}; is it a transformers tokenizer folder?")
    template = _template_text(folder)
    if template is None:
        raise ApplicationError(
            f"tokenizer folder {path} has no chat template ({CONFIG_FILE} 'chat_template' or {JINJA_FILE}); "
            "use the tokenizer of a chat/instruct model, or leave --tokenizer out"
        )
    return {
        "tokenizer_path": str(folder.resolve()),
        "sha256": hashlib.sha256(template.encode("utf-8")).hexdigest(),
    }


def _tokenizer(path: str):
    """The folder's tokenizer, loaded once per process. Rendering a chat template needs
    only the template and the special tokens, which every tokenizer class takes from the
    same files: a folder with ``tokenizer.json`` loads as ``PreTrainedTokenizerFast``,
    which spares the worker thread importing torch (``AutoTokenizer`` pulls it in)."""
    with _lock:
        tokenizer = _tokenizers.get(path)
        if tokenizer is None:
            if (Path(path) / "tokenizer.json").is_file():
                from transformers import PreTrainedTokenizerFast  # workers only

                tokenizer = PreTrainedTokenizerFast.from_pretrained(path, local_files_only=True)
            else:
                from transformers import AutoTokenizer  # workers only

                tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
            _tokenizers[path] = tokenizer
        return tokenizer


def chat_template_render(*, frozen: dict, messages: list[dict]) -> str:
    """The raw prompt for ``messages`` with the frozen tokenizer's chat template.

    Refuses (ApplicationError) when the folder is gone or its template is no longer the
    one the run was created with: the run's prompts would not be what its config says."""
    path = frozen["tokenizer_path"]
    try:
        current = chat_template_describe(path)
    except ApplicationError as exc:
        raise ApplicationError(f"the run's chat template cannot be read: {exc.message}") from None
    if current["sha256"] != frozen.get("sha256"):
        raise ApplicationError(
            f"the chat template in {path} changed since the run was created (sha256 {current['sha256'][:12]} "
            f"instead of {str(frozen.get('sha256'))[:12]}); restore it, or start a new run"
        )
    try:
        tokenizer = _tokenizer(path)
    except Exception as exc:  # noqa: BLE001 - transformers/tokenizers raise many types for a bad folder
        raise ApplicationError(
            f"the tokenizer in {path} could not be loaded ({type(exc).__name__}); check the folder or re-add the "
            "endpoint without --tokenizer"
        ) from None
    try:
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    except Exception as exc:  # noqa: BLE001 - jinja's TemplateError, or a template's raise_exception()
        # A template's own message (e.g. "System role not supported") names no patient text.
        reason = " ".join(str(exc).split())[:200]
        raise ApplicationError(
            f"the chat template in {path} refused the prompt ({type(exc).__name__}: {reason}); "
            "use a chat-mode endpoint or another tokenizer"
        ) from None
