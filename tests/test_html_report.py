"""The browser report: one self-contained page with tables, examples chosen the compare-mt way and
attention maps, checked as a parser sees it and, where Chromium is installed, as a person sees it."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

from seq2seq.reporting.examples import choose_examples, differing_words
from test_cli import SMALL_MODEL, files_overrides, run, write_corpus

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
RNN_MODEL = ["model=rnn", *(o for o in SMALL_MODEL if not o.startswith(("model=", "model.decoder.attention_size")))]


class Page(HTMLParser):
    """What a page holds: its tags with attributes, headings, table count and text."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.headings: list[str] = []
        self.text: list[str] = []
        self._heading = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._heading = tag in ("h1", "h2", "h3", "h4")

    def handle_endtag(self, tag):
        self._heading = False if tag in ("h1", "h2", "h3", "h4") else self._heading

    def handle_data(self, data):
        self.text.append(data)
        if self._heading:
            self.headings.append(data.strip())

    def all(self, tag: str) -> list[dict[str, str]]:
        return [attrs for name, attrs in self.tags if name == tag]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """A plain RNN and an attention RNN trained on the number corpus, and a job that failed."""
    base = tmp_path_factory.mktemp("html")
    files = write_corpus(base / "data")
    sweep = base / "multirun"
    for job, model in (("0_rnn", RNN_MODEL), ("1_rnn_attention", SMALL_MODEL)):
        result = run("seq2seq-train", *files_overrides(files), *model, f"hydra.run.dir={sweep / job}", cache=base / "cache")
        assert result.returncode == 0, result.stderr[-3000:]
    failed = sweep / "2_transformer"
    failed.mkdir()
    (failed / "config.yaml").write_text("model:\n  name: transformer\nseed: 1\n")
    (failed / "error.txt").write_text("model.decoder.num_heads=3 does not divide d_model=32\n")
    return {"base": base, "sweep": sweep, "files": files, "cache": base / "cache"}


@pytest.fixture(scope="module")
def report(sweep):
    out = sweep["base"] / "report"
    result = run("seq2seq-report", str(sweep["sweep"]), "--html", "--out", str(out), cache=sweep["cache"])
    assert result.returncode == 0, result.stderr[-3000:]
    return out


def test_examples_are_the_largest_differences_each_way_then_random_ones():
    scores = {"base": np.array([50.0, 50, 50, 50, 50, 50, 50, 50]), "other": np.array([90.0, 10, 60, 50, 40, 51, 50, 0])}
    members = np.array([0, 1, 2, 3, 4, 5, 6])  # sentence 7 is in another bucket
    examples = choose_examples(scores, members, "base", largest=2, random=2, seed=3)
    assert [(e.index, e.reason) for e in examples[:4]] == [
        (0, "other − base: +40.0 sentence BLEU"), (2, "other − base: +10.0 sentence BLEU"),
        (1, "other − base: -40.0 sentence BLEU"), (4, "other − base: -10.0 sentence BLEU")]
    assert [e.reason for e in examples[4:]] == ["random", "random"]
    assert {e.index for e in examples[4:]} <= {3, 5, 6}
    assert examples == choose_examples(scores, members, "base", largest=2, random=2, seed=3)  # a fixed seed
    tied = {"base": np.zeros(3), "other": np.zeros(3)}
    assert [e.reason for e in choose_examples(tied, np.arange(3), "base", random=5)] == ["random"] * 3


def test_differing_words_marks_what_the_reference_lacks_at_that_place():
    assert differing_words("the dog that the cat sees sleeps", "the dog that the cat sees runs") == [
        ("the", False), ("dog", False), ("that", False), ("the", False), ("cat", False), ("sees", False),
        ("sleeps", True)]
    assert differing_words("", "a b") == []
    assert differing_words("b a", "a b") == [("b", True), ("a", False)]


def test_the_report_page_is_self_contained(report):
    page = Page((report / "report.html").read_text(encoding="utf-8"))
    assert not page.all("script") and not page.all("link")
    for tag, attrs in page.tags:
        for name in ("src", "href"):
            assert not attrs.get(name, "").startswith(("http:", "https:", "//", "file:")), (tag, attrs)
    images = [attrs["src"] for attrs in page.all("img")]
    assert images and all(src.startswith("data:image/png;base64,") for src in images)
    assert all(base64.b64decode(src.split(",", 1)[1]).startswith(PNG_MAGIC) for src in images)
    alts = [attrs["alt"] for attrs in page.all("img")]
    assert {"bleu by length", "validation BLEU per epoch"} <= set(alts)


def test_the_report_page_has_scores_examples_and_maps_per_bucket(report, sweep):
    text = (report / "report.html").read_text(encoding="utf-8")
    page = Page(text)
    assert {"0-9 source words", "10-19 source words", "Attention on the longest examples"} <= set(page.headings)
    assert len(page.all("table")) >= 8
    assert "Paired bootstrap tests against rnn (" in text and "rnn_attention" in text
    sources = set(sweep["files"]["test"][0].read_text(encoding="utf-8").splitlines())
    shown = re.findall(r"<tr><td>source</td><td>(.*?)</td>", text)
    assert shown and set(shown) <= sources and len(shown) == len(set(shown)) >= 4
    assert re.search(r"rnn_attention − rnn: [+-]\d+\.\d sentence BLEU|random", text)
    maps = sorted(p.name for p in (report / "attention").iterdir())
    assert len(maps) == 2 and all(name.startswith("1_rnn_attention_") for name in maps)  # the plain RNN has no attention
    assert sum(alt.startswith("rnn_attention, sentence ") for alt in (a["alt"] for a in page.all("img"))) == 2
    assert "2_transformer" in text and "does not divide d_model=32" in text  # the failed job is listed
    assert text.count("<summary>") == 3 and "config.yaml" in text


def test_maps_come_from_the_cache_when_the_checkpoints_are_gone(report, sweep, tmp_path):
    copy = tmp_path / "sweep"
    shutil.copytree(sweep["sweep"], copy, ignore=shutil.ignore_patterns("checkpoints"))
    cached = tmp_path / "cached"
    shutil.copytree(report / "attention", cached / "attention")
    for out in (cached, tmp_path / "fresh"):
        result = run("seq2seq-report", str(copy), "--html", "--out", str(out), cache=sweep["cache"])
        assert result.returncode == 0, result.stderr[-3000:]
    cached_page = (cached / "report.html").read_text(encoding="utf-8")
    assert sum(a["alt"].startswith("rnn_attention, sentence ") for a in Page(cached_page).all("img")) == 2
    fresh_page = (tmp_path / "fresh" / "report.html").read_text(encoding="utf-8")
    assert fresh_page.count("no checkpoints/best.pt and no cached map") == 2


def test_compare_writes_a_page_with_the_paired_table_and_examples(sweep, tmp_path):
    runs = [str(sweep["sweep"] / "0_rnn"), str(sweep["sweep"] / "1_rnn_attention")]
    result = run("seq2seq-compare", *runs, "--html", "--out", str(tmp_path), cache=sweep["cache"])
    assert result.returncode == 0, result.stderr[-3000:]
    text = (tmp_path / "comparison.html").read_text(encoding="utf-8")
    page = Page(text)
    assert "0-9 source words" in page.headings and "BLEU 95% CI" in text and "chrF p" in text
    assert re.findall(r"<tr><td>source</td>", text) and len(page.all("img")) == 3  # BLEU by length, two maps


def render(chromium: str, page: Path, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
                           "--virtual-time-budget=5000", *options, page.as_uri()],
                          capture_output=True, text=True, timeout=180)


def test_the_page_renders_in_headless_chromium(report, tmp_path):
    chromium = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
    if chromium is None:
        pytest.skip("no Chromium on PATH (apt-get install chromium): the page is checked by the parser tests only")
    checked = tmp_path / "checked.html"  # the page plus a probe that writes what the browser made of it into the DOM
    probe = ("<script>window.addEventListener('load', () => { const images = [...document.images]; "
             "document.body.setAttribute('data-probe', JSON.stringify({images: images.length, "
             "broken: images.filter(i => !(i.complete && i.naturalWidth > 0)).length, "
             "tables: document.querySelectorAll('table').length, height: document.body.scrollHeight})); });</script>")
    checked.write_text((report / "report.html").read_text(encoding="utf-8").replace("</body>", probe + "</body>"),
                       encoding="utf-8")
    dumped = render(chromium, checked, "--dump-dom")
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    probed = json.loads(re.search(r'data-probe="([^"]*)"', dumped.stdout).group(1).replace("&quot;", '"'))
    assert probed["images"] >= 4 and probed["broken"] == 0 and probed["tables"] >= 8 and probed["height"] > 2000
    assert not [line for line in dumped.stderr.splitlines() if ":CONSOLE" in line]  # the page logged nothing
    screenshot = tmp_path / "page.png"
    shot = render(chromium, report / "report.html", f"--screenshot={screenshot}", "--window-size=1280,1600")
    assert shot.returncode == 0 and not [line for line in shot.stderr.splitlines() if ":CONSOLE" in line]
    pixels = imread(screenshot)
    assert pixels.shape[:2] == (1600, 1280) and pixels[..., :3].std() > 0.05  # drawn, not a blank page
