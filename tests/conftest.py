"""Test-wide settings.

Hypothesis: no per-example deadline (CI machines have 2 shared cores, and timing is what the
benchmarks measure, not the tests); under CI (``CI`` set, as .ci/run's caller does) examples are
derandomized so a submission's result does not depend on the draw. Locally the search stays
random, which is how new counterexamples are found.
"""

import os

from hypothesis import settings

settings.register_profile("dev", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
