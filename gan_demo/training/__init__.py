"""Training: pure step functions, the CLI's image trainer and the live background trainer."""
