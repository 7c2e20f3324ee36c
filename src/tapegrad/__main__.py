"""``python -m tapegrad ...`` is the ``tapegrad`` command."""

from tapegrad.cli.main import main

raise SystemExit(main())
