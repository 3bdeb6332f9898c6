"""Where sessions are kept: the recorder (SQLite), the data directory and its privacy, CSV files."""
