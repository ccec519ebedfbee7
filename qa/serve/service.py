"""Load the answering side once per process: the configured generator, or extractive mode with a
visible notice when the model cannot be loaded. (A remote server that fails later, mid-answer, is
handled per answer: qa/answering/answer.py falls back to extractive with a notice.)"""
from __future__ import annotations

import logging

from qa.answering.answer import Answerer
from qa.settings import Settings

log = logging.getLogger(__name__)
EXTRACTIVE = "extractive"


def load_answerer(engine, spec: str | None = None, settings: Settings | None = None) -> Answerer:
    settings = settings or engine.settings
    spec = spec or settings.llm
    if spec == EXTRACTIVE:
        return Answerer(engine, None, settings)
    try:
        from qa.generate.llm import load_generator

        gen = load_generator(spec, settings.cache_dir, settings.threads, settings)
    except Exception as exc:  # missing package, corrupt part, out of memory: answer without the model
        log.warning("model %s failed to load: %s", spec, exc)
        return Answerer(engine, None, settings, notice=f"模型 {spec} 无法加载，已改用摘录模式（直接摘录原文句子）。原因：{exc}")
    return Answerer(engine, gen, settings)
