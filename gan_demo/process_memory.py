"""How the serving process's C heap (glibc malloc) holds memory.

Trainers, timelapses, image requests and sessions come and go in many threads. glibc gives each
new thread its own arena, up to 8 per core, and a freed block stays in the arena it came from, so
each arena keeps its busiest moment's fragments. The soak (benchmarks/soak.py) grew 75-80 MB in its
first 15 minutes that way and then stayed flat; with two arenas it grew 15 MB.
"""

from __future__ import annotations

import ctypes
import os

ARENA_ENV = "MALLOC_ARENA_MAX"  # glibc's own setting; when a user sets it, theirs wins
M_ARENA_MAX = -8  # mallopt parameter number, from glibc's malloc.h


def _libc():
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt, libc.malloc_trim  # noqa: B018 - both exist only in glibc
        return libc
    except (OSError, AttributeError):
        return None


def limit_malloc_arenas(max_arenas: int = 2) -> bool:
    """Cap glibc's arenas for threads started from now on; False where it does not apply (not
    glibc, or ``MALLOC_ARENA_MAX`` already set). Call it before the server starts its threads."""
    libc = _libc()
    if libc is None or ARENA_ENV in os.environ:
        return False
    return bool(libc.mallopt(M_ARENA_MAX, max_arenas))


def return_free_memory() -> bool:
    """Hand the heap's free pages back to the system (glibc's ``malloc_trim``); False elsewhere."""
    libc = _libc()
    return bool(libc.malloc_trim(0)) if libc is not None else False
