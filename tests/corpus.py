"""A curated corpus of einsum problems, grouped by kind.

Like opt_einsum's test list: each entry is ``(subscripts, shapes)``, one shape
per operand, every one valid for ``np.einsum``. Test modules cross
:func:`cases` with every optimizer in :data:`indexnet.typing.OPTIMIZERS`.
The ``past_failures`` group keeps every problem that once gave a wrong
answer or a crash, with a note on what broke.
"""

from __future__ import annotations

from typing import Any

import pytest

Shape = tuple[int, ...]
Case = tuple[str, list[Shape]]

CORPUS: dict[str, list[Case]] = {
    # the seed document's own formulas: forward pass, xᵀδ, δWᵀ, bias grad, ...
    "seed": [
        ("nd,dh->nh", [(5, 3), (3, 4)]),
        ("nd,nh->dh", [(5, 3), (5, 4)]),
        ("nh,dh->nd", [(5, 4), (3, 4)]),
        ("nh->h", [(5, 4)]),
        ("dh,dh->", [(3, 4), (3, 4)]),
        ("nd,dh,hk->nk", [(5, 3), (3, 4), (4, 2)]),
        ("nh,nh->nh", [(5, 4), (5, 4)]),
        ("nh,h->nh", [(5, 4), (4,)]),
    ],
    "hadamard": [
        ("i,i->i", [(4,), (4,)]),
        ("ij,ij->ij", [(3, 4), (3, 4)]),
        ("ij,ji->ij", [(3, 4), (4, 3)]),
        ("ij,ij->ji", [(3, 4), (3, 4)]),
        ("ijk,ijk->ijk", [(2, 3, 4), (2, 3, 4)]),
        ("ij,ij,ij->ij", [(2, 3), (2, 3), (2, 3)]),
        ("ijk,kji->ikj", [(2, 3, 4), (4, 3, 2)]),
    ],
    "trace_diagonal": [
        ("ii->", [(3, 3)]),
        ("ii->i", [(3, 3)]),
        ("iij->j", [(2, 2, 3)]),
        ("iji->j", [(2, 3, 2)]),
        ("jii->ij", [(3, 2, 2)]),
        ("iii->i", [(2, 2, 2)]),
        ("iii->", [(2, 2, 2)]),
        ("ijij->ij", [(2, 3, 2, 3)]),
        ("ii,jj->", [(3, 3), (2, 2)]),
        ("ii,i->i", [(3, 3), (3,)]),
        ("iij,jk->ik", [(2, 2, 3), (3, 4)]),
        ("ij,jj->i", [(2, 3), (3, 3)]),
    ],
    "outer": [
        ("i,j->ij", [(3,), (4,)]),
        ("i,j->ji", [(3,), (4,)]),
        ("ij,k->ijk", [(2, 3), (4,)]),
        ("ij,k->kji", [(2, 3), (4,)]),
        ("i,j,k->ijk", [(2,), (3,), (4,)]),
        ("ab,cd->abcd", [(2, 3), (2, 2)]),
        ("ab,cd->dbca", [(2, 3), (2, 2)]),
    ],
    # every transpose layout of a matrix product, then blocks of letters
    "gemm": [
        ("ij,jk->ik", [(3, 4), (4, 5)]),
        ("ji,jk->ik", [(4, 3), (4, 5)]),
        ("ij,kj->ik", [(3, 4), (5, 4)]),
        ("ji,kj->ik", [(4, 3), (5, 4)]),
        ("ij,jk->ki", [(3, 4), (4, 5)]),
        ("ji,jk->ki", [(4, 3), (4, 5)]),
        ("ij,kj->ki", [(3, 4), (5, 4)]),
        ("ji,kj->ki", [(4, 3), (5, 4)]),
        ("ij,j->i", [(3, 4), (4,)]),
        ("ji,j->i", [(4, 3), (4,)]),
        ("i,ij->j", [(3,), (3, 4)]),
        ("ijk,kl->ijl", [(2, 3, 4), (4, 5)]),
        ("ijk,kl->lji", [(2, 3, 4), (4, 5)]),
        ("ijk,jkl->il", [(2, 3, 4), (3, 4, 5)]),
        ("ijk,lkj->il", [(2, 3, 4), (5, 4, 3)]),
        ("ikj,jkl->li", [(2, 4, 3), (3, 4, 5)]),
        ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
        ("ij,jk,kl,lm->im", [(2, 3), (3, 4), (4, 2), (2, 3)]),
        # square operands, where a wrong transpose still fits the shapes
        ("ij,jk->ik", [(3, 3), (3, 3)]),
        ("ji,jk->ik", [(3, 3), (3, 3)]),
        ("ij,kj->ik", [(3, 3), (3, 3)]),
        ("ji,kj->ik", [(3, 3), (3, 3)]),
        ("ij,jk->ki", [(3, 3), (3, 3)]),
        ("ij,ji->", [(3, 3), (3, 3)]),
        ("bij,bjk->bik", [(3, 3, 3), (3, 3, 3)]),
        ("bji,bkj->bik", [(3, 3, 3), (3, 3, 3)]),
    ],
    "batched": [
        ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
        ("bij,bkj->bik", [(2, 3, 4), (2, 5, 4)]),
        ("bji,bjk->bki", [(2, 4, 3), (2, 4, 5)]),
        ("ijb,jkb->ikb", [(3, 4, 2), (4, 5, 2)]),
        ("bij,bjk->kbi", [(2, 3, 4), (2, 4, 5)]),
        ("bij,bj->bi", [(2, 3, 4), (2, 4)]),
        ("bi,bi->b", [(3, 4), (3, 4)]),
        ("abij,abjk->abik", [(2, 2, 3, 4), (2, 2, 4, 3)]),
    ],
    "tensordot": [
        ("abc,bcd->ad", [(2, 3, 4), (3, 4, 5)]),
        ("abcd,cdef->abef", [(2, 2, 3, 3), (3, 3, 2, 2)]),
        ("abc,cab->", [(2, 3, 4), (4, 2, 3)]),
        ("abc,abc->", [(2, 3, 4), (2, 3, 4)]),
        ("ab,bc,ca->", [(2, 3), (3, 4), (4, 2)]),
        ("abc,cd,de->abe", [(2, 3, 4), (4, 3), (3, 2)]),
    ],
    # a size-1 axis broadcast against a larger one, as NumPy's einsum allows
    "broadcast_one": [
        ("ij,ij->ij", [(2, 3), (1, 3)]),
        ("ij,ij->ij", [(2, 1), (1, 3)]),
        ("ij,jk->ik", [(2, 3), (1, 4)]),
        ("ij,jk->ik", [(2, 1), (3, 4)]),
        ("i,i->", [(1,), (3,)]),
        ("i,i->i", [(3,), (1,)]),
        ("ijk,ik->j", [(2, 3, 1), (1, 4)]),
        ("bij,bjk->bik", [(1, 3, 4), (2, 4, 5)]),
        ("ij,ij,ij->", [(1, 3), (2, 1), (2, 3)]),
        ("ii,i->i", [(1, 1), (3,)]),
    ],
    "ellipsis": [
        ("...ij,...jk->...ik", [(2, 3, 4), (2, 4, 5)]),
        ("...ij,...jk->...ik", [(3, 4), (2, 4, 5)]),
        ("...ij,...jk->...ik", [(2, 1, 3, 4), (3, 4, 5)]),
        ("...,...->...", [(2, 3), (3,)]),
        ("i...->...", [(2, 3, 4)]),
        ("...i->i...", [(2, 3, 4)]),
        ("...i,...i->...", [(2, 1, 3), (4, 3)]),
        ("i...i->...", [(3, 2, 3)]),
        ("ij...,jk...->ik...", [(2, 3, 4), (3, 5, 1)]),
        ("...ij->...", [(2, 3)]),
        ("...,ij->...ij", [(), (2, 3)]),
    ],
    "scalars": [
        ("->", [()]),
        (",->", [(), ()]),
        (",,->", [(), (), ()]),
        (",ij->ij", [(), (2, 3)]),
        ("ij,->ji", [(2, 3), ()]),
        ("i,->", [(3,), ()]),
        (",i,i->i", [(), (3,), (3,)]),
    ],
    "size_zero": [
        ("ij,jk->ik", [(0, 3), (3, 4)]),
        ("ij,jk->ik", [(2, 0), (0, 4)]),
        ("ii->", [(0, 0)]),
        ("ii->i", [(0, 0)]),
        ("i,j->ij", [(0,), (3,)]),
        ("ij,ij->", [(0, 3), (0, 3)]),
        ("ij->", [(0, 2)]),
        ("ij->j", [(0, 2)]),
        ("bij,bjk->bik", [(0, 2, 3), (0, 3, 4)]),
        ("ij,ij->ij", [(0, 3), (1, 3)]),
        ("...i,...i->...", [(0, 3), (3,)]),
    ],
    "implicit": [
        ("ij,jk", [(2, 3), (3, 4)]),
        ("ii", [(3, 3)]),
        ("ij,ij", [(2, 3), (2, 3)]),
        ("ba", [(2, 3)]),
        ("i,j", [(2,), (3,)]),
        ("iij", [(2, 2, 3)]),
        ("...ij,...jk", [(2, 3, 4), (4, 5)]),
        ("bA,aB", [(2, 3), (4, 5)]),
        ("", [()]),
        (",", [(), ()]),
    ],
    "past_failures": [
        # the matrix-view shortcut once mis-reshaped a full contraction of transposes
        ("ij,ji->", [(3, 4), (4, 3)]),
        # vjp once mis-reshaped the gradient of the size-1 broadcast operand
        ("ij,ij->", [(2, 3), (1, 3)]),
        # plans once took an intermediate's sizes from the whole formula, not
        # from its own operands: a letter that broadcast (size 1) in every
        # operand of a step came out at full size, and the next step's
        # dot / matmul reshape failed
        ("i,j,ij->", [(3,), (2,), (3, 1)]),
        (",a,...ab->...", [(), (2,), (1, 2)]),
        ("...,abc,cd->...a", [(), (1, 1, 2), (1, 2)]),
        ("...,abc,cd->...", [(), (1, 1, 2), (1, 2)]),
        ("abc,...,,...a->...", [(2, 0, 1), (1, 1), (), (0, 1, 2)]),
        ("ab,bc,c->a", [(2, 1), (3, 1), (3,)]),
        # index_sizes once let a diagonal's axes differ ("ii" with shape (1, 3)),
        # so NumPy raised a bare ValueError: see test_subscripts for the error
    ],
}

#: Every (group, subscripts, shapes) of the corpus.
ALL: list[tuple[str, str, list[Shape]]] = [
    (group, subscripts, shapes)
    for group, entries in CORPUS.items()
    for subscripts, shapes in entries
]


def cases(*groups: str) -> list[Any]:
    """``pytest.param(subscripts, shapes)`` for the given groups (all when none)."""
    chosen = groups or tuple(CORPUS)
    return [
        pytest.param(subscripts, shapes, id=f"{group}:{subscripts}:{_shape_id(shapes)}")
        for group in chosen
        for subscripts, shapes in CORPUS[group]
    ]


def _shape_id(shapes: list[Shape]) -> str:
    return "/".join("x".join(map(str, shape)) or "()" for shape in shapes)
