"""Shared foundations every module reuses: settings, logging, CLI errors, small I/O helpers."""
