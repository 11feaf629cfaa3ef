"""The campaign's seed: ``CHAOS_SEED`` replays a run, otherwise a fresh one each run
(printed in the summary and in every failure)."""

from __future__ import annotations

import os
import random

SEED = int(os.environ.get("CHAOS_SEED") or random.SystemRandom().randrange(2**32))
