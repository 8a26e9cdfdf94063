"""`Previews`: the previews a web process computes, each case version's answer kept for reuse.

A preview links and searches (seconds); the same case version and plan give the same answer, so
the last `size` answers are kept in memory, keyed by case, version and plan.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from iplos.cases import Case
from iplos.config import Settings
from iplos.preview._preview import Consequences, RiskPreview, counter_consequences, risk_preview
from iplos.preview._synthetic import SyntheticRegister, synthetic_register

T = TypeVar("T")


class Previews:
    """Risk previews and counter-proposal consequences for the pages and the API.

    `synthetic` is the register drafts are previewed on (default: the process's); `register`, when
    given, is the real register a linked case's counter-proposal is measured on.
    """

    def __init__(
        self,
        synthetic: SyntheticRegister | None = None,
        register: Settings | None = None,
        size: int = 64,
    ) -> None:
        self.synthetic = synthetic or synthetic_register()
        self.register = register
        self._size = size
        self._answers: OrderedDict[tuple[str, ...], Any] = OrderedDict()
        self._lock = threading.Lock()

    def _cached(self, key: tuple[str, ...], compute: Callable[[], T]) -> T:
        with self._lock:
            if key in self._answers:
                self._answers.move_to_end(key)
                return self._answers[key]  # type: ignore[no-any-return]
        answer = compute()
        with self._lock:
            self._answers[key] = answer
            while len(self._answers) > self._size:
                self._answers.popitem(last=False)
        return answer

    def risk(self, case: Case) -> RiskPreview:
        """The draft's risk preview (see `risk_preview`)."""
        return self._cached(
            ("risk", case.case_id, str(case.version)), lambda: risk_preview(case, self.synthetic)
        )

    def counter(self, case: Case, plan: Mapping[str, Any]) -> Consequences:
        """A counter-proposal's consequences (see `counter_consequences`)."""
        key = ("counter", case.case_id, str(case.version), json.dumps(plan, sort_keys=True, default=str))
        return self._cached(key, lambda: counter_consequences(case, plan, self.synthetic, self.register))
