"""``ropbench generate``: write a dataset from any registered generator, chunk by chunk.

    ropbench generate rw-classic --n 1000 --size 224 --seed 0 --out data/classic
    ropbench generate rw-graded --n 200 --size 128 --seed 1 --out data/g --format folder \\
        --param severity=0.5

Memory stays flat: images are generated and written one chunk at a time. The output
folder also gets ``contact_sheet.png`` (the first images with their ground truth drawn
on), ``metadata.jsonl`` (one line per image) and ``generator.json`` (what made it).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Iterator, Mapping

from ropbench.errors import RopbenchError

__all__ = ["register", "run_generate", "stream_batches", "parse_param"]

FORMATS = ("seed", "folder")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "generate",
        help="write a dataset from a generator (seed format or plain folder) with a contact sheet",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("name", help="generator name, e.g. rw-classic (see `ropbench list generators`)")
    parser.add_argument("--n", type=int, required=True, help="number of images (image i is ROP iff i is odd)")
    parser.add_argument("--size", type=int, default=224, help="image side in pixels (default 224)")
    parser.add_argument("--seed", type=int, default=0, help="dataset seed (default 0)")
    parser.add_argument("--start", type=int, default=0, help="first image index (default 0)")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--format", choices=FORMATS, default="seed", help="output layout (default seed)")
    parser.add_argument(
        "--param", action="append", default=[], metavar="KEY=VALUE",
        help="generator parameter (VALUE parsed as JSON, else a string); repeatable",
    )
    parser.add_argument("--chunk", type=int, default=64, help="images per chunk (default 64)")
    parser.add_argument("--sheet", type=int, default=32, help="images on the contact sheet (0: none)")
    parser.set_defaults(handler=run_generate)


def parse_param(text: str) -> tuple[str, Any]:
    """``key=value`` with value read as JSON when it parses (numbers, lists), else a string."""
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise RopbenchError(f"--param expects KEY=VALUE, got {text!r}")
    try:
        return key.strip(), json.loads(raw)
    except json.JSONDecodeError:
        return key.strip(), raw


def stream_batches(
    spec: Any, n: int, size: int, seed: int, params: Mapping[str, Any], chunk: int = 64, start: int = 0
) -> Iterator[Any]:
    """Images ``start .. start+n-1`` of ``spec`` as consecutive RetinaBatch chunks.

    Image i depends only on (generator, params, seed, i), so chunks concatenate to
    exactly what one call would return, while only one chunk is held at a time.
    """
    if chunk < 1:
        raise RopbenchError(f"--chunk must be >= 1, got {chunk}")
    for first in range(start, start + n, chunk):
        yield spec.generate(n=min(chunk, start + n - first), size=size, seed=seed, start=first, **params)


def _writer(fmt: str, out: Path):
    if fmt == "seed":
        from ropbench_plugins.generators.seed_format import SeedFormatWriter

        return SeedFormatWriter(out)
    from ropbench_plugins.generators.folder_format import FolderWriter

    return FolderWriter(out)


def run_generate(args: argparse.Namespace) -> int:
    from ropbench.contact_sheet import save_contact_sheet
    from ropbench.registry import get_registry
    from ropbench.specs import RetinaBatch

    spec = get_registry().generators.get(args.name)
    params = dict(parse_param(p) for p in args.param)
    unknown = sorted(set(params) - set(spec.params))
    if unknown:
        raise RopbenchError(
            f"generator {spec.name!r} has no parameter(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(spec.params)) or '(none)'}"
        )
    if args.n < 1 or args.size < 8:
        raise RopbenchError(f"need --n >= 1 and --size >= 8, got --n {args.n} --size {args.size}")
    args.out.mkdir(parents=True, exist_ok=True)
    sheet: list[RetinaBatch] = []
    kept, done, started = 0, 0, time.perf_counter()
    with _writer(args.format, args.out) as writer, (args.out / "metadata.jsonl").open("w") as meta:
        for batch in stream_batches(spec, args.n, args.size, args.seed, params, args.chunk, args.start):
            writer.add(batch)
            for record in batch.metadata:
                meta.write(json.dumps(record, separators=(",", ":")) + "\n")
            if kept < args.sheet:
                sheet.append(batch.select(slice(0, args.sheet - kept)))
                kept += len(sheet[-1])
            done += len(batch)
            _progress(args.name, done, args.n, started)
    print(file=sys.stderr)
    manifest = {
        "generator": spec.name, "version": spec.version, "params": {**spec.params, **params},
        "n": args.n, "start": args.start, "size": args.size, "seed": args.seed, "format": args.format,
    }
    (args.out / "generator.json").write_text(json.dumps(manifest, indent=2) + "\n")
    if sheet:
        path = save_contact_sheet(RetinaBatch.concat(sheet), args.out / "contact_sheet.png")
        print(f"contact sheet: {path}", file=sys.stderr)
    print(f"wrote {args.n} images of {spec.name} to {args.out} ({args.format} format)")
    return 0


def _progress(name: str, done: int, total: int, started: float) -> None:
    elapsed = time.perf_counter() - started
    print(f"\r{name}: {done}/{total} images, {elapsed:.1f} s", end="", file=sys.stderr, flush=True)
