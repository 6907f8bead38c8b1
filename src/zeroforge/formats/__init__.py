"""One module per file format, each reading and writing it."""
