"""What bench/run.py hands each benchmark module's ``run(ctx)``."""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.database import BenchDatabase

#: (full run, --quick) defaults of the shared timing options.
#: Many short rounds follow the load of a shared machine better than a few long ones.
DEFAULTS = {
    "rounds": (12, 4),
    "duration": (5.0, 2.0),
    "warmup": (3.0, 1.0),
}


@dataclass
class Context:
    args: argparse.Namespace
    db: BenchDatabase
    results_dir: Path
    started: float = field(default_factory=time.monotonic)

    @property
    def quick(self) -> bool:
        return bool(self.args.quick)

    def _option(self, name: str):
        value = getattr(self.args, name)
        if value is not None:
            return value
        full, quick = DEFAULTS[name]
        return quick if self.quick else full

    @property
    def rounds(self) -> int:
        """Alternating feature/baseline rounds."""
        return int(self._option("rounds"))

    @property
    def duration(self) -> float:
        """Seconds of load per side and round."""
        return float(self._option("duration"))

    @property
    def warmup(self) -> float:
        """Seconds of unmeasured load per side before the first round."""
        return float(self._option("warmup"))

    @property
    def concurrency(self) -> int:
        return int(self.args.concurrency)

    def log(self, message: str) -> None:
        """A progress line, with the seconds since the run started."""
        print(f"   [{time.monotonic() - self.started:5.1f}s] {message}", flush=True)
