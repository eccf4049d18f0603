"""The README's promises: its first commands and its code snippet."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_opens_with_the_two_commands():
    first_block = re.search(r"```bash\n(.*?)```", README.read_text(), re.S).group(1)
    commands = [line.split("#")[0].strip() for line in first_block.splitlines()]
    assert commands == ["make demo", "make test"]


def test_library_snippet_runs(capsys):
    snippet = re.search(r"## In your own code.*?```python\n(.*?)```", README.read_text(),
                        re.S).group(1)
    exec(compile(snippet, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert "range" in printed and "hard_share" in printed
