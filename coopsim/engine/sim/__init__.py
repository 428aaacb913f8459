"""The SimPy model: the world and its RNG streams, messaging, sharing, requests, logistics, the exercise and deciders.

It turns a validated scenario into processes on a SimPy environment that emit
records; it knows nothing of metrics, experiments or tabletop play.
"""
