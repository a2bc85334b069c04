"""Print one of the README's commands, so that CI runs exactly what the README says.

The README marks each command block with an HTML comment on the line before its
fence: ``<!-- ci: setup -->`` (install and the main job) and ``<!-- ci: test -->``
(the test command). Usage: ``python .ci/readme_commands.py setup|test``.
"""

import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def command(name: str) -> str:
    """Return the shell text of the README block marked ``<!-- ci: NAME -->``."""
    pattern = rf"<!-- ci: {re.escape(name)} -->\s*```(?:bash|sh)\n(.*?)```"
    found = re.findall(pattern, README.read_text(), flags=re.S)
    if len(found) != 1:
        raise SystemExit(f"README.md has {len(found)} blocks marked 'ci: {name}', expected 1")
    return found[0].strip()


if __name__ == "__main__":
    print(command(sys.argv[1]))
