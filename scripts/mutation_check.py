"""Mutation check of the generated op tests: plant small errors in each op's backward, one at a time, and count
how many the op's checks catch.  Prints each mutant, caught/survived/not applicable, and the kill rate.

    python scripts/mutation_check.py                 # every op with a spec and a backward
    python scripts/mutation_check.py max_pool2d conv2d --examples 8

Exit status 1 when a mutant survives.  See tapegrad.testing.mutation for the kinds of mutants.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from hypothesis import settings

from tapegrad.testing import mutation, ops
from tapegrad.testing.plugin import register_profiles

SPEC_EXAMPLES = 8  # what tests/testing/test_ops.py draws per spec under the ci profile


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ops", nargs="*", help="spec names whose Function to mutate (default: all)")
    parser.add_argument("-v", "--verbose", action="store_true", help="also list the mutants never applied")
    parser.add_argument("--examples", type=int, default=SPEC_EXAMPLES, help="examples per spec (default 8)")
    args = parser.parse_args(argv)
    register_profiles()
    settings.load_profile("tapegrad-ci")  # derandomized: the same examples as the ci suite, every run
    targets = mutation.targets()
    if args.ops:
        unknown = set(args.ops) - set(ops.names())
        if unknown:
            parser.error(f"unknown op(s) {sorted(unknown)}; known: {', '.join(ops.names())}")
        targets = {cls: names for cls, names in targets.items() if set(names) & set(args.ops)}
    caught = survived = skipped = 0
    survivors = []
    start = time.perf_counter()
    for cls, names in targets.items():
        for mutant in mutation.mutants(cls):
            mutation.run(mutant, names, args.examples)
            if not mutant.applied:
                status = "not applicable"
                skipped += 1
            elif mutant.caught:
                status = "caught"
                caught += 1
            else:
                status = "SURVIVED"
                survived += 1
                survivors.append(mutant)
            if status != "not applicable" or args.verbose:
                print(f"{status:>14}  {cls.__name__:<18} {mutant.kind:<9} {mutant.description}",
                      flush=True)
    total = caught + survived
    rate = 100.0 * caught / total if total else 100.0
    print(f"\n{caught} of {total} applicable mutants caught: kill rate {rate:.1f} % "
          f"({skipped} not applicable; {len(targets)} ops; {time.perf_counter() - start:.0f} s; "
          f"load average {os.getloadavg()[0]:.1f})")
    for mutant in survivors:
        print(f"survivor: {mutant.op} {mutant.kind} {mutant.description} (checks: {', '.join(mutant.specs)})")
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
