"""Reading ahead: the next chunk is read (and, time permitting, typed and judged) in a thread while
the caller works on the one before. Arrow parses without holding the GIL, so the two cores both
work."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from queue import Empty, Queue
from typing import TypeVar

from .reading import Chunk, read_chunks
from .rules import TypedChunk, judge, type_frame
from .schemas import FormSchema, expected_columns

T = TypeVar("T")
U = TypeVar("U")


def typed_chunks(
    path: Path,
    spec: FormSchema,
    encoding: str | None,
    chunk_rows: int,
    form: str | None,
    max_bytes: int | None = None,
    block_bytes: int | None = None,
) -> Iterator[tuple[Chunk, TypedChunk]]:
    """A file's chunks, read ahead, each with its typed columns. Typing (times and numbers
    parsed) and judging a chunk go to whichever thread is free: the reading thread does both
    while the judging one is still busy with the chunks before (the verdict travels in the
    TypedChunk, and `rules.judge` hands it back), else the judging thread types the chunk here,
    before handing it over, and judges it itself."""

    def typed(chunk: Chunk) -> TypedChunk:
        return type_frame(chunk.frame, spec)

    def judged(chunk: Chunk) -> TypedChunk:
        typed = type_frame(chunk.frame, spec)
        return replace(typed, verdict=judge(chunk, spec, typed))

    chunks = (  # each made into its frame here, in the reading thread
        chunk.converted()
        for chunk in read_chunks(
            path, encoding, chunk_rows, expected_columns(form, path, spec), max_bytes, block_bytes
        )
    )
    for chunk, ready in prefetched(chunks, judged):
        yield chunk, ready if ready is not None else typed(chunk)


def prefetched(items: Iterator[T], prepare: Callable[[T], U]) -> Iterator[tuple[T, U | None]]:
    """The same items, read ahead in a thread: arrow parses (without the GIL) while rows are judged.

    Each comes with `prepare(item)` when the reading thread had time to work it out: it does so
    unless the consumer is waiting for an item (then the item is handed over at once, for the
    consumer to prepare), so neither thread waits for the other for long and the work that can
    go either way goes to whichever is free."""
    queue: Queue[tuple[str, object]] = Queue(maxsize=1)
    stop = threading.Event()
    waiting = threading.Event()  # set while the consumer waits for the next item
    waiting.set()  # it waits for the first one

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                queue.put(("item", (item, None if waiting.is_set() else prepare(item))))
            queue.put(("end", None))
        except BaseException as exc:  # handed to the consumer, raised there
            queue.put(("error", exc))

    worker = threading.Thread(target=produce, daemon=True)
    worker.start()
    try:
        while True:
            waiting.set()
            kind, value = queue.get()
            waiting.clear()
            if kind == "end":
                return
            if kind == "error":
                raise value  # type: ignore[misc]
            yield value  # type: ignore[misc]
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue
            try:
                queue.get_nowait()
            except Empty:
                worker.join(timeout=0.05)
