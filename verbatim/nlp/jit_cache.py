"""Keep the machine code numba compiles for UMAP and pynndescent on disk, so a new process does not compile it again.

UMAP and pynndescent mark only part of their numba functions ``cache=True``; the others (UMAP's exact neighbours for
fewer than 4,096 points, the fuzzy set and layout kernels, the distances) are compiled again in every process: about
15 s on an idle 2-core machine (25 s loaded), most of a small survey's theme step. :func:`keep_compiled_code` turns
numba's own on-disk cache on for those functions (``Dispatcher.enable_caching``, what ``cache=True`` does), in
``NUMBA_CACHE_DIR`` when set. Numba keys each entry by the function's source file (path, time, size), the argument
types and the processor, so an upgrade or another machine compiles afresh; a function numba cannot cache (one that
closes over another compiled function) is compiled as before.
"""

from __future__ import annotations

import functools
import sys
import warnings

#: Packages whose numba functions are cached once their modules are imported.
PACKAGES = ("umap", "pynndescent")


@functools.cache
def keep_compiled_code() -> int:
    """Turn numba's disk cache on for the compiled functions of UMAP and pynndescent (once per process); returns how
    many functions it turned on."""
    import umap  # noqa: F401  (imports pynndescent and every module whose functions UMAP runs)
    from numba.core.caching import NullCache
    from numba.core.errors import NumbaWarning
    from numba.core.registry import CPUDispatcher

    warnings.filterwarnings("ignore", message="Cannot cache compiled function", category=NumbaWarning)
    turned_on = 0
    for name, module in list(sys.modules.items()):
        if module is None or name.split(".")[0] not in PACKAGES:
            continue
        for value in list(vars(module).values()):
            if isinstance(value, CPUDispatcher) and isinstance(getattr(value, "_cache", None), NullCache):
                try:
                    value.enable_caching()
                except RuntimeError:  # no place to write its cache (source not on disk): compiled as before
                    continue
                turned_on += 1
    return turned_on
