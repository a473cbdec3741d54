"""Training: the fit loop (`trainer`), its checkpoints, data parallelism and numeric precision."""
