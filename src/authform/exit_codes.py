"""The command line's exit codes (README, "Exit codes"). A module of its own, importing
nothing, so the script's entry point can report a Ctrl-C that comes while the command line is
still being imported with the same code as any other."""

EXIT_OK, EXIT_ERROR, EXIT_PENDING, EXIT_VERIFY_FAILED = 0, 1, 2, 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a command stopped by Ctrl-C
