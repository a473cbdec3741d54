"""Long and strange inputs (issue 12): every line gets a translation or a one-line error, never a crash or a stall.

Tiny untrained models built directly, a sentencepiece model trained in a second, and a run directory
assembled without training, so the whole file runs in seconds.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import subprocess
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_module
from omegaconf import OmegaConf

from seq2seq import decoding
from seq2seq.data import corpora
from seq2seq.data.parallel import ParallelText
from seq2seq.data.tokenizer import EOS_ID, Tokenizer, TokenizerSettings, build_tokenizer
from seq2seq.errors import UserError
from seq2seq.models import encoder_decoder
from test_cli import BIN, NUMBERS, REPO, assert_user_error, run
from test_decoding import EndsSooner
from test_models import SMALL

WORDS = [de for de, _ in NUMBERS]
TWO_THOUSAND = " ".join(WORDS * 200)  # 2,000 words: at least 2,000 subwords
ONE_TOKEN = "Donaudampfschiff" * 625  # one 10,000-character token
ODD = ["!!! ?? ... ;;", "Grüße 😀 Привет 中文 مرحبا eins", "eins\x00zwei"]
NORMAL = ["eins zwei drei", "vier fünf", "sechs sieben acht neun zehn eins"]


def compose_config(encoder: str, decoder: str, *extra: str):
    overrides = [f"model/encoder={encoder}", f"model/decoder={decoder}", "data=files", "device=cpu"]
    overrides += [f"model.encoder.{o}" for o in SMALL["encoder"][encoder]]
    overrides += [f"model.decoder.{o}" for o in SMALL["decoder"][decoder]]
    with initialize_config_module(config_module="seq2seq.conf", version_base="1.3"):
        return compose("config", overrides=overrides + list(extra))


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory) -> Tokenizer:
    src = [" ".join(WORDS[i:] + WORDS[:i]) for i in range(len(WORDS))] * 10
    tgt = [" ".join(en for _, en in NUMBERS[i:] + NUMBERS[:i]) for i in range(len(NUMBERS))] * 10
    return build_tokenizer(TokenizerSettings(vocab_size=60), ParallelText("train", src, tgt), tmp_path_factory.mktemp("spm"))


def model(tokenizer: Tokenizer, encoder: str, decoder: str, *extra: str, never_ends: bool = False):
    torch.manual_seed(0)
    built = encoder_decoder.build_model(
        compose_config(encoder, decoder, *extra).model, tokenizer.src_vocab_size, tokenizer.tgt_vocab_size
    )
    if never_ends:
        built = encoder_decoder.EncoderDecoder(built.encoder, EndsSooner(built.decoder, boost=-1e9))
    return built.eval()


SHORT_TRANSFORMER = ("transformer", "transformer", "model.encoder.max_positions=48", "model.decoder.max_positions=48")


@pytest.mark.parametrize("positions", ["sinusoidal", "learned"])
@pytest.mark.parametrize("beam_size", [1, 3])
def test_a_48_position_transformer_translates_a_100_subword_source_within_its_positions(
    tokenizer, positions, beam_size, caplog
):
    sentence = " ".join(WORDS * 20)
    assert len(tokenizer.encode_src([sentence])[0]) >= 100
    sides = [f"model.{side}.positions={positions}" for side in ("encoder", "decoder")]
    net = model(tokenizer, *SHORT_TRANSFORMER, *sides, never_ends=True)
    settings = decoding.SearchSettings(beam_size=beam_size, max_output_length=1024)
    hypothesis = decoding.translate(net, tokenizer, ["eins", sentence], settings, name="doc.de")[1]
    assert len(hypothesis.tokens) == 47  # 48 decoder positions: 47 subwords and EOS
    assert "doc.de: 1 sources longer than 47 subwords" in caplog.text and "sentence 2" in caplog.text


@pytest.mark.parametrize("beam_size", [1, 2])
def test_the_absolute_output_cap_holds_for_a_2000_subword_source(tokenizer, beam_size):
    assert len(tokenizer.encode_src([TWO_THOUSAND])[0]) >= 2000
    net = model(tokenizer, "birnn", "rnn_attention", never_ends=True)
    settings = decoding.SearchSettings(beam_size=beam_size, max_output_length=20)
    short, long = decoding.translate(net, tokenizer, ["eins", TWO_THOUSAND], settings)
    assert len(long.tokens) == 20  # not 1.5 × 2,001 + 10
    source = len(tokenizer.encode_src(["eins"])[0]) + 1  # with EOS
    assert len(short.tokens) == int(1.5 * source) + 10 - 1  # the ratio still rules short sentences


@pytest.mark.parametrize("preset", [("birnn", "rnn_attention"), SHORT_TRANSFORMER])
@pytest.mark.parametrize("policy", ["truncate", "skip"])
def test_pathological_lines_leave_the_rest_of_their_batch_unchanged(tokenizer, preset, policy):
    net = model(tokenizer, *preset)
    settings = decoding.SearchSettings(batch_tokens=10**6, max_output_length=30, long_sources=policy)
    sentences = [NORMAL[0], TWO_THOUSAND, "", ONE_TOKEN, *ODD, "   ", NORMAL[1], NORMAL[2]]
    together = decoding.translate(net, tokenizer, sentences, settings)
    alone = decoding.translate(net, tokenizer, NORMAL, settings)
    assert len(together) == len(sentences)
    assert [together[i].tokens for i in (0, 8, 9)] == [h.tokens for h in alone]
    assert together[2].tokens == [] and together[7].tokens == []  # empty in, empty out, undecoded
    assert all(len(h.tokens) <= 30 for h in together)
    if policy == "skip" and preset == SHORT_TRANSFORMER:
        assert together[1].tokens == [] and together[3].tokens == []


def test_attention_of_a_cut_source_still_spans_the_whole_sentence(tokenizer):
    net = model(tokenizer, *SHORT_TRANSFORMER)
    sentence = " ".join(WORDS * 10)
    length = len(tokenizer.encode_src([sentence])[0])
    settings = decoding.SearchSettings(max_output_length=5)
    hypothesis, empty = decoding.translate(net, tokenizer, [sentence, ""], settings, need_attention=True)
    assert hypothesis.attention.shape == (len(hypothesis.tokens) + 1, length + 1)  # what a heatmap labels
    assert hypothesis.attention[:, 47:length].abs().sum() == 0  # never read
    assert torch.allclose(hypothesis.attention.sum(dim=1), torch.ones(len(hypothesis.tokens) + 1), atol=1e-5)
    assert empty.attention.shape == (1, 1)


@pytest.mark.parametrize("key,value", [("max_output_length", 0), ("max_source_length", -1), ("long_sources", "crash")])
def test_bad_limits_name_their_key(key, value):
    with pytest.raises(ValueError, match=f"eval.{key}="):
        decoding.SearchSettings(**{key: value})


@pytest.mark.parametrize("side", ["encoder", "decoder"])
def test_train_max_len_above_max_positions_is_refused_naming_both_keys(side):
    config = compose_config("transformer", "transformer", "train.max_len=100", f"model.{side}.max_positions=48")
    with pytest.raises(UserError, match=rf"train\.max_len=100 exceeds model\.{side}\.max_positions=48"):
        encoder_decoder.check_model_limits(config)
    encoder_decoder.check_model_limits(compose_config("transformer", "transformer", "train.max_len=48",
                                                      f"model.{side}.max_positions=48"))
    encoder_decoder.check_model_limits(compose_config("birnn", "rnn_attention", "train.max_len=5000"))


def write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_files_lose_bom_crlf_and_nul_bytes_but_keep_every_line(tmp_path, suffix, caplog):
    path = write_bytes(tmp_path / f"in.de{suffix}", b"\xef\xbb\xbfeins zwei\r\n\r\ndr\x00ei\r\n  \r\nvier")
    with caplog.at_level(logging.WARNING):
        assert corpora.read_lines(path) == ["eins zwei", "", "drei", "", "vier"]
    assert f"{path}:3: removed NUL bytes from 1 lines" in caplog.text


def test_empty_pairs_of_a_test_split_are_kept_and_the_split_size_recorded(tmp_path):
    def pair(name: str, src: list[str], tgt: list[str]) -> dict[str, str]:
        write_bytes(tmp_path / f"{name}.de", "".join(s + "\n" for s in src).encode())
        write_bytes(tmp_path / f"{name}.en", "".join(t + "\n" for t in tgt).encode())
        return {"src": str(tmp_path / f"{name}.de"), "tgt": str(tmp_path / f"{name}.en")}

    splits = {"train": pair("train", ["eins", "", "drei"], ["one", "two", "three"]),
              "test": pair("test", ["eins", "zwei", " ", "vier"], ["one", "", "three", "four"])}
    corpus = corpora.FilesCorpus(splits, empty_lines="drop", train_split="train")
    train, test = corpus.load("train"), corpus.load("test")
    assert (len(train), train.pairs_on_disk) == (2, 3)
    assert list(zip(test.src, test.tgt)) == [("eins", "one"), ("zwei", ""), ("", "three"), ("vier", "four")]
    assert test.pairs_on_disk == 4
    root = tmp_path / "toy"
    root.mkdir()
    for name in ("train", "test"):
        for lang in ("de", "en"):
            (root / f"{name}.{lang}").write_bytes((tmp_path / f"{name}.{lang}").read_bytes())
    named = corpora.NamedCorpus("toy", ["train", "test"], root=str(root), train_split="train")
    assert (len(named.load("test")), len(named.load("train"))) == (4, 2)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, tokenizer) -> Path:
    """A run directory as seq2seq-train leaves it, with an untrained 48-position Transformer."""
    directory = tmp_path_factory.mktemp("run")
    settings = (*SHORT_TRANSFORMER, "model.name=transformer", "model.decoder.tie_embeddings=false")
    (directory / "config.yaml").write_text(OmegaConf.to_yaml(compose_config(*settings), resolve=True))
    tokenizer.save(directory / "tokenizer")
    (directory / "checkpoints").mkdir()
    weights = model(tokenizer, *settings).state_dict()
    weights["decoder.output.weight"][: EOS_ID + 1] = 0.0  # special tokens' logits 0: an untrained model writes words
    torch.save({"model": weights}, directory / "checkpoints" / "best.pt")
    return directory


def test_translate_keeps_output_line_i_for_input_line_i_whatever_the_line_holds(run_dir, tmp_path):
    lines = ["eins zwei", "", TWO_THOUSAND, ONE_TOKEN, "   ", *ODD, "drei"]
    data = b"\xef\xbb\xbf" + "\r\n".join(lines).encode("utf-8") + b"\r\n"
    path = write_bytes(tmp_path / "doc.de", data)
    result = run("seq2seq-translate", str(run_dir), "--input", str(path), cache=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    outputs = result.stdout.split("\n")[:-1]
    assert len(outputs) == len(lines)
    assert [i for i, line in enumerate(outputs) if not line] == [1, 4]  # the empty input lines, and only them
    alone = run("seq2seq-translate", str(run_dir), "eins zwei", "drei", cache=tmp_path)
    assert [outputs[0], outputs[-1]] == alone.stdout.splitlines()  # the BOM is not part of the first sentence
    assert f"{path}:8: removed NUL bytes" in result.stderr
    assert "2 sources longer than 47 subwords (what the encoder reads" in result.stderr
    assert "sentence 3, 4" in result.stderr
    piped = subprocess.run([str(BIN / "seq2seq-translate"), str(run_dir), "--input", "-"], cwd=REPO, input=data,
                           capture_output=True, timeout=300, env={**os.environ, "SEQ2SEQ_CACHE": str(tmp_path)})
    assert piped.stdout.decode("utf-8") == result.stdout


def test_translate_names_file_and_line_of_invalid_utf8(run_dir, tmp_path):
    path = write_bytes(tmp_path / "bad.de", b"eins\nzwei\ndr\xffei\n")
    assert_user_error(run("seq2seq-translate", str(run_dir), "--input", str(path), cache=tmp_path),
                      "seq2seq-translate", f"{path}:3: not valid UTF-8")


def test_translate_names_a_bad_long_source_policy(run_dir, tmp_path):
    result = run("seq2seq-translate", str(run_dir), "eins", "--set", "eval.long_sources=crash", cache=tmp_path)
    assert_user_error(result, "seq2seq-translate", "eval.long_sources='crash'")


def test_a_transformer_of_48_positions_trains_and_scores_sentences_longer_than_it_reads(tmp_path):
    """The issue's reproduction: validation and test hold pairs beyond `train.max_len` and `max_positions`."""
    from test_cli import files_overrides, write_corpus

    files = write_corpus(tmp_path / "data")
    long_de, long_en = " ".join(["eins zwei drei vier fünf"] * 16), " ".join(["one two three four five"] * 16)
    for split in ("valid", "test"):
        for path, line in zip(files[split], (long_de, long_en)):
            path.write_text(path.read_text(encoding="utf-8") + line + "\n", encoding="utf-8")
    small = [f"model.{side}.{o}" for side in ("encoder", "decoder") for o in
             ("d_model=32", "num_heads=2", "ff_size=64", "num_layers=1", "max_positions=48")]
    run_dir = tmp_path / "run"
    result = run("seq2seq-train", *files_overrides(files), "model=transformer", "train=tiny", "tokenizer.vocab_size=100",
                 "device=cpu", "threads=1", "train.max_len=40", *small, f"hydra.run.dir={run_dir}", cache=tmp_path / "cache")
    assert result.returncode == 0, result.stderr[-3000:]
    logged = result.stdout + result.stderr
    assert "Traceback" not in logged and "test: 1 sources longer than" in logged
    test = json.loads((run_dir / "results.json").read_text())["splits"]["test"]
    assert test["sentences"] == test["pairs"]["on_disk"] == 21


def test_translating_a_file_on_a_terminal_shows_a_progress_bar_over_sentences(run_dir, tmp_path):
    """A terminal sees how far a long file has got; a pipe (as in the tests above) gets no bar."""
    import fcntl
    import pty
    import struct
    import termios

    path = tmp_path / "many.de"
    path.write_text("".join(f"{line}\n" for line in NORMAL * 5), encoding="utf-8")
    terminal, child_side = pty.openpty()
    fcntl.ioctl(child_side, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 400, 0, 0))  # a new pty is 0 columns wide
    env = {**os.environ, "SEQ2SEQ_CACHE": str(tmp_path)}
    result = subprocess.run([str(BIN / "seq2seq-translate"), str(run_dir), "--input", str(path)], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=child_side, timeout=300)
    os.close(child_side)
    shown = b""
    while True:
        try:
            chunk = os.read(terminal, 4096)
        except OSError:  # the child side is closed: everything has been read
            break
        if not chunk:
            break
        shown += chunk
    os.close(terminal)
    assert result.returncode == 0
    assert len(result.stdout.decode().splitlines()) == 15
    shown_text = shown.decode(errors="replace")
    assert "0/15" in shown_text and "sentence" in shown_text and "many.de" in shown_text  # drawn as it starts


def test_decoding_without_a_terminal_logs_how_far_it_is(tokenizer, caplog, monkeypatch):
    """Issue 35: seq2seq-eval was silent for minutes where no bar is drawn (a log file, a launcher); a line per
    PROGRESS_SECONDS (here every batch) counts the sentences done and the minutes left."""
    monkeypatch.setattr(decoding, "PROGRESS_SECONDS", 0.0)
    net = model(tokenizer, "rnn", "rnn_attention")
    settings = decoding.SearchSettings(beam_size=1, batch_tokens=8)  # a batch per sentence or two
    with caplog.at_level(logging.INFO, logger="seq2seq.decoding"):
        decoding.translate(net, tokenizer, NORMAL * 2, settings, name="doc.de", progress=True)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("decoding doc.de:")]
    assert len(lines) >= 2 and lines[-1].startswith("decoding doc.de: 6 / 6 sentences, 0.0 minutes left")
    caplog.clear()
    decoding.translate(net, tokenizer, NORMAL, settings, progress=False)  # validation's decoding stays quiet
    assert not [r for r in caplog.records if "sentences," in r.getMessage()]
