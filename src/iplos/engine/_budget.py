"""One process's DuckDB memory budget, divided among the connections open at the same time.

DuckDB's `memory_limit` holds per database connection, not per process: two deliveries that each
open a connection with a 2 GB limit may use 4 GB together. So the configured limit
(`IPLOS_MEMORY_LIMIT`) is the process's total, split into `IPLOS_ENGINE_SLOTS` equal slots: every
DuckDB connection the engine opens takes a slot and gets ``limit // slots`` as its own limit (and
spills beyond it); a connection that finds every slot taken waits until one is released. Several
deliveries in threads of one process (a job runner, the web server) therefore stay within the total
together, and the ones beyond the slots queue instead of failing for lack of memory.

What it does not cover, said plainly: separate processes each have their own budget (give each its
share through IPLOS_MEMORY_LIMIT), and memory outside DuckDB's buffer manager (Arrow results handed
to Python, pandas frames) is not counted.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from iplos.errors import IplosError

__all__ = ["MemoryBudget", "Slot", "budget"]

# DuckDB refuses to run much below this; a slot smaller than it would fail rather than spill.
MIN_SLOT_BYTES = 32 * 1024**2


@dataclass(frozen=True)
class Slot:
    """A share of the budget held by one open connection; `release` it exactly once."""

    budget: MemoryBudget
    memory_limit: int  # bytes this connection may use

    def release(self) -> None:
        self.budget._release()


class MemoryBudget:
    """`slots` connections of ``total // slots`` bytes each; `acquire` waits for a free one."""

    def __init__(self, total: int, slots: int) -> None:
        if slots < 1:
            raise IplosError(f"IPLOS_ENGINE_SLOTS must be at least 1, not {slots}")
        if total // slots < MIN_SLOT_BYTES:
            raise IplosError(
                f"a memory limit of {total} bytes split into {slots} slots leaves {total // slots} bytes "
                f"per DuckDB connection, below the {MIN_SLOT_BYTES} bytes DuckDB needs: "
                "raise IPLOS_MEMORY_LIMIT or lower IPLOS_ENGINE_SLOTS"
            )
        self.total = total
        self.slots = slots
        self._free = threading.BoundedSemaphore(slots)
        self._lock = threading.Lock()
        self._in_use = 0
        self._held = threading.local()

    @property
    def per_connection(self) -> int:
        """Bytes each connection may use."""
        return self.total // self.slots

    @property
    def in_use(self) -> int:
        """Slots held right now."""
        with self._lock:
            return self._in_use

    def acquire(self, timeout: float | None = 600.0) -> Slot:
        """Take a slot, waiting up to `timeout` seconds (None: forever) for one to be released.

        A thread that already holds a slot and finds none free gets an error at once instead of
        waiting for itself (it would never be woken).
        """
        held = getattr(self._held, "count", 0)
        if not self._free.acquire(blocking=False):
            if held:
                raise IplosError(
                    f"all {self.slots} DuckDB memory slots are in use and this thread holds {held} of "
                    "them: close an engine before opening another, or raise IPLOS_ENGINE_SLOTS"
                )
            if not self._free.acquire(timeout=timeout):
                raise IplosError(
                    f"no DuckDB memory slot came free within {timeout:g} s (all {self.slots} in use); "
                    "wait for running deliveries or raise IPLOS_ENGINE_SLOTS"
                )
        self._held.count = held + 1
        with self._lock:
            self._in_use += 1
        return Slot(self, self.per_connection)

    def _release(self) -> None:
        with self._lock:
            self._in_use -= 1
        self._held.count = max(0, getattr(self._held, "count", 0) - 1)
        self._free.release()


_BUDGETS: dict[tuple[int, int], MemoryBudget] = {}
_BUDGETS_LOCK = threading.Lock()


def budget(total: int, slots: int) -> MemoryBudget:
    """The process's budget for this limit and number of slots (one object per pair, made on first use).

    Engines opened with the same settings share it; settings that name another limit or slot count
    make another budget (tests do; a deployment has one pair).
    """
    with _BUDGETS_LOCK:
        found = _BUDGETS.get((total, slots))
        if found is None:
            found = _BUDGETS[(total, slots)] = MemoryBudget(total, slots)
        return found
