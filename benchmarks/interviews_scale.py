"""Benchmark: segment, redact and auto-code ~1,000 transcripts (~10 million characters) on 2 cores.

Transcripts come from the demo generator (``insats.demo.interviews``), each repeated to ~10,000 characters so
that the corpus matches the target size while keeping realistic wording. Work is split over processes
(``--workers``, default 2). Usage::

    python benchmarks/interviews_scale.py [--n 1000] [--chars 10000000] [--workers 2]

Prints seconds per stage and the total; the acceptance target is < 60 s on the 2-core machine.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor

import pandas as pd

from insats.demo.interviews import CODEBOOK, PII_NAME, document_text, make_interviews
from insats.tasks.interviews.codebook import parse_codebook
from insats.tasks.interviews.coding import code_segments
from insats.tasks.interviews.redaction import redact
from insats.tasks.interviews.transcripts import segment_turns

BOOK = parse_codebook(CODEBOOK, source="demo-codebook")


def _work(batch: list[tuple[str, str]]) -> tuple[int, int, float, float]:
    """Redact, segment and code one batch; return (segments, coded rows, seconds redact+segment, seconds coding)."""
    t0 = time.perf_counter()
    frames = [segment_turns(redact(text, names=[PII_NAME])[0], iid) for iid, text in batch]
    segments = pd.concat(frames, ignore_index=True)
    t1 = time.perf_counter()
    coded = code_segments(segments, BOOK)
    return len(segments), len(coded), t1 - t0, time.perf_counter() - t1


def corpus(n: int, chars: int) -> list[tuple[str, str]]:
    """``n`` transcripts of about ``chars / n`` characters each (demo interviews, turns repeated)."""
    bundle = make_interviews(seed=2026, n_employers=50)
    texts = [document_text(iv) for iv in bundle.interviews]
    per = chars // n
    out = []
    for i in range(n):
        base = texts[i % len(texts)]
        header, body = base.split("\n", 1)
        reps = max(1, -(-per // len(body)))  # round up: at least the target size
        out.append((f"B{i:04d}", header + "\n" + "\n".join([body] * reps)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--chars", type=int, default=10_000_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    docs = corpus(args.n, args.chars)
    total_chars = sum(len(t) for _, t in docs)
    batches = [docs[i :: args.workers * 4] for i in range(args.workers * 4)]
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        results = list(pool.map(_work, batches))
    wall = time.perf_counter() - start
    n_seg, n_coded = sum(r[0] for r in results), sum(r[1] for r in results)
    print(f"{args.n} transcripts, {total_chars:,} characters, {n_seg:,} segments, {n_coded:,} coded rows")
    print(f"in workers (s): redact+segment {sum(r[2] for r in results):.1f}, coding {sum(r[3] for r in results):.1f}")
    print(f"wall clock on {args.workers} workers: {wall:.1f} s (target < 60 s)")


if __name__ == "__main__":
    main()
