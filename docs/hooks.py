"""mkdocs hook: the pages show figures that live beside their experiments, linked as the pages read in the
repository (`../experiments/NAME/figure.png`). The site gets each linked file under `repository/` and the
links rewritten to it, so that --strict checks them like any other link."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[1]
REPOSITORY_LINK = re.compile(r'(\]\(|src=")\.\./((?:experiments|benchmarks)/[^)"\s#]+)')


def on_files(files: Files, config: Any) -> Files:
    """Add every repository file a page links to; a link to a file that does not exist stays broken."""
    for page in sorted(Path(config["docs_dir"]).glob("*.md")):
        for match in REPOSITORY_LINK.finditer(page.read_text(encoding="utf-8")):
            source = ROOT / match.group(2)
            uri = f"repository/{match.group(2)}"
            if source.is_file() and files.get_file_from_path(uri) is None:
                files.append(File.generated(config, uri, abs_src_path=str(source)))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    return REPOSITORY_LINK.sub(lambda match: f"{match.group(1)}repository/{match.group(2)}", markdown)
