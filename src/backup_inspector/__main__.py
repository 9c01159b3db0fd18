"""`python -m backup_inspector`: the same CLI as the `backup-inspector` command."""

from .cli.main import main

raise SystemExit(main())
