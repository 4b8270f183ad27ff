"""Tests of aftership_async.testing, the fake AfterShip server."""
