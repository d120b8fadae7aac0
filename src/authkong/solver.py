"""Native multi-process solver for `authkong token`: the reference client of protocol v1."""

import multiprocessing as mp
import os
from multiprocessing.synchronize import Event

from authkong.domain.pow import solve


def _search(
    seed: bytes, target: int, start: int, stride: int, out: "mp.Queue[int]", stop: Event
) -> None:
    nonce = start
    while not stop.is_set():
        (found,) = solve(seed, 1, target, start=nonce, stride=stride)
        out.put(found)
        nonce = found + stride


def solve_parallel(seed: bytes, k: int, target: int, workers: int | None = None) -> list[int]:
    """k distinct nonces, with `workers` processes striding one nonce space."""
    workers = max(1, min(workers or os.cpu_count() or 1, k))
    if workers == 1:
        return solve(seed, k, target)
    ctx = mp.get_context("spawn")
    out: mp.Queue[int] = ctx.Queue()
    stop = ctx.Event()
    procs = [
        ctx.Process(target=_search, args=(seed, target, i, workers, out, stop), daemon=True)
        for i in range(workers)
    ]
    for p in procs:
        p.start()
    found: set[int] = set()
    try:
        while len(found) < k:
            found.add(out.get())
    finally:
        stop.set()
        for p in procs:
            p.terminate()
            p.join()
    return sorted(found)
