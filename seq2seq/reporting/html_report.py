"""The browser report: scores by length with their intervals, the sentences behind them, and attention.

compare-mt (Neubig et al. 2019) showed that a bucketed score is read best beside example sentences
where the systems differ; an attention map then shows what the decoder looked at while it went
wrong. This module lays those out as one self-contained page, for a sweep (`seq2seq-report --html`)
and for a comparison of runs (`seq2seq-compare --html`). The numbers come from the same functions as
the Markdown reports; paired tests and examples need one output per model, so a sweep uses each
model's first finished run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from seq2seq.errors import UserError
from seq2seq.reporting import html
from seq2seq.reporting.attention_maps import attention_maps, has_attention
from seq2seq.provenance import decoding_label
from seq2seq.reporting.compare import Comparison, compare_runs
from seq2seq.reporting.decodings import decoding_summary
from seq2seq.reporting.examples import Example, choose_examples, differing_words, sentence_bleu
from seq2seq.reporting.plots import plot_by_bucket
from seq2seq.run_dir import RunDir
from seq2seq.scoring.bootstrap import METRICS

METRIC_TITLES = {"bleu": "BLEU", "bleu_lc": "BLEU lc", "chrf": "chrF"}
MAPPED_EXAMPLES = 2  # per split: the longest examples shown get attention maps


def _score(row: dict[str, Any], metric: str) -> list[str]:
    """A score, its interval and its p-value against the baseline (marked * where significant)."""
    if row.get(metric) is None:
        return ["-", "-", ""]
    ci = row.get(f"{metric}_ci")
    p = row.get(f"{metric}_p")
    star = "*" if row.get(f"{metric}_significant") else ""
    return [f"{row[metric]:.2f}{star}", "-" if ci is None else f"[{ci[0]:.2f}, {ci[1]:.2f}]",
            "" if p is None else f"{p:.3f}"]


def bucket_table(comparison: Comparison, bucket: str) -> str:
    level = f"{comparison.settings.level:.0%}"
    header = ["run", "sentences"] + [f"{METRIC_TITLES[m]}{part}" for m in METRICS for part in ("", f" {level} CI", " p")]
    rows = [[row["run"], str(row["count"])] + [c for m in METRICS for c in _score(row, m)]
            for row in comparison.table["rows"] if row["bucket"] == bucket]
    return html.table(header, rows)


def example_block(comparison: Comparison, example: Example, scores: dict[str, np.ndarray]) -> str:
    """Source, reference and every system's output (words the reference lacks there marked), with sentence BLEU."""
    source, reference = comparison.text.src[example.index], comparison.text.tgt[example.index]
    lines = [f'<div class="example"><div class="reason">sentence {example.index + 1} · '
             f"{len(source.split())} source words · {html.escape(example.reason)}</div><table>",
             f"<tr><td>source</td><td>{html.escape(source)}</td><td></td></tr>",
             f"<tr><td>reference</td><td>{html.escape(reference)}</td><td></td></tr>"]
    for name, outputs in comparison.systems.items():
        words = html.marked_words(differing_words(outputs[example.index], reference))
        lines.append(f"<tr><td>{html.escape(name)}</td><td>{words}</td>"
                     f'<td class="number">{scores[name][example.index]:.1f}</td></tr>')
    return "\n".join(lines) + "</table></div>"


def bucket_sections(comparison: Comparison, out: Path, anchor: str) -> list[str]:
    """Per length bucket: the paired table and its example sentences; then attention maps of the longest examples."""
    scores = {name: sentence_bleu(outputs, comparison.text.tgt) for name, outputs in comparison.systems.items()}
    baseline = comparison.table["baseline"]
    buckets = [row["bucket"] for row in comparison.table["rows"] if row["run"] == baseline and row["bucket"] != "all"]
    level = f"{comparison.settings.level:.0%}"
    body = [html.paragraph(
        f"Paired {'bootstrap' if comparison.table['test'] == 'bs' else 'approximate randomization'} tests against "
        f"{baseline} ({comparison.settings.resamples} resamples; * marks p < {comparison.table['alpha']:g}, "
        f"uncorrected); {level} bootstrap intervals. Examples: per system, the sentences where its sentence BLEU "
        "(last column) beats or trails the baseline's most, then random ones (fixed seed); marked words are not in "
        "the reference at that place.", "note"),
        html.heading(4, "all sentences"), bucket_table(comparison, "all")]
    shown: list[Example] = []
    for number, (bucket, members) in enumerate(zip(buckets, comparison.members)):
        examples = choose_examples(scores, members, baseline, seed=number + 1)
        shown += examples
        body += [html.heading(4, f"{bucket} source {comparison.buckets.unit}", f"{anchor}-{bucket}"),
                 bucket_table(comparison, bucket)]
        body += [example_block(comparison, e, scores) for e in examples] or [html.paragraph("no sentences", "note")]
    return body + attention_section(comparison, shown, out)


def attention_section(comparison: Comparison, shown: list[Example], out: Path) -> list[str]:
    """Maps of the longest examples shown, for every system whose decoder attends (cached in out/attention/)."""
    attending = {name: path for name, path in comparison.paths.items() if has_attention(path)}
    longest = sorted({e.index for e in shown}, key=lambda i: -len(comparison.text.src[i].split()))[:MAPPED_EXAMPLES]
    if not attending or not longest:
        return []
    sentences = [comparison.text.src[i] for i in longest]
    body = [html.heading(4, "Attention on the longest examples"),
            html.paragraph("Greedy decoding from each run's best checkpoint (the output can differ from a beam "
                           "search's); rows: output subwords, columns: source subwords.", "note")]
    for name, path in attending.items():
        for index, entry in zip(longest, attention_maps(path, sentences, out)):
            caption = f"{name}, sentence {index + 1} ({len(entry.sentence.split())} source words)"
            body.append(html.image(entry.path, caption, caption) if entry.path is not None
                        else html.paragraph(f"{caption}: no map ({entry.missing})", "missing"))
    return body


def runs_section(paths: dict[str, Path], missing: list[dict[str, str]]) -> list[str]:
    """Where each run's numbers come from: model, seed, training, decoding per split, machine; its config; and runs
    left out."""
    rows, configs = [], []
    for name, path in paths.items():
        run = RunDir(path)
        meta = json.loads(run.meta.read_text(encoding="utf-8")) if run.meta.is_file() else {}
        results = run.read_results()
        training = (results.training if results else None) or {}
        machine = meta.get("machine", {})
        decodings = "; ".join(f"{key}: {decoding_label(entry.get('decoding'))}"
                              for key, entry in (results.splits if results else {}).items()) or "-"
        rows.append([name, str(results.model if results else "?"), str(meta.get("seed", "?")),
                     str(training.get("steps", "-")), f"{training.get('seconds', float('nan')):.0f}",
                     str(results.precision if results else "-"), decodings,
                     f"{machine.get('platform', '?')}, {machine.get('cpus', '?')} CPUs, torch {meta.get('torch_version', '?')}"])
        if run.config.is_file():
            configs.append(html.details(f"{name}: config.yaml", html.preformatted(run.config.read_text(encoding="utf-8"))))
    body = [html.heading(2, "Runs"), html.table(["run", "model", "seed", "updates", "train s", "precision", "decoding", "machine"],
                                                rows, numeric_from=2)] + configs
    if missing:
        body += [html.heading(3, "Runs not in the tables"),
                 html.table(["run", "model", "status", "detail"],
                            [[m["run"], m["model"], m["status"], m["detail"]] for m in missing], numeric_from=4)]
    return body


def comparison_figures(comparison: Comparison, out: Path) -> list[str]:
    """BLEU by length with each run's bootstrap band, and the contrastive verb test by distance where measured."""
    rows = [{"bucket": r["bucket"], "model": r["run"], "mean": r["bleu"], "std": None, "ci": r["bleu_ci"],
             "midpoint": None, "seeds": 1} for r in comparison.table["rows"]]
    figures = [out / "comparison_bleu_by_length.png"]
    plot_by_bucket(rows, figures[0], f"source length in {comparison.buckets.unit}", "BLEU",
                   f"BLEU by source length on '{comparison.split}' (bands: bootstrap CI)")
    contrastive = []
    for name, path in comparison.paths.items():
        results = RunDir(path).read_results()
        test = (results.splits.get(comparison.split, {}) if results else {}).get("contrastive", {})
        for row in test.get("kinds", {}).get("attractor", {}).get("by_distance", []):
            contrastive.append({"bucket": row["bucket"], "model": name, "mean": row["accuracy"], "std": None,
                                "ci": row.get("ci"), "midpoint": None, "seeds": 1})
    if contrastive:
        figures.append(out / "comparison_contrastive_accuracy.png")
        plot_by_bucket(contrastive, figures[1], "subject–verb distance", "contrastive accuracy (attractor)",
                       f"Contrastive verb test on '{comparison.split}' (bands: bootstrap CI)", chance=0.5)
    return [html.image(path, path.stem.replace("_", " ")) for path in figures]


def comparison_page(comparison: Comparison, out: Path) -> str:
    """seq2seq-compare --html: the paired table by bucket with examples and maps, the figures, and the runs."""
    title = f"Comparison on split '{comparison.split}'"
    decodings = decoding_summary({name: [decoding] for name, decoding in comparison.decodings.items()})
    body = [html.heading(1, title), *map(html.paragraph, decodings[:1]), *comparison_figures(comparison, out),
            html.heading(2, f"By source length ({comparison.buckets.mode} buckets)")]
    body += bucket_sections(comparison, out, comparison.split)
    return html.page(title, body + runs_section(comparison.paths, []))


def sweep_split_section(split: str, representatives: dict[str, Path], out: Path) -> list[str]:
    """A sweep split's paired tests and examples, from one run per model; a failure is shown, not raised."""
    if not representatives:
        return []
    names = ", ".join(f"{model}: {path.name}" for model, path in representatives.items())
    body = [html.heading(3, "By length bucket: significance and examples"),
            html.paragraph(f"One run per model (its first finished run; {names}).", "note")]
    try:
        comparison = compare_runs(list(representatives.values()), split, "bs", names=list(representatives),
                                  mixed_decodings=True)  # the report has refused them already, or was asked to mix
    except UserError as error:
        return body + [html.paragraph(f"not available: {error}", "missing")]
    return body + bucket_sections(comparison, out, split)


def sweep_page(splits: list[str], sections: dict[str, list[str]], figures: dict[str, list[Path]],
               curves: Path | None, representatives: dict[str, dict[str, Path]], runs: dict[str, Path], missing: list[dict[str, str]],
               out: Path) -> str:
    """seq2seq-report --html: each split's Markdown tables as HTML, its figures, tests and examples; then the runs.

    `sections` holds each split's Markdown tables (the report's own lines), so both formats show one set of numbers.
    """
    body = [html.heading(1, "Report"), html.paragraph(f"{len(runs)} runs. " + (
        "Scores are the mean ± sample standard deviation over a model's seeds; a single seed shows its bootstrap "
        "interval in brackets.")), "<ul>" + "".join(f'<li><a href="#split-{html.escape(s)}">split {html.escape(s)}</a></li>'
                                                  for s in splits) + "</ul>"]
    for split in splits:
        body.append(html.heading(2, f"Split '{split}'", f"split-{split}"))
        body += [html.image(path, path.stem.replace("_", " ")) for path in figures.get(split, [])]
        body += markdown_blocks(sections[split])
        body += sweep_split_section(split, representatives.get(split, {}), out)
    if curves is not None:
        body += [html.heading(2, "Training"), html.image(curves, "validation BLEU per epoch")]
    return html.page("seq2seq report", body + runs_section(runs, missing))


def markdown_blocks(lines: list[str]) -> list[str]:
    """The report's Markdown lines of one split as HTML: headings, paragraphs and pipe tables."""
    body: list[str] = []
    table: list[str] = []
    for line in [*lines, ""]:
        if line.startswith("|"):
            table.append(line)
            continue
        if table:
            body.append(html.markdown_table(table))
            table = []
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            body.append(html.heading(min(level + 1, 6), line.lstrip("#").strip().replace("`", "'")))
        elif line.strip():
            body.append(html.paragraph(line.replace("`", "'")))
    return body

