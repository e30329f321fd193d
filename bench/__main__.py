"""Run the benchmarks: `python -m bench` runs them all, `python -m bench leaders broadcast` some.

Every module of this package with a top-level `main()` is a benchmark. Each runs in its own process, in a
fixed order (then alphabetically), so one that fails or hangs does not stop the others; a summary follows.
"""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
import time
from pathlib import Path

from bench import ROOT

PACKAGE = Path(__file__).resolve().parent
# The platform's figures first, then the flows that build on it.
ORDER = ("leaders", "signup_page", "inbound", "triage", "broadcast", "surveys", "transport_rate")


def has_main(path: Path) -> bool:
    """Whether the module defines main() at top level, read without importing it (imports set up Django)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return any(isinstance(node, ast.FunctionDef) and node.name == "main" for node in tree.body)


def discover() -> list[str]:
    names = [p.stem for p in PACKAGE.glob("*.py") if not p.stem.startswith("_") and has_main(p)]
    rank = {name: i for i, name in enumerate(ORDER)}
    return sorted(names, key=lambda n: (rank.get(n, len(ORDER)), n))


def run(name: str, timeout: float) -> tuple[str, float]:
    """Run bench.<name>.main() in a child process with the terminal's output; (outcome, seconds)."""
    code = f"import sys; sys.argv = ['bench.{name}']; import bench.{name} as m; m.main()"
    started = time.perf_counter()
    try:
        result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=timeout, check=False)
        outcome = "ok" if result.returncode == 0 else f"failed (exit {result.returncode})"
    except subprocess.TimeoutExpired:
        outcome = f"timed out after {timeout:.0f}s"
    except KeyboardInterrupt:
        outcome = "interrupted"
    return outcome, time.perf_counter() - started


def main() -> int:
    available = discover()
    parser = argparse.ArgumentParser(prog="python -m bench", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="name", help=f"benchmarks to run: {', '.join(available)}")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds allowed per benchmark")
    args = parser.parse_args()
    unknown = [name for name in args.names if name not in available]
    if unknown:
        parser.error(f"no benchmark named {', '.join(unknown)} (there are: {', '.join(available)})")
    names = args.names or available

    results = []
    for name in names:
        print(f"\n=== bench {name}", flush=True)
        outcome, seconds = run(name, args.timeout)
        results.append((name, outcome, seconds))
        if outcome == "interrupted":
            break
    print("\n=== summary")
    for name, outcome, seconds in results:
        print(f"  {name:<16} {outcome:<28} {seconds:7.1f}s")
    return 0 if all(outcome == "ok" for _, outcome, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
