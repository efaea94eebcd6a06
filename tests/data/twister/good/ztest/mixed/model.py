"""One passing, one failing and one skipped ztest test."""

from zsim import ztest

suite = ztest.suite("mixed_suite")


@suite.test
def test_adds_up():
    ztest.zassert_equal(1 + 1, 2, "arithmetic")


@suite.test
def test_broken():
    ztest.zassert_equal(2 + 2, 5, "two and two")


@suite.test
def test_not_here():
    ztest.test_skip()


def main(k):
    ztest.run_all(k)
