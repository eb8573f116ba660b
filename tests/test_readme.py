"""The README's two set-up commands and .ci/run stay in step."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    setup = text.split("## Set up", 1)[1].split("\n## ", 1)[0]
    blocks = setup.split("```bash\n")[1:]
    return [b.split("```", 1)[0].strip() for b in blocks]


def test_readme_has_exactly_two_setup_commands():
    cmds = _readme_commands()
    assert len(cmds) == 2
    assert "wholesoil demo" in cmds[0]
    assert "pytest" in cmds[1]


def test_ci_runs_the_readme_test_command_verbatim():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert _readme_commands()[1] in ci.splitlines()


def test_readme_python_example_runs():
    import re

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    code = re.search(r"## Python\n\n```python\n(.*?)```", text, re.S).group(1)
    ns: dict = {}
    exec(code, ns)
    # 524 NCSCD pedons, each with 5 harmonized 20-cm layers and one β fit
    assert len(ns["layers"]) == 524 * 5 and len(ns["fits"]) == 524
    assert ns["x100"].shape == (524,)
    # the example shows the method working on the data it ships (issue: a newcomer copies it):
    # subsoil from topsoil has skill on held-out spatial blocks, and every layer's stock has a
    # real interval (both the β and the topsoil maps carry their Monte Carlo draws)
    assert ns["cv"].metrics["r2"] > 0.1
    stocks = ns["stocks"]
    assert ((stocks.upper_pg - stocks.lower_pg) > 0.1 * stocks.stock_pg).all()
