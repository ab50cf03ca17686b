"""`python -m bench`: set Django up for the benchmark, then run it."""

import sys

from bench.environment import django_setup

django_setup()

from bench.run import main  # noqa: E402  (imports models: needs Django set up)

sys.exit(main(sys.argv[1:]))
