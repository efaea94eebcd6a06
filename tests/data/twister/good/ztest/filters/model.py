"""Two passing ztest tests (the scenarios differ only in their filters)."""

from zsim import ztest

suite = ztest.suite("filters_suite")


@suite.test
def test_one():
    ztest.zassert_true(True)


@suite.test
def test_two():
    ztest.zassert_not_null(object())


def main(k):
    ztest.run_all(k)
