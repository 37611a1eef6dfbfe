from sizebot.cli import main

raise SystemExit(main())
