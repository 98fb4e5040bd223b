"""The till benchmark: checkouts through the POS API on loopback against in-process ceilings.

    .venv/bin/python benchmarks/till_bench.py --clients 8 --seconds 20 --repeat 3
    VIPCARE_PG_PORT=55438 scripts/with-postgres .venv/bin/python benchmarks/till_bench.py \\
        --clients 8 --seconds 20 --repeat 3

The same as `vipcare bench till …` (vipcare/till/bench.py); results in docs/benchmarks.md ("Till").
"""

import sys

from vipcare.cli import main

if __name__ == "__main__":
    main(["bench", "till", *sys.argv[1:]])
