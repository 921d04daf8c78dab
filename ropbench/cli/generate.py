"""``ropbench generate``: write a dataset from any registered generator, chunk by chunk.

    ropbench generate rw-classic --n 1000 --size 224 --seed 0 --out data/classic
    ropbench generate rw-graded --n 200 --size 128 --seed 1 --out data/g --format folder \\
        --param severity=0.5

Memory stays flat: images are generated and written one chunk at a time, on ``--workers``
processes (default: every core); the output is byte-identical for any worker count and
chunk size. The output folder also gets ``contact_sheet.png`` (the first images with
their ground truth drawn on), ``metadata.jsonl`` (one line per image) and
``generator.json`` (what made it).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Callable

from ropbench.cli.values import parse_assignment
from ropbench.errors import RopbenchError
from ropbench.generation import default_workers
from ropbench.params import param_type_error

__all__ = ["register", "run_generate"]

# --format -> the dataset loader whose format it is (its spec's writer writes it).
FORMATS = {"seed": "seed-format", "folder": "folder"}


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
    parser.add_argument("--format", choices=sorted(FORMATS), default="seed",
                        help="output layout: the seed-format or folder loader's (default seed)")
    parser.add_argument(
        "--param", action="append", default=[], metavar="KEY=VALUE",
        help="generator parameter (VALUE parsed as JSON, else a string); repeatable",
    )
    parser.add_argument(
        "--chunk", type=int, default=None, help="images per chunk (default: 64, fewer above 362 px)"
    )
    parser.add_argument(
        "--workers", type=int, default=default_workers(),
        help=f"processes generating at once (default: the cores here, {default_workers()})",
    )
    parser.add_argument("--sheet", type=int, default=32, help="images on the contact sheet (0: none)")
    parser.set_defaults(handler=run_generate)


@dataclass
class _ExportedChunk:
    """What a worker sends back for one chunk: encoded images (or the batch, for a writer
    that cannot encode apart), metadata lines and the chunk's share of the contact sheet."""

    count: int
    encoded: Any
    batch: Any
    metadata: str
    sheet: Any


def _export(batch: Any, first: int, encode: Callable[[Any], Any] | None, sheet_end: int) -> _ExportedChunk:
    lines = "".join(json.dumps(record, separators=(",", ":")) + "\n" for record in batch.metadata)
    sheet = batch.select(slice(0, sheet_end - first)) if first < sheet_end else None
    if encode is None:
        return _ExportedChunk(count=len(batch), encoded=None, batch=batch, metadata=lines, sheet=sheet)
    return _ExportedChunk(count=len(batch), encoded=encode(batch), batch=None, metadata=lines, sheet=sheet)


def _writer(registry: Any, fmt: str, out: Path):
    """The writer of the loader that reads ``fmt`` (found through the registry)."""
    loader = registry.generators.get(FORMATS[fmt])
    if loader.writer is None:
        raise RopbenchError(f"generator {loader.name!r} has no writer for --format {fmt}")
    return loader.writer(out)


def run_generate(args: argparse.Namespace) -> int:
    from ropbench.contact_sheet import save_contact_sheet
    from ropbench.generation import map_chunks
    from ropbench.registry import get_registry
    from ropbench.specs import RetinaBatch

    registry = get_registry()
    spec = registry.generators.get(args.name)
    params = dict(parse_assignment(p, "--param") for p in args.param)
    unknown = sorted(set(params) - set(spec.params))
    if unknown:
        raise RopbenchError(
            f"generator {spec.name!r} has no parameter(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(spec.params)) or '(none)'}"
        )
    for name, value in params.items():
        problem = param_type_error(name, value, spec.params)
        if problem:
            raise RopbenchError(f"--param {name}={value!r}: generator {spec.name!r} expects {problem}")
    if args.out.exists() and not args.out.is_dir():
        raise RopbenchError(f"--out {args.out} exists and is not a directory")
    if args.n < 1 or args.size < 8:
        raise RopbenchError(f"need --n >= 1 and --size >= 8, got --n {args.n} --size {args.size}")
    if args.chunk is not None and args.chunk < 1:
        raise RopbenchError(f"--chunk must be >= 1, got {args.chunk}")
    if args.workers < 1:
        raise RopbenchError(f"--workers must be >= 1, got {args.workers}")
    args.out.mkdir(parents=True, exist_ok=True)
    sheet: list[RetinaBatch] = []
    done, started = 0, time.perf_counter()
    with _writer(registry, args.format, args.out) as writer, (args.out / "metadata.jsonl").open("w") as meta:
        # Encoding (PNG) runs in the workers when the writer can do it apart from writing.
        encode = getattr(type(writer), "encode", None)
        export = partial(_export, encode=encode, sheet_end=args.start + args.sheet)
        chunks = map_chunks(spec, args.n, args.size, args.seed, args.start, params, args.workers, args.chunk, export)
        for chunk in chunks:
            if chunk.encoded is not None:
                writer.add_encoded(chunk.encoded)
            else:
                writer.add(chunk.batch)
            meta.write(chunk.metadata)
            if chunk.sheet is not None:
                sheet.append(chunk.sheet)
            done += chunk.count
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
