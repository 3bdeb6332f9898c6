from movecoach.cli import main

raise SystemExit(main())
