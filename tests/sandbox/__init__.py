"""Tests of the CleverTap emulator (ctflow.sandbox)."""
