"""``python -m cli``: the same command line as ``docketwatch`` (the service runs checks so)."""

from cli import main

main()
