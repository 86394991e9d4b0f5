"""Tests of the platform-neutral sandbox kit."""
