"""What bench/run.py hands each benchmark module's ``run(ctx)``."""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.database import BenchDatabase


class Skipped(Exception):  # noqa: N818 (a benchmark skipped, not an error)
    """Raised by a benchmark's run() when it cannot run here (e.g. needs PostgreSQL)."""


#: (full run, --quick) defaults of the shared timing options.
#: Many short rounds follow the load of a shared machine better than a few long ones.
DEFAULTS = {
    "rounds": (12, 4),
    "duration": (5.0, 2.0),
    "warmup": (3.0, 1.0),
    "scale": (1.0, 0.01),
    "repeat": (3, 1),
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
    def scale(self) -> float:
        """Data size of the data-heavy benchmarks: 1.0 is the issues' 1,000,000 rows."""
        return float(self._option("scale"))

    @property
    def repeat(self) -> int:
        """Timed runs per side of the statement benchmarks (segments, decay)."""
        return int(self._option("repeat"))

    @property
    def concurrency(self) -> int:
        return int(self.args.concurrency)

    def postgres(self, suffix: str) -> BenchDatabase:
        """The bench's PostgreSQL database ``<--pg-name>_<suffix>`` (Skipped on SQLite).

        Data-heavy benchmarks (millions of rows) get a database of their own so
        they never weigh on the page-view benchmarks' database.
        """
        if self.db.vendor != "postgresql":
            raise Skipped("needs PostgreSQL (set DATABASE_URL or pass --db postgres)")
        return self.db.sibling(suffix)

    def log(self, message: str) -> None:
        """A progress line, with the seconds since the run started."""
        print(f"   [{time.monotonic() - self.started:5.1f}s] {message}", flush=True)
