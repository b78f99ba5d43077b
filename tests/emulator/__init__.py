"""Tests of the embedded Sequin emulator (plain httpx, never the client library)."""
