"""report.md: each split's tables (BLEU, chrF, output length, parity, contrastive test, every seed) and the
runs that are not in them, from the rows of `reporting.tables`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from seq2seq.reporting.decodings import decoding_lines
from seq2seq.reporting.parity import parity_lines
from seq2seq.reporting.runs import Run, group_by_model, runs_left_out
from seq2seq.reporting.tables import (CONTRASTIVE_VIEWS, METRIC_TITLES, SOURCE_BLIND, escape_cell, format_cell,
                                      per_seed_table, published_pairs, slope_lines, wide_table)
from seq2seq.reporting.variants import variant_lines


def split_markdown(split: str, runs: list[Run], rows: list[dict[str, Any]], scores: list[dict[str, Any]]) -> list[str]:
    """One split's section: BLEU and chrF by length, the contrastive test by each view, then every seed."""
    lines = [f"## Split `{split}`", "", *decoding_lines(split, group_by_model(runs, split))]
    tests = [r.results.splits[split]["contrastive"] for r in runs
             if r.status == "finished" and "contrastive" in r.results.splits.get(split, {})]
    if tests and tests[0].get("length_distance_r") is not None:
        lines += [f"Source length and subject–verb distance correlate at r = {tests[0]['length_distance_r']:.2f} "
                  "over this split's contrastive pairs.", ""]
    for metric, title in METRIC_TITLES.items():
        if any(r["measure"] == metric for r in rows):
            lines += [f"### {title} by source length", ""] + wide_table(rows, metric, "length")
            lines += slope_lines(rows) if metric == "bleu" else []
            lines.append("")
            lines += parity_lines(rows, format_cell) if metric == "bleu" else []
    if any(r["measure"] == "length_ratio" for r in rows):
        lines += ["### Output length: hypothesis / reference length by source length", "",
                  "BLEU's length ratio (its brevity penalty's input): below 1 a model says less than the reference, as "
                  "one that stops early on long inputs does; a model that mistranslates keeps it near 1.", ""]
        lines += wide_table(rows, "length_ratio", "length") + [""]
    lines += variant_lines(runs, split)
    lines += against_published(rows)
    kinds = list(dict.fromkeys(r["measure"] for r in rows if r["measure"].startswith("contrastive_")))
    for measure in kinds:
        kind = measure.removeprefix("contrastive_")
        lines += [f"### Contrastive verb test: `{kind}` (accuracy %, chance 50)", "",
                  "The model scores the reference against a copy " + contrast_description(kind, tests)
                  + ", under teacher forcing; accuracy is the share of pairs where the reference wins."
                  + (f" `{SOURCE_BLIND}` is a word trigram model of the training targets scoring the same pairs without"
                     " the source: the floor a model reaches on English alone." if any(r["model"] == SOURCE_BLIND for r in rows)
                     else ""), ""]
        for view in CONTRASTIVE_VIEWS:
            if any(r["measure"] == measure and r["view"] == view for r in rows):
                if view == "band":
                    lines += ["Distance at fixed length: the nearest against the farthest distance cell of each length "
                              "band, items paired by exact length; the difference in accuracy points (near − far).", ""]
                if view == "factorial":
                    lines += FACTORIAL_EXPLAINED
                lines += wide_table(rows, measure, view, with_all=view == "distance") + [""]
        lines += distance_effect_tests(runs, split, kind) + factorial_tests(runs, split, kind)
    if scores:
        level = next((r.results.splits[split].get("bootstrap", {}).get("level") for r in runs
                      if r.status == "finished" and split in r.results.splits), None)
        interval = "bootstrap intervals" if level is None else f"{level:.0%} bootstrap intervals"
        lines += [f"### Every seed, with {interval}", "", "BLEU by source length:", ""]
        lines += per_seed_table(scores, "bleu", "length") + [""]
        for measure in kinds:
            lines += [f"Contrastive `{measure.removeprefix('contrastive_')}` accuracy % by subject–verb distance:", ""]
            lines += per_seed_table(scores, measure, "distance") + [""]
    return lines


def contrast_description(kind: str, tests: list[dict[str, Any]]) -> str:
    """What a contrast of `kind` was in these runs. Runs scored before issue 28 carry no source-blind floor:
    their attractor replaced the main verb alone (a contrast English alone wins more than half the time) and
    a tie counted as a loss, so their report must not describe the contrast of today's code."""
    if tests and all("source_blind" in test for test in tests):
        return ("in which the main verb and a relative-clause verb of the same transitivity trade places"
                if kind == "attractor" else "whose main verb is replaced by a lexicon verb the sentence lacks") + \
            " (a tie counts ½)"
    return ("whose main verb alone is replaced by a verb of one of the sentence's relative clauses (the contrast "
            "before issue 28, which a model of the English alone wins more than half the time; a tie counted as a loss)"
            if kind == "attractor" else "whose main verb is swapped for a random verb (a tie counted as a loss)")


def paired_tests(runs: list[Run], split: str, kind: str, key: str, title: str, columns: list[str],
                 cells: Callable[[dict[str, Any]], list[str]]) -> list[str]:
    """One table of each run's paired tests under `key` of its contrastive `kind` tables (`distance_effect`,
    `factorial_effects`): `cells` gives a test's own columns, then its difference with the bootstrap interval
    and its two-sided sign-flip p."""
    lines = []
    for run in (r for r in runs if r.status == "finished"):
        table = run.results.splits.get(split, {}).get("contrastive", {}).get("kinds", {}).get(kind, {})
        lines += ["| " + " | ".join([escape_cell(run.name), run.model, *cells(row),
                                     f"{100 * row['difference']:+.1f} [{100 * row['ci'][0]:+.1f}, {100 * row['ci'][1]:+.1f}]",
                                     f"{row['p']:.3g}"]) + " |" for row in table.get(key, [])]
    if not lines:
        return []
    return [f"Paired {title} per run (bootstrap interval of the difference; two-sided sign-flip p):", "",
            "| " + " | ".join(["run", "model", *columns[:-1], f"{columns[-1]}, points", "p"]) + " |",
            "|" + "".join("--:|" if column in NUMERIC_COLUMNS else "---|" for column in ["run", "model", *columns[:-1]])
            + "--:|--:|", *lines, ""]


NUMERIC_COLUMNS = ("pairs", "items", "near %", "far %", "accuracy %, one side − the other")


def distance_effect_tests(runs: list[Run], split: str, kind: str) -> list[str]:
    """Each run's paired distance test (`distance_effect`) with its interval and sign-flip p-value."""
    return paired_tests(runs, split, kind, "distance_effect", "distance test",
                        ["band", "cells", "pairs", "near %", "far %", "near − far"],
                        lambda row: [row["band"], f"{row['near']} − {row['far']}", str(row["pairs"]),
                                     f"{100 * row['near_accuracy']:.1f}", f"{100 * row['far_accuracy']:.1f}"])


FACTORIAL_EXPLAINED = [
    "Distance × attractor at fixed length: each item is one sentence built four times from the same words, its "
    "subject 5 words (near) or 5 + the fillers' words (far) before the main verb, with the attractor (the one "
    "relative-clause verb) either between subject and main verb, right before the verb, or after the verb "
    "(`data/probe/factorial.py`). Each effect is a mean paired difference over items in accuracy points: "
    "`distance` near − far, `attractor` after − between (what an intervening verb costs), each within one level "
    "of the other factor and as a main effect (both levels averaged); `interaction` is distance's cost with the "
    "attractor between minus its cost with the attractor after.", ""]


def factorial_tests(runs: list[Run], split: str, kind: str) -> list[str]:
    """Each run's factorial effects (`factorial_effects`) with their intervals and sign-flip p-values."""
    return paired_tests(runs, split, kind, "factorial_effects", "factorial tests",
                        ["effect", "items", "accuracy %, one side − the other", "difference"],
                        lambda row: [row["effect"], str(row["pairs"]),
                                     f"{100 * row['accuracy_a']:.1f} − {100 * row['accuracy_b']:.1f}" if "accuracy_a" in row
                                     else ""])


def against_published(rows: list[dict[str, Any]]) -> list[str]:
    """Each model's overall score beside its preset's published one (`published_*` rows), with the difference."""
    pairs = published_pairs(rows)
    if not pairs:
        return []
    published = [row for _, row in pairs]
    sources = list(dict.fromkeys(r["source"] for r in published if r.get("source")))
    lines = ["### Against published baselines", ""]
    lines += [f"Published: {'; '.join(sources)}.", ""] if sources else []
    lines += ["| model | measure | ours | published | ours − published |", "|---|---|--:|--:|--:|"]
    for ours, row in pairs:
        measure = row["measure"].removeprefix("published_")
        difference = "-" if ours is None or ours["mean"] is None else f"{ours['mean'] - row['mean']:+.2f}"
        lines.append(f"| {row['model']} | {METRIC_TITLES.get(measure, measure)} | {format_cell(ours)} | {row['mean']:.2f} | {difference} |")
    return lines + [""]


def report_markdown(splits: list[str], runs: list[Run], rows: list[dict[str, Any]], scores: list[dict[str, Any]],
                    figures: list[str]) -> str:
    finished = sum(r.status == "finished" for r in runs)
    failed, running = (sum(r.status == s for r in runs) for s in ("failed", "running"))
    lines = ["# Report" if splits else "# Report: no finished runs yet", "",
             (f"{len(runs)} runs: {finished} finished, {failed} failed, {running} in progress. "
              "Scores are the mean ± sample standard deviation over a model's seeds; a model with a single seed "
              "shows its bootstrap interval in brackets instead."), ""]
    seeds = {r.name: r.seed for r in runs}
    if splits:
        budget = {(r["measure"], r["model"]): r for r in rows if r["split"] == splits[0] and r["measure"].startswith("train_")}
        speed = [("train_tokens_per_s", 0), ("train_padding", 1)] if any(m == "train_tokens_per_s" for m, _ in budget) else []
        lines += ["| model | seeds | minutes of training | updates |"
                  + (" target tokens/s | padding % |" if speed else "") + " runs (seed) |",
                  "|---|--:|--:|--:|" + "--:|" * len(speed) + "---|"]
        for model, members in group_by_model(runs, splits[0]).items():
            names = ", ".join(f"{r.name} ({r.seed})" for r in members)
            repeated = len(members) - len({seeds[r.name] for r in members})
            note = f"; {repeated} run(s) repeat a seed: their spread is not seed variance" if repeated else ""
            cells = [format_cell(budget.get((measure, model)), digits=digits)
                     for measure, digits in (("train_minutes", 1), ("train_updates", 0), *speed)]
            lines.append(f"| {model} | {len(members)} | {' | '.join(cells)} | {escape_cell(names + note)} |")
        lines.append("")
    for split in splits:
        lines += split_markdown(split, runs, [r for r in rows if r["split"] == split],
                                [s for s in scores if s["split"] == split])
    missing = runs_left_out(runs, splits)
    if missing:
        lines += ["## Runs not in the tables", "", "| run | model | status | detail |", "|---|---|---|---|"]
        lines += [f"| {escape_cell(m['run'])} | {m['model']} | {m['status']} | {escape_cell(m['detail'])} |" for m in missing]
        lines.append("")
    if figures:
        lines += ["Figures: " + ", ".join(f"`{name}`" for name in figures)]
    return "\n".join(lines).rstrip("\n") + "\n"
