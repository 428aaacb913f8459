"""Random number streams: one per entity, each seeded from the run seed and the entity's name.

Every source of randomness (a channel's latency and losses, an actor's
processing times, an asset's loading, a route's incidents) draws from its own
:class:`random.Random`, seeded from ``sha256(f"{seed}/{key}")``. So a variant
that adds a liaison officer or changes one channel leaves every other entity's
draws exactly as they were: replication *i* of two variants shares its random
numbers wherever the two are alike (common random numbers), and the global
``random`` module is never touched.
"""

from __future__ import annotations

import hashlib
import random


class Streams:
    """The RNG streams of one run, created on first use."""

    def __init__(self, seed: int):
        self.seed = seed
        self._streams: dict[str, random.Random] = {}

    def __call__(self, key: str) -> random.Random:
        """The stream for ``key`` (e.g. ``"channel:nato_un_formal"``)."""
        stream = self._streams.get(key)
        if stream is None:
            digest = hashlib.sha256(f"{self.seed}/{key}".encode()).digest()
            stream = self._streams[key] = random.Random(int.from_bytes(digest[:8], "big"))
        return stream
