"""Go's sort.Sort port: it sorts (ties aside, dive's order is covered by the parity tests)."""

from __future__ import annotations

import random

from sizebot.image.go_sort import go_sort


def test_go_sort_sorts_every_shape():
    rnd = random.Random(11)
    for n in [0, 1, 2, 12, 13, 49, 50, 51, 200, 1000]:
        for shape in ("random", "sorted", "reversed", "few", "sawtooth"):
            items = [rnd.randint(0, 10**6) for _ in range(n)]
            if shape == "sorted":
                items.sort()
            elif shape == "reversed":
                items.sort(reverse=True)
            elif shape == "few":
                items = [x % 3 for x in items]
            elif shape == "sawtooth":
                items = [i % 17 for i in range(n)]
            got = list(items)
            go_sort(got, lambda a, b: a < b)
            assert got == sorted(items), (n, shape)


def test_go_sort_is_not_stable_like_go():
    # Equal keys, distinct payloads: the port keeps Go's (unstable) arrangement, not the input order.
    items = [(i % 2, i) for i in range(64)]
    go_sort(items, lambda a, b: a[0] < b[0])
    assert [k for k, _ in items] == [0] * 32 + [1] * 32
    assert [v for _, v in items] != sorted(v for _, v in items)
