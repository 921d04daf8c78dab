"""The ``ropbench`` command line: one module per subcommand, assembled in ``main``."""
