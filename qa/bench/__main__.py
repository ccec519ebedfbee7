"""python -m qa.bench (qa/bench/run.py)."""
import sys

from qa.bench.run import main

sys.exit(main())
