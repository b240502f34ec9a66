"""Root conftest: kept almost empty on purpose; fixtures live in tests/conftest.py and suites/conftest.py."""
