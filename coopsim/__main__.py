"""``python -m coopsim``: the same as the ``coopsim`` command."""

from coopsim.cli import main

main()
