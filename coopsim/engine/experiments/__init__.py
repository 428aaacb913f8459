"""Experiments: many runs (variants, sweeps, counterfactuals) with common random numbers, on a pool or Dask, kept in an archive."""
