"""``workbench prompts BENCH list|add|tag|rm|import``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from workbench.benchmark.curation import (
    add_prompt, import_prompts, remove_prompts, tag_prompts,
)
from workbench.benchmark.folder import Benchmark


def register(subparsers: argparse._SubParsersAction) -> None:
    prompts = subparsers.add_parser("prompts", help="list and curate a benchmark's prompts")
    prompts.add_argument("bench", type=Path, metavar="BENCH")
    actions = prompts.add_subparsers(dest="action", metavar="ACTION", parser_class=type(prompts))
    actions.required = True

    listing = actions.add_parser("list", help="list prompts")
    listing.add_argument("--tag", help="only prompts with this tag")
    listing.add_argument("--format", choices=("text", "jsonl"), default="text")
    listing.set_defaults(func=run_list)

    add = actions.add_parser("add", help="add one prompt")
    add.add_argument("text")
    add.add_argument("--id", dest="prompt_id", help="slug (default: made from the text)")
    add.add_argument("--tag", dest="tags", action="append", default=[], help="a tag (repeatable)")
    add.add_argument("--notes", default="")
    add.add_argument("--seed", type=int)
    add.add_argument("--duration", type=float, help="seconds")
    add.add_argument("--resolution", help="WxH, e.g. 1280x720")
    add.add_argument("--aspect-ratio", help="W:H, e.g. 16:9")
    add.add_argument("--fps", type=int)
    add.add_argument("--negative-prompt")
    add.set_defaults(func=run_add)

    tag = actions.add_parser("tag", help="add and remove tags on prompts")
    tag.add_argument("ids", nargs="+", metavar="ID")
    tag.add_argument("--add", action="append", default=[], metavar="TAG")
    tag.add_argument("--remove", action="append", default=[], metavar="TAG")
    tag.set_defaults(func=run_tag)

    rm = actions.add_parser("rm", help="remove prompts")
    rm.add_argument("ids", nargs="+", metavar="ID")
    rm.set_defaults(func=run_rm)

    imp = actions.add_parser("import", help="import prompts from a text file (one a line) or CSV")
    imp.add_argument("file", type=Path, metavar="FILE")
    imp.add_argument("--tag", dest="tags", action="append", default=[], help="tag every imported prompt")
    imp.set_defaults(func=run_import)


def run_list(args: argparse.Namespace) -> int:
    bench = Benchmark.load(args.bench)
    prompts = bench.prompts_with_tag(args.tag)
    if args.format == "jsonl":
        for prompt in prompts:
            print(json.dumps(prompt.to_record(), ensure_ascii=False))
        return 0
    width = max((len(p.id) for p in prompts), default=2)
    for prompt in prompts:
        tags = f"  [{', '.join(prompt.tags)}]" if prompt.tags else ""
        print(f"{prompt.id:<{width}}  {prompt.text}{tags}")
    print(f"{len(prompts)} prompt{'s' if len(prompts) != 1 else ''}"
          + (f" tagged {args.tag!r}" if args.tag else ""), file=sys.stderr)
    return 0


def run_add(args: argparse.Namespace) -> int:
    bench = Benchmark.load(args.bench)
    prompt = add_prompt(
        bench, args.text, prompt_id=args.prompt_id, tags=args.tags, notes=args.notes,
        seed=args.seed, duration=args.duration, resolution=args.resolution,
        aspect_ratio=args.aspect_ratio, fps=args.fps, negative_prompt=args.negative_prompt,
    )
    print(f"added {prompt.id}")
    return 0


def run_tag(args: argparse.Namespace) -> int:
    if not args.add and not args.remove:
        print("workbench: error: give --add TAG and/or --remove TAG", file=sys.stderr)
        return 2
    bench = Benchmark.load(args.bench)
    changed = tag_prompts(bench, args.ids, add=args.add, remove=args.remove)
    for prompt in changed:
        print(f"{prompt.id}: {', '.join(prompt.tags) or '(no tags)'}")
    if not changed:
        print("nothing to change")
    return 0


def run_rm(args: argparse.Namespace) -> int:
    bench = Benchmark.load(args.bench)
    for prompt in remove_prompts(bench, args.ids):
        print(f"removed {prompt.id}")
    return 0


def run_import(args: argparse.Namespace) -> int:
    bench = Benchmark.load(args.bench)
    report = import_prompts(bench, args.file, tags=args.tags)
    for prompt in report.added:
        print(f"added {prompt.id}")
    for line, text, existing in report.duplicates:
        print(f"{args.file}:{line}: duplicate of {existing!r}, skipped: {text[:60]}", file=sys.stderr)
    print(f"imported {len(report.added)}, skipped {len(report.duplicates)} duplicates", file=sys.stderr)
    return 0
