"""Distributions of durations: how long a step takes when it is uncertain.

A scenario gives each uncertain duration (channel latency, staff processing,
NAC approval, loading an aircraft) either as a plain duration, meaning it
always takes that long, or as a mapping naming a distribution::

    latency: {dist: triangular, low: 6h, mode: 12h, high: 2d}

The supported families are ``fixed``, ``uniform``, ``triangular``,
``exponential``, ``lognormal`` and ``normal``; ``normal`` is truncated at zero
by resampling, because a step cannot take negative time. Every parameter is a
duration, so an author never has to remember which unit a number is in.
Sampling takes the caller's own :class:`random.Random` stream (see
:mod:`coopsim.engine.sim.streams`), never the global one.
"""

from __future__ import annotations

import math
import random
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from coopsim.engine.scenario.durations import Duration


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class Fixed(_Dist):
    """Always the same duration."""

    dist: Literal["fixed"] = "fixed"
    value: Duration

    @property
    def mean(self) -> float:
        return self.value

    def sample(self, rng: random.Random) -> float:
        return self.value


class Uniform(_Dist):
    """Any duration between ``low`` and ``high`` equally likely."""

    dist: Literal["uniform"]
    low: Duration
    high: Duration

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise ValueError("high is below low (expected low <= high)")
        return self

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    def sample(self, rng: random.Random) -> float:
        return rng.uniform(self.low, self.high)


class Triangular(_Dist):
    """The planner's three-point estimate: best case, most likely, worst case."""

    dist: Literal["triangular"]
    low: Duration
    mode: Duration
    high: Duration

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not self.low <= self.mode <= self.high:
            raise ValueError("low, mode and high are out of order (expected low <= mode <= high)")
        return self

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3

    def sample(self, rng: random.Random) -> float:
        return rng.triangular(self.low, self.high, self.mode)


class Exponential(_Dist):
    """Memoryless waits, such as the time between arrivals of a Poisson stream."""

    dist: Literal["exponential"]
    mean_: Duration = Field(alias="mean")

    @model_validator(mode="after")
    def _positive(self) -> Exponential:
        if self.mean_ <= 0:
            raise ValueError("mean must be above zero (expected a positive duration)")
        return self

    @property
    def mean(self) -> float:
        return self.mean_

    def sample(self, rng: random.Random) -> float:
        return rng.expovariate(1.0 / self.mean_)


class _MeanSd(_Dist):
    mean_: Duration = Field(alias="mean")
    sd: Duration

    @property
    def mean(self) -> float:
        return self.mean_


class Lognormal(_MeanSd):
    """Right-skewed durations, such as staffing a request through a bureaucracy.

    Given by the mean and standard deviation of the duration itself, not of
    its logarithm.
    """

    dist: Literal["lognormal"]

    @model_validator(mode="after")
    def _positive(self) -> Lognormal:
        if self.mean_ <= 0:
            raise ValueError("mean must be above zero (expected a positive duration)")
        return self

    def sample(self, rng: random.Random) -> float:
        variance = math.log1p((self.sd / self.mean_) ** 2)
        mu = math.log(self.mean_) - variance / 2
        return rng.lognormvariate(mu, math.sqrt(variance))


class Normal(_MeanSd):
    """Symmetric spread around a mean, truncated at zero by resampling."""

    dist: Literal["normal"]

    def sample(self, rng: random.Random) -> float:
        if self.sd == 0:
            return self.mean_
        # The mean is non-negative, so at least half the draws are accepted.
        while True:
            x = rng.gauss(self.mean_, self.sd)
            if x >= 0:
                return x


def _plain_duration_is_fixed(value: object) -> object:
    if isinstance(value, str):
        return {"dist": "fixed", "value": value}
    if isinstance(value, (int, float)):
        raise ValueError(f'{value!r} is not a duration with a unit (expected a duration such as "90m", "6h" or "2d")')
    return value


Distribution = Annotated[
    Fixed | Uniform | Triangular | Exponential | Lognormal | Normal,
    Field(discriminator="dist"),
    BeforeValidator(_plain_duration_is_fixed),
]
"""A duration that may vary: a plain duration string or ``{dist: ..., ...}``."""
