"""``python -m coopsim``: the command line."""

from coopsim.cli import main

main()
