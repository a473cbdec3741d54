"""Choose beam search's length penalty on a validation split, never on a test split.

Beam search finds outputs the model scores higher than greedy's, and for a model that has not learnt
when to stop, a higher score is often a shorter output: summed log-probabilities favour short
hypotheses, and the GNMT penalty ((5 + length) / 6) ** alpha only partly undoes that (Wu et al. 2016;
Stahlberg & Byrne 2019 on the search finding empty translations). So beam 5 can score below greedy,
with a lower length ratio, at the default alpha. `tune_length_penalty` decodes a validation split at
each alpha (and greedily, for reference), scores every decoding with BLEU, chrF and the length ratio,
and names the best by BLEU; the test split is then decoded once, with that alpha, for the record.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from hydra.utils import instantiate
from sacrebleu.metrics import BLEU, CHRF

from seq2seq.config import build_from_config
from seq2seq.decoding import SearchSettings, translate
from seq2seq.errors import UserError
from seq2seq.files import write_text

DEFAULT_PENALTIES = (0.0, 0.3, 0.6, 1.0, 1.5, 2.0)
TUNING_DIR = "search_tuning"


def decoding_scores(hypotheses: list[str], references: list[str]) -> dict[str, float]:
    """Corpus BLEU, chrF and BLEU's length ratio (output over reference length, its brevity penalty's input)."""
    bleu = BLEU().corpus_score(hypotheses, [references])
    return {"bleu": bleu.score, "chrf": CHRF().corpus_score(hypotheses, [references]).score,
            "length_ratio": bleu.sys_len / bleu.ref_len if bleu.ref_len else 0.0}


def tune_length_penalty(path: Path, split: str | None, beam: int, penalties: list[float], overrides: list[str],
                        sentences: int | None = None) -> dict[str, Any]:
    """Decode `split` (None: the run's validation split; `sentences`: its first N only, a cheaper and noisier
    choice) of the run at `path` greedily and with beam `beam` at each length penalty; write the table
    (`search_tuning/SPLIT.beamK.md` and `.json` in the run directory) and return it, the best penalty named.

    A split the run is tested on (`data.test_splits`) is refused: a setting chosen on the test set makes its
    score a tuned one."""
    from seq2seq.pipeline import open_run  # torch and the models load only for a run that is tuned

    if beam < 2:
        raise UserError(f"beam={beam}: a length penalty acts on beam search only; give beam=2 or more")
    if not penalties:
        raise UserError("length_penalty=: give at least one value")
    trained = open_run(path, overrides)
    config = trained.config
    split = split or config.data.valid_split
    if split in config.data.test_splits:
        raise UserError(f"split={split} is a test split of this run (data.test_splits={list(config.data.test_splits)}): "
                        f"tune on a validation split (split={config.data.valid_split}) and decode test only for the record")
    corpus = build_from_config("data.corpus", instantiate, config.data.corpus)
    text = corpus.load(split)
    sources, references = text.src[:sentences], text.tgt[:sentences]
    base = SearchSettings.from_config(config.eval)
    rows = []
    for name, settings in [("greedy", replace(base, beam_size=1)),
                           *((f"beam {beam}, length penalty {alpha:g}", replace(base, beam_size=beam, length_penalty=alpha))
                             for alpha in penalties)]:
        found = translate(trained.model, trained.tokenizer, sources, settings, precision=trained.precision,
                          name=f"{split} ({name})", progress=True)
        hypotheses = trained.tokenizer.decode_tgt([h.tokens for h in found])
        rows.append({"decoding": name, "beam_size": settings.beam_size,
                     "length_penalty": None if settings.beam_size == 1 else settings.length_penalty,
                     **decoding_scores(hypotheses, references)})
    best = max(rows[1:], key=lambda row: row["bleu"])
    result = {"run": str(trained.run.path), "checkpoint": trained.produced_by, "split": split, "sentences": len(sources),
              "rows": rows, "best_length_penalty": best["length_penalty"],
              "apply": f"seq2seq-eval {trained.run.path} split={','.join(config.data.test_splits)} beam={beam} "
                       f"eval.length_penalty={best['length_penalty']:g}"}
    table, record = (trained.run.path / TUNING_DIR / f"{split}.beam{beam}.{suffix}" for suffix in ("md", "json"))
    write_text(record, json.dumps(result, indent=2) + "\n")
    write_text(table, tuning_markdown(result))
    result["written"] = [str(table), str(record)]
    return result


def tuning_markdown(result: dict[str, Any]) -> str:
    """The tuning table: one row per decoding, the best beam row marked, and the command that applies it."""
    lines = [f"# Length penalty on `{result['split']}` ({result['sentences']} sentences, from its first)", "",
             f"Run: `{result['run']}`, checkpoint at update {result['checkpoint'].get('step', '?')}.", "",
             "| decoding | BLEU | chrF | length ratio |", "|---|--:|--:|--:|"]
    for row in result["rows"]:
        mark = " **(best)**" if row["beam_size"] > 1 and row["length_penalty"] == result["best_length_penalty"] else ""
        lines.append(f"| {row['decoding']}{mark} | {row['bleu']:.2f} | {row['chrf']:.2f} | {row['length_ratio']:.3f} |")
    lines += ["", "Length ratio: output over reference length (BLEU's brevity penalty's input). Decode the test split "
                  "once, with the chosen penalty, for the record:", "", f"    {result['apply']}"]
    return "\n".join(lines) + "\n"
