"""Pure statistics of the evidence engine: effect-size conversion and random-effects pooling."""

from .effect_sizes import (
    CONVERSION_VERSION,
    INPUT_KINDS,
    EffectResult,
    EffectSizeError,
    compute,
    improvement_index,
    is_substantively_important,
)
from .meta import METHODS, MetaAnalysisError, PooledResult, composite, pool

__all__ = [
    "CONVERSION_VERSION",
    "INPUT_KINDS",
    "METHODS",
    "EffectResult",
    "EffectSizeError",
    "MetaAnalysisError",
    "PooledResult",
    "composite",
    "compute",
    "improvement_index",
    "is_substantively_important",
    "pool",
]
