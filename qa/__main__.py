"""python -m qa: the command line (qa/serve/cli.py)."""
import sys

from qa.serve.cli import main

if __name__ == "__main__":
    sys.exit(main())
