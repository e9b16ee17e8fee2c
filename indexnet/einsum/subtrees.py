"""A contraction tree refined by optimal subtrees: the reconfiguration of ``optimize="auto"``.

A binary contraction tree over ``n`` tensors is held as bit masks (a node is
the set of tensors it contracts). :meth:`SubtreeTree.reconfigure` takes the
costliest node whose subtree has not been tried yet, cuts the subtree of
about ``size`` tensors below it (breadth first), contracts those tensors
again by an exact dynamic programme (cotengrust's compiled one, or
cotengra's own in Python) and keeps the new subtree where it costs fewer
FLOPs. Run until no subtree is left untried, that ends in a local optimum.

This is cotengra's ``subtree_reconfigure`` idea, cut down to what ``auto``
needs. On ``rand_equation(20, 3 or 4)`` (30 networks, three starts each)
cotengra's took a median 5.0 ms a start (rounds of 8, stopped at the first
round without a gain) and left 13 of 90 starts over 1.1× the optimum; this
one, run to the end with subtrees of 7, took 7.5 ms and left none.

>>> import cotengrust
>>> chain = ["ab", "bc", "cd", "de"]  # first ab with de: an outer product
>>> tree = SubtreeTree(chain, "ae", dict.fromkeys("abcde", 10), [(0, 3), (0, 1), (0, 1)],
...                    cotengrust.optimize_optimal)
>>> tree.total_flops()
21000.0
>>> while tree.reconfigure(size=7, rounds=8):
...     pass
>>> tree.total_flops(), tree.ssa_path()
(3000.0, [(1, 2), (3, 4), (0, 5)])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["SubtreeTree"]

#: An exact path finder with cotengrust's ``optimize_optimal`` signature.
Optimal = Callable[..., Any]


class SubtreeTree:
    """A contraction tree whose subtrees can be contracted again optimally.

    ``terms`` are the operands' index strings (no letter twice in one),
    ``output`` the result's, ``sizes`` each index's size, ``path`` a linear
    (opt_einsum) path over the operands, and ``optimal`` the exact path
    finder (``cotengrust.optimize_optimal`` or cotengra's Python one). A
    path that stops short of one tensor is completed by outer products.
    """

    def __init__(self, terms: Sequence[str], output: str, sizes: dict[str, int],
                 path: Sequence[Sequence[int]], optimal: Optimal) -> None:
        self._output = frozenset(output)
        self._sizes = sizes
        self._optimal = optimal
        self._holders: dict[str, int] = {}  # each index: the mask of the operands holding it
        for i, term in enumerate(terms):
            for index in term:
                self._holders[index] = self._holders.get(index, 0) | (1 << i)
        self.leaves = len(terms)
        self._legs: dict[int, tuple[str, ...]] = {  # as cotengra counts: no index of one alone
            1 << i: tuple(index for index in dict.fromkeys(term)
                          if self._holders[index] & ~(1 << i) or index in self._output)
            for i, term in enumerate(terms)}
        self._children: dict[int, tuple[int, int]] = {}
        self._flops: dict[int, float] = {}
        self._tried: set[frozenset[int]] = set()
        nodes = [1 << i for i in range(len(terms))]
        for step in path:
            picked = [nodes[k] for k in step]
            for k in sorted(step, reverse=True):
                del nodes[k]
            node = picked[0]
            for other in picked[1:]:
                node = self._join(node, other)
            nodes.append(node)
        while len(nodes) > 1:
            last = nodes.pop()
            nodes.append(self._join(nodes.pop(), last))
        self.root = nodes[0]

    def total_flops(self) -> float:
        """The tree's cost: for each pairwise contraction, the product of its indices' sizes.

        An index of one operand alone (summed in it first) is not counted, as in cotengra.
        """
        return float(sum(self._flops.values()))

    def reconfigure(self, size: int, rounds: int) -> int:
        """Contract again up to ``rounds`` untried subtrees of ``size`` tensors; how many were.

        0 means every subtree has been tried: the tree is a local optimum.
        """
        done = 0
        while done < rounds:
            found = self._untried(size)
            if found is None:
                break
            root, frontier, inner = found
            self._tried.add(frozenset(frontier))
            done += 1
            self._replace(root, frontier, inner)
        return done

    def ssa_path(self) -> list[tuple[int, int]]:
        """The tree as a path in static single assignment form (opt_einsum's ``ssa_path``)."""
        ids = {1 << i: i for i in range(self.leaves)}
        path: list[tuple[int, int]] = []
        stack = [(self.root, False)]
        while stack:
            node, ready = stack.pop()
            if node in ids:
                continue
            left, right = self._children[node]
            if ready:
                path.append((ids[left], ids[right]))
                ids[node] = len(ids)
            else:
                stack += [(node, True), (right, False), (left, False)]
        return path

    # -- the tree --------------------------------------------------------------------------

    def _contracted(self, left: int, right: int, left_legs: tuple[str, ...],
                    right_legs: tuple[str, ...]) -> tuple[tuple[str, ...], float]:
        """The legs of ``left | right`` (indices still shared outside it, or kept) and the cost."""
        mask = left | right
        involved = dict.fromkeys(left_legs)
        involved.update(dict.fromkeys(right_legs))
        flops = 1.0
        legs = []
        for index in involved:
            flops *= self._sizes[index]
            if self._holders[index] & ~mask or index in self._output:
                legs.append(index)
        return tuple(legs), flops

    def _join(self, left: int, right: int) -> int:
        node = left | right
        self._legs[node], self._flops[node] = self._contracted(
            left, right, self._legs[left], self._legs[right])
        self._children[node] = (left, right)
        return node

    def _untried(self, size: int) -> tuple[int, list[int], list[int]] | None:
        """The costliest node whose subtree is untried: (node, the subtree's tensors, its nodes)."""
        for root in sorted(self._children, key=self._flops.__getitem__, reverse=True):
            frontier, inner = self._subtree(root, size)
            if len(frontier) > 2 and frozenset(frontier) not in self._tried:
                return root, frontier, inner
        return None

    def _subtree(self, root: int, size: int) -> tuple[list[int], list[int]]:
        """The tensors of up to ``size`` below ``root``, breadth first, and the nodes between."""
        frontier = [root]
        inner: list[int] = []
        queue = [root]
        while queue and len(frontier) < size:
            node = queue.pop(0)
            if node not in self._children:
                continue
            left, right = self._children[node]
            frontier.remove(node)
            frontier += (left, right)
            inner.append(node)
            queue += (left, right)
        return frontier, inner

    def _replace(self, root: int, frontier: list[int], inner: list[int]) -> None:
        """Contract ``frontier`` into ``root`` optimally; keep that where it costs less."""
        before = sum(self._flops[node] for node in inner)
        inputs = [self._legs[node] for node in frontier]
        steps = self._optimal(inputs, self._legs[root], self._sizes, minimize="flops",
                              cost_cap=before, simplify=False, use_ssa=True)
        nodes, legs = list(frontier), list(inputs)
        joins: list[tuple[int, int, tuple[str, ...], float]] = []
        after = 0.0
        for i, j in steps:
            new_legs, flops = self._contracted(nodes[i], nodes[j], legs[i], legs[j])
            joins.append((nodes[i], nodes[j], new_legs, flops))
            nodes.append(nodes[i] | nodes[j])
            legs.append(new_legs)
            after += flops
        if after >= before or nodes[-1] != root:  # no gain, or not one tensor again
            return
        for node in inner:
            del self._children[node], self._flops[node]
        for left, right, new_legs, flops in joins:
            node = left | right
            self._children[node] = (left, right)
            self._legs[node], self._flops[node] = new_legs, flops
