"""python -m qa.eval (qa/eval/run.py)."""
import sys

from qa.eval.run import main

sys.exit(main())
