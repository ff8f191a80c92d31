import pytest

# support.py asserts on behalf of the tests: let pytest explain its failed asserts too.
pytest.register_assert_rewrite("tests.programs.support")
