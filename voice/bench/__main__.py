"""`python -m voice.bench`: set Django up for the benchmark, then run it."""

import sys

from voice.bench.environment import django_setup

django_setup()

from voice.bench.run import main  # noqa: E402  (imports models: needs Django set up)

sys.exit(main(sys.argv[1:]))
