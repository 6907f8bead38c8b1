"""One module per `zeroforge` subcommand, each with `main(argv) -> int`."""
