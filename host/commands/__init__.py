"""The `movecoach` sub-commands, one module each; each has `add_parser(subparsers)` (see cli.py)."""
