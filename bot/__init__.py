"""The doorstep process: CLI entry, build_app() wiring, channel adapters, scheduler."""
