"""Run a function on several threads at once and collect what they raise (for the caches' concurrency tests)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any


def errors_of_concurrent_calls(target: Callable[[Any], object], arguments: Sequence[Any]) -> list[BaseException]:
    """Call ``target(argument)`` for each argument, each on its own thread, all started together."""
    errors: list[BaseException] = []

    def run(argument: Any) -> None:
        try:
            target(argument)
        except BaseException as exc:  # pragma: no cover - returned to the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(a,)) for a in arguments]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors
