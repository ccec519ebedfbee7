"""Generate stage: the packaged model's tokenizer and chat template without its weights.

For the OpenAI-compatible backend (passages are budgeted in the tokens the local model would see) and
the replay tools. transformers reads the tokenizer out of the GGUF's metadata (~15 s, once); the result
is saved under cache_dir/vocab/ and later loads take well under a second. No llama.cpp needed.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Callable

from qa.generate.llm_base import ChatTemplate, ModelError

MANIFEST = "policyqa_vocab.json"


class Vocab:
    def __init__(self, tokenizer) -> None:
        self.tokenizer = tokenizer
        self.template = ChatTemplate(tokenizer.chat_template or "", tokenizer.bos_token or "",
                                     tokenizer.eos_token or "")

    def encode(self, text: str, special: bool = True) -> list[int]:
        """Token ids; with special=False the markers (<|im_end|> …) in `text` count as plain text."""
        return list(self.tokenizer(text, add_special_tokens=False, split_special_tokens=not special)["input_ids"])


def open_vocab(gguf: Path, sha: str, cache_dir: Path) -> Vocab:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoTokenizer

    out = Path(cache_dir) / "vocab" / f"{gguf.stem}-{sha[:12]}"
    try:
        if json.loads((out / MANIFEST).read_text()).get("source_sha256") == sha:
            return Vocab(AutoTokenizer.from_pretrained(out))
    except (OSError, ValueError):
        pass
    try:
        tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    except Exception as e:
        raise ModelError(f"无法读取模型词表 / cannot read the GGUF vocabulary {gguf}: {e}") from e
    tmp = out.with_name(f"{out.name}.{os.getpid()}.tmp")
    try:
        tok.save_pretrained(tmp)
        (tmp / MANIFEST).write_text(json.dumps({"source": gguf.name, "source_sha256": sha}))
        shutil.rmtree(out, ignore_errors=True)
        os.replace(tmp, out)
    except OSError:
        pass   # a read-only cache still gets a working tokenizer, just not a saved one
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return Vocab(tok)
