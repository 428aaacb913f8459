"""coopsim: a discrete-event simulator of NATO–UN crisis-response coordination.

The engine (:mod:`coopsim.engine`) loads YAML scenarios and runs them with
SimPy; the reports layer turns what a run wrote into after-action reports; the
command line (:mod:`coopsim.cli`) is a thin layer over both. This module stays
light so that ``coopsim --help`` answers fast.
"""

__version__ = "0.1.0"
