"""``python -m gigawatt`` = the ``gigawatt`` command."""

from gigawatt.cli import main

raise SystemExit(main())
