"""The `costrail` command line: one module per command group."""
