"""The README's examples are real: each script block prints the output block after it."""

from __future__ import annotations

import contextlib
import io
import pathlib
import re

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"
# A ```python block that is a script (not a >>> session), then a plain ``` block.
PAIR = re.compile(r"```python\n(?!>>>)(.*?)```\n\n```\n(.*?)```", re.S)


def test_readme_script_outputs_are_what_the_scripts_print():
    pairs = PAIR.findall(README.read_text(encoding="utf-8"))
    assert pairs, "no script/output pair found in README.md"
    for script, expected in pairs:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(script, "README.md", "exec"), {})
        assert out.getvalue() == expected
