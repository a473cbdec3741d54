"""The documentation builds as a site with every link and anchor checked (mkdocs build --strict), and the
README's links reach files that exist: the first screen points into docs/, and a moved page must not
leave it pointing nowhere (issue 35)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)|src=\"([^\"]+)\"")


def build(root: Path, site: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
                          cwd=root, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def mkdocs_installed():
    pytest.importorskip("mkdocs", reason="mkdocs is in the dev extras: pip install -e '.[dev]'")


def test_the_documentation_builds_strictly_with_the_figures_it_shows(mkdocs_installed, tmp_path):
    result = build(ROOT, tmp_path / "site")
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "site" / "repository" / "experiments" / "context_loss" / "30_50" / "bleu_by_length.png").is_file()
    assert "repository/experiments/context_loss/30_50/bleu_by_length.png" in (tmp_path / "site" / "probe" / "index.html").read_text()


def test_a_broken_link_or_anchor_fails_the_build(mkdocs_installed, tmp_path):
    copy = tmp_path / "repo"
    shutil.copytree(ROOT / "docs", copy / "docs")
    shutil.copy(ROOT / "mkdocs.yml", copy / "mkdocs.yml")
    (copy / "experiments").symlink_to(ROOT / "experiments")
    page = copy / "docs" / "usage.md"
    original = page.read_text(encoding="utf-8")
    for broken in ("[gone](nowhere.md)", "[gone](probe.md#no-such-section)", "![gone](../experiments/none.png)"):
        page.write_text(original + f"\n{broken}\n", encoding="utf-8")
        assert build(copy, tmp_path / "site").returncode != 0, broken


def test_every_relative_link_of_the_readme_reaches_a_file():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = [a or b for a, b in LINK.findall(readme)]
    assert any(target.startswith("docs/") for target in targets)
    missing = [t for t in targets if "://" not in t and not (ROOT / t).exists()]
    assert not missing, f"README.md links to files that do not exist: {missing}"
