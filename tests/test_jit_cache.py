"""UMAP's numba code is kept on disk: a new process loads it instead of compiling it again (issue 21).

The time it saves (about 15 s a process) is measured by ``make bench-speed``, not here.
"""

from __future__ import annotations


def test_the_functions_umap_compiles_at_each_run_get_a_disk_cache() -> None:
    from numba.core.caching import NullCache
    from umap.umap_ import compute_membership_strengths, smooth_knn_dist
    from umap.utils import fast_knn_indices

    from verbatim.nlp.jit_cache import keep_compiled_code

    kept = (fast_knn_indices, smooth_knn_dist, compute_membership_strengths)
    keep_compiled_code()
    for function in kept:
        assert not isinstance(function._cache, NullCache), function.__name__
    assert keep_compiled_code() == keep_compiled_code(), "once per process"
