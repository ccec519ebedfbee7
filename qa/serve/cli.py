"""Command line: python -m qa index | search | ask"""
from __future__ import annotations

import argparse
import json
import sys

from qa.text.normalize import clean_input
from qa.serve.present import answer_json, hit_json
from qa.settings import Settings


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.load(
        docs_dir=getattr(args, "docs", None),
        index_dir=getattr(args, "index_dir", None),
        embed_model=getattr(args, "embed_model", None),
        top_k=getattr(args, "k", None),
        mode=getattr(args, "mode", None),
        llm=getattr(args, "model", None),
        threads=getattr(args, "threads", None),
    )


def _say(msg: str) -> None:
    print(msg, file=sys.stderr)


def document_table(docs) -> str:
    """One row per document: what cleaning and sectioning kept, and the warnings a reader should see."""
    rows = ["| 文档 | 格式 | 标题 | 章节 | 段落 | 保留 | 警告 |", "|---|---|---|---|---|---|---|"]
    for d in sorted(docs, key=lambda d: d.name):
        r = d.report
        if r is None:
            rows.append(f"| {d.name} | | {d.title} | | {len(d.paragraphs)} | | |")
            continue
        rows.append(f"| {d.name} | {r.format} | {d.title} | {r.sections} | {r.paragraphs} | {r.share:.1%} | "
                    f"{'；'.join(r.warnings)} |")
    return "\n".join(rows)


def cmd_index(args: argparse.Namespace) -> int:
    from qa.retrieval.engine import Engine

    eng = Engine.open(_settings(args), progress=_say, show_progress=True, rebuild=args.rebuild)
    for w in eng.index.warnings:
        _say(f"警告：{w}")
    print(document_table(eng.index.documents.values()))
    st = eng.index.stats()
    print(f"索引就绪：{st['documents']} 篇文档，{st['paragraphs']} 个段落，{st['chunks']} 个块（构建于 {st['built_at']}）")
    print(f"位置：{eng.index.path}")
    from qa.answering.gate import load_or_calibrate
    paragraphs = [p for d in eng.index.documents.values() for p in d.paragraphs]
    g = load_or_calibrate(eng.index.path, eng.retriever, paragraphs, eng.encoder.model_id, eng.settings.top_k)
    print(f"拒答门限（按本语料与向量模型校准）：最高相似度 ≥ {g.dense:.4f}（余量 {g.dense_margin:+.4f}）"
          f" 或 词覆盖 ≥ {g.coverage:.4f}（余量 {g.coverage_margin:+.4f}）；"
          f"语料探针通过 {g.stats.get('ontopic_passing', 0):.0%}，日常问题探针全部拒答")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from qa.retrieval.engine import Engine

    settings = _settings(args)
    args.query = clean_input(args.query)  # undecodable bytes or surrogates from the shell
    if not args.query.strip():
        _say("问题为空：请输入要检索的内容。")
        return 2
    eng = Engine.open(settings, progress=_say)
    hits = eng.search(args.query)
    if args.json:
        print(json.dumps({"query": args.query, "mode": settings.mode, "hits": [hit_json(h) for h in hits]}, ensure_ascii=False, indent=1))
        return 0
    if not hits:
        print("没有检索到相关段落。")
    for h in hits:
        c = h.chunk
        print(f"[{h.rank}] {c.doc}  {c.para_ids[0]}  score={h.score:.4f}")
        print(f"    《{c.title}》 {c.section_path}")
        print("    " + c.text.replace("\n", "\n    "))
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from qa.retrieval.engine import Engine
    from qa.serve.service import load_answerer

    settings = _settings(args)
    args.question = clean_input(args.question)  # undecodable bytes or surrogates from the shell
    eng = Engine.open(settings, progress=_say)
    answerer = load_answerer(eng)
    final = None
    streamed = False
    for ev in answerer.stream(args.question):
        if ev.kind == "rewrite" and not args.json:
            print(f"（按独立问题检索：{ev.data}）", flush=True)
        elif ev.kind == "evidence" and not args.json:
            _say(f"找到 {len(ev.data)} 段依据，正在生成回答（{answerer.model_name}）…")
        elif ev.kind == "token" and not args.json:
            print(ev.data, end="", flush=True)
            streamed = True
        elif ev.kind == "final":
            final = ev.data
    if args.json:
        print(json.dumps(answer_json(final), ensure_ascii=False, indent=1))
        return 0
    if streamed:
        print()
    for n in final.notices:
        print(f"提示：{n}")
    print(f"\n回答：{final.text}")
    if final.abstained and final.passages:
        print("\n可以查看这些最接近的段落：")
        for p in final.passages:
            print(f"  [{p.n}] {p.para.doc} {p.para.id}  {p.para.section_path}\n      {p.text}")
    for c in final.citations:
        page = f"第{c.page}页，" if c.page else ""
        print(f"\n[{c.n}] 《{c.title}》 {c.section}（{c.para}，{page}第 {c.lines[0]}–{c.lines[1]} 行）")
        print(f"    {c.quote}")
    if final.repairs:
        print("\n核查：" + "；".join(final.repairs))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from qa.serve.access import bind_refusal
    from qa.serve.api import serve
    from qa.serve.chat import ChatService
    from qa.retrieval.engine import Engine

    settings = _settings(args)
    refusal = bind_refusal(args.host, settings.api_key, settings.admin_key)
    if refusal:
        _say(refusal)
        return 2
    eng = Engine.open(settings, progress=_say)
    service = ChatService(settings, eng, model_queue=args.queue, fast_queue=2 * args.queue)
    service.answerer(settings.llm)  # the default model is loaded before the first request
    _say(f"API 地址：http://{args.host}:{args.port}/v1 （文档：http://{args.host}:{args.port}/docs）")
    serve(service, args.host, args.port)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m qa", description="政策文件问答：建索引、检索、问答")
    p.add_argument("--docs", help="文档目录（默认 seeds/）")
    p.add_argument("--index-dir", help="索引目录（默认在缓存目录下）")
    p.add_argument("--embed-model", help="sentence-transformers 模型目录（默认：内置 multilingual-e5-small）")
    p.add_argument("--threads", type=int)
    sub = p.add_subparsers(dest="cmd", required=True)
    pi = sub.add_parser("index", help="建立或更新索引")
    pi.add_argument("--rebuild", action="store_true", help="即使索引是最新的也重建")
    pi.set_defaults(func=cmd_index)
    ps = sub.add_parser("search", help="检索段落")
    ps.add_argument("query")
    ps.add_argument("-k", type=int)
    ps.add_argument("--mode", choices=["hybrid", "bm25", "dense"])
    ps.add_argument("--json", action="store_true")
    ps.set_defaults(func=cmd_search)
    pa = sub.add_parser("ask", help="提问并得到带出处的回答")
    pa.add_argument("question")
    pa.add_argument("-k", type=int)
    pa.add_argument("--model", help="1.5b | 0.5b | extractive | 本地模型目录或 .gguf 文件")
    pa.add_argument("--json", action="store_true")
    pa.set_defaults(func=cmd_ask)
    pv = sub.add_parser("serve", help="启动 HTTP API（/v1/ask、/v1/search、/v1/chat/completions …）")
    pv.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1）")
    pv.add_argument("--port", type=int, default=8000, help="端口（默认 8000）")
    pv.add_argument("--model", help="默认模型：1.5b | 0.5b | extractive")
    pv.add_argument("--queue", type=int, default=16, help="等待模型的请求上限，超出时回答「繁忙，请稍后再试」（默认 16）")
    pv.set_defaults(func=cmd_serve)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
