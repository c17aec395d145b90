"""Wait until a URL answers 200 (used by `make serve` to wait for the Prefect server). Usage: URL [SECONDS]."""

from __future__ import annotations

import sys
import time
import urllib.error
import urllib.request


def main() -> int:
    url, limit = sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 60.0
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return 0
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(1)
    print(f"{url} did not answer within {limit:.0f} s", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
