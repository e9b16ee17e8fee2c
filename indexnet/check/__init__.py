"""Claims vs the exact derivative vs finite differences; diagnosis; gradcheck for any callable.

Modules, in import order: :mod:`.report` (the verdicts), :mod:`.gradreport`,
:mod:`.gradinputs` and :mod:`.gradcheck` (finite differences for any scalar
function), :mod:`.context` (the exact derivatives of one program),
:mod:`.diagnose` (how a failing claim is wrong) and :mod:`.judge` (``check``).
"""
