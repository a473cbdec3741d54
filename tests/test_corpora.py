"""Corpus loaders: aligned files, TSV, named corpora; every failure is one UserError naming the file (and line)."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from seq2seq.data.corpora import FilesCorpus, NamedCorpus, read_aligned
from seq2seq.errors import UserError

SRC = ["ein Hund läuft .", "zwei Katzen schlafen .", "der Mann liest ein Buch ."]
TGT = ["a dog runs .", "two cats sleep .", "the man reads a book ."]


def write(path: Path, lines: list[str]) -> Path:
    data = "".join(line + "\n" for line in lines).encode("utf-8")
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    return path


def named_corpus_dir(parent: Path, name: str = "toy", gz: bool = True) -> Path:
    root = parent / name
    root.mkdir(parents=True)
    suffix = ".gz" if gz else ""
    write(root / f"train.de{suffix}", SRC)
    write(root / f"train.en{suffix}", TGT)
    write(root / f"val.de{suffix}", SRC[:2])
    write(root / f"val.en{suffix}", TGT[:2])
    return root


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_read_aligned_loads_pairs_in_order(tmp_path, suffix):
    text = read_aligned("train", write(tmp_path / f"a.de{suffix}", SRC), write(tmp_path / f"a.en{suffix}", TGT))
    assert text.name == "train"
    assert list(zip(text.src, text.tgt)) == list(zip(SRC, TGT))


def test_read_aligned_drops_pairs_with_an_empty_side_from_the_training_split(tmp_path, caplog):
    src = write(tmp_path / "a.de", ["eins", "", "drei", "   "])
    tgt = write(tmp_path / "a.en", ["one", "two", "three", "four"])
    text = read_aligned("train", src, tgt, training=True)
    assert list(zip(text.src, text.tgt)) == [("eins", "one"), ("drei", "three")]
    assert (len(text), text.pairs_on_disk) == (2, 4)
    assert "dropped 2 pairs" in caplog.text


def test_empty_lines_can_be_fatal_naming_file_line_and_count(tmp_path):
    src = write(tmp_path / "a.de", ["eins", "zwei", " \t ", ""])
    tgt = write(tmp_path / "a.en", ["one", "two", "three", "four"])
    with pytest.raises(UserError, match=r"a\.de:3: 2 sentence pairs have an empty or whitespace-only side"):
        read_aligned("train", src, tgt, empty_lines="fail")
    tsv = write(tmp_path / "b.tsv", ["eins\tone", "", "drei\tthree"])
    with pytest.raises(UserError, match=r"b\.tsv:2: 1 sentence pairs"):
        FilesCorpus({"train": str(tsv)}, empty_lines="fail").load("train")
    assert len(FilesCorpus({"train": str(tsv)}).load("train")) == 2
    with pytest.raises(ValueError, match="empty_lines='keep'"):
        FilesCorpus({"train": str(tsv)}, empty_lines="keep")


def test_line_count_mismatch_names_both_files_and_counts(tmp_path):
    src = write(tmp_path / "a.de", SRC)
    tgt = write(tmp_path / "a.en", TGT[:2])
    with pytest.raises(UserError) as error:
        read_aligned("train", src, tgt)
    message = str(error.value)
    assert str(src) in message and str(tgt) in message
    assert "3 lines" in message and "has 2" in message


def test_missing_file_names_the_path(tmp_path):
    src = write(tmp_path / "a.de", SRC)
    missing = tmp_path / "nope.en"
    with pytest.raises(UserError, match="nope.en: file not found"):
        read_aligned("train", src, missing)


def test_empty_split_names_the_split(tmp_path):
    src = write(tmp_path / "a.de", ["", ""])
    tgt = write(tmp_path / "a.en", ["", ""])
    with pytest.raises(UserError, match="split 'valid' is empty"):
        read_aligned("valid", src, tgt)
    with pytest.raises(UserError, match="split 'dev' is empty"):
        FilesCorpus({"dev": str(write(tmp_path / "e.tsv", []))}).load("dev")


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_invalid_utf8_names_file_and_line(tmp_path, suffix):
    data = "eins\nzwei\n".encode() + b"dr\xffei\n"
    src = tmp_path / f"bad.de{suffix}"
    src.write_bytes(gzip.compress(data) if suffix else data)
    tgt = write(tmp_path / f"ok.en{suffix}", ["one", "two", "three"])
    with pytest.raises(UserError, match=rf"bad\.de{suffix}:3: not valid UTF-8"):
        read_aligned("train", src, tgt)


def test_truncated_gzip_is_a_clear_user_error(tmp_path):
    whole = gzip.compress("".join(f"Satz Nummer {i}\n" for i in range(2000)).encode())
    src = tmp_path / "cut.de.gz"
    src.write_bytes(whole[: len(whole) // 2])
    tgt = write(tmp_path / "ok.en", [f"sentence {i}" for i in range(2000)])
    with pytest.raises(UserError, match=r"cut\.de\.gz: damaged gzip file"):
        read_aligned("train", src, tgt)


def test_corrupted_gzip_is_a_clear_user_error(tmp_path):
    damaged = bytearray(gzip.compress("".join(f"Satz Nummer {i * 7919 % 1000}\n" for i in range(3000)).encode()))
    for i in range(200, 400):
        damaged[i] ^= 0x55
    src = tmp_path / "bad.de.gz"
    src.write_bytes(bytes(damaged))
    with pytest.raises(UserError, match=r"bad\.de\.gz: damaged gzip file"):
        read_aligned("train", src, write(tmp_path / "ok.en", ["one"]))


def test_not_gzip_despite_suffix_is_a_clear_user_error(tmp_path):
    src = tmp_path / "plain.de.gz"
    src.write_bytes(b"ein Hund\n")
    tgt = write(tmp_path / "ok.en", ["a dog"])
    with pytest.raises(UserError, match=r"plain\.de\.gz: damaged gzip file"):
        read_aligned("train", src, tgt)


def test_files_corpus_reads_aligned_pairs_and_tsv(tmp_path):
    tsv = tmp_path / "valid.tsv"
    tsv.write_text("".join(f"{s}\t{t}\n" for s, t in zip(SRC, TGT)) + "\n", encoding="utf-8")
    corpus = FilesCorpus({
        "train": {"src": str(write(tmp_path / "t.de.gz", SRC)), "tgt": str(write(tmp_path / "t.en.gz", TGT))},
        "valid": str(tsv),
    })
    train, valid = corpus.load("train"), corpus.load("valid")
    assert list(zip(train.src, train.tgt)) == list(zip(SRC, TGT))
    assert list(zip(valid.src, valid.tgt)) == list(zip(SRC, TGT)) + [("", "")]  # the blank last line is kept


def test_tsv_with_wrong_field_count_names_file_and_line(tmp_path):
    tsv = tmp_path / "bad.tsv"
    tsv.write_text("eins\tone\nzwei two\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"bad\.tsv:2: expected 'source<TAB>target', found 1 fields"):
        FilesCorpus({"train": str(tsv)}).load("train")


def test_files_corpus_unknown_split_lists_defined_ones(tmp_path):
    corpus = FilesCorpus({"train": str(tmp_path / "a.tsv"), "valid": str(tmp_path / "b.tsv")})
    with pytest.raises(UserError, match="has no 'test'; defined: train, valid"):
        corpus.load("test")


def test_files_corpus_split_without_paths_names_the_key():
    with pytest.raises(UserError, match=r"data\.corpus\.splits\.test needs both 'src' and 'tgt'"):
        FilesCorpus({"test": {"src": None, "tgt": None}}).load("test")


def test_files_corpus_fingerprint_follows_content(tmp_path):
    src, tgt = write(tmp_path / "a.de", SRC), write(tmp_path / "a.en", TGT)
    first = FilesCorpus({"train": {"src": str(src), "tgt": str(tgt)}}).fingerprint()
    assert first == FilesCorpus({"train": {"src": str(src), "tgt": str(tgt)}}).fingerprint()
    write(tgt, TGT[:2] + ["the woman reads a book ."])
    assert FilesCorpus({"train": {"src": str(src), "tgt": str(tgt)}}).fingerprint() != first


@pytest.mark.parametrize("gz", [True, False])
def test_named_corpus_reads_local_root(tmp_path, gz, monkeypatch):
    monkeypatch.delenv("SEQ2SEQ_DATA", raising=False)
    root = named_corpus_dir(tmp_path, gz=gz)
    corpus = NamedCorpus("toy", ["train", "val"], root=str(root))
    assert list(zip(corpus.load("train").src, corpus.load("train").tgt)) == list(zip(SRC, TGT))
    assert corpus.load("val").src == SRC[:2]
    assert corpus.fingerprint() == str(root.resolve())


def test_named_corpus_missing_root_names_the_path(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(UserError, match=rf"data\.root={missing}: directory not found"):
        NamedCorpus("toy", ["train"], root=str(missing))


def test_named_corpus_missing_split_file_names_the_path(tmp_path, monkeypatch):
    monkeypatch.delenv("SEQ2SEQ_DATA", raising=False)
    root = named_corpus_dir(tmp_path)
    (root / "val.en.gz").unlink()
    corpus = NamedCorpus("toy", ["train", "val"], root=str(root))
    with pytest.raises(UserError, match=rf"{root / 'val.en.gz'}: file not found"):
        corpus.load("val")


def test_named_corpus_unknown_split_lists_valid_ones(tmp_path):
    corpus = NamedCorpus("toy", ["train", "val"], root=str(named_corpus_dir(tmp_path)))
    with pytest.raises(UserError, match="corpus 'toy' has no split 'test'; choose from train, val"):
        corpus.load("test")


def test_named_corpus_uses_data_env_as_parent(tmp_path, monkeypatch):
    named_corpus_dir(tmp_path, name="toy")
    monkeypatch.setenv("SEQ2SEQ_DATA", str(tmp_path))
    corpus = NamedCorpus("toy", ["train", "val"])
    assert corpus.root == tmp_path / "toy"
    assert corpus.load("val").tgt == TGT[:2]


def test_named_corpus_without_local_copy_or_hub_says_how_to_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQ2SEQ_DATA", str(tmp_path))  # holds no toy/
    corpus = NamedCorpus("toy", ["train"])
    with pytest.raises(UserError, match=r"no local copy found; pass data\.root=DIR or set SEQ2SEQ_DATA"):
        corpus.load("train")


def shared_data_dir() -> Path:
    return Path(os.environ.get("SEQ2SEQ_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")


MULTI30K = shared_data_dir() / "multi30k"


@pytest.mark.skipif(not MULTI30K.is_dir(), reason=f"no local Multi30k copy at {MULTI30K} (set SEQ2SEQ_DATA)")
def test_multi30k_val_split_has_1014_pairs():
    text = NamedCorpus("multi30k", ["train", "val"], root=str(MULTI30K)).load("val")
    assert len(text) == 1014
    assert all(text.src) and all(text.tgt)


EXPECTED_PAIRS = {
    "multi30k": {"train": 29000, "val": 1014, "test_2016_flickr": 1000, "test_2017_flickr": 1000, "test_2018_flickr": 1071},
    "wmt_ted": {"train": 40499, "dev": 2998, "test": 5996, "long": 1334},
    "debian_docs": {"train": 44099, "dev": 1967, "test": 4014},
}


@pytest.mark.parametrize("name", sorted(EXPECTED_PAIRS))
def test_named_data_configs_load_every_split_from_the_shared_copy(name):
    root = shared_data_dir() / name
    if not root.is_dir():
        pytest.skip(f"no local {name} copy at {root} (set SEQ2SEQ_DATA)")
    from hydra import compose, initialize_config_module
    from hydra.utils import instantiate

    with initialize_config_module(config_module="seq2seq.conf", version_base="1.3"):
        config = compose("config", overrides=[f"data={name}", f"data.root={root}"])
    corpus = instantiate(config.data.corpus)
    roles = [config.data.train_split, config.data.valid_split, *config.data.test_splits]
    assert sorted(roles) == sorted(EXPECTED_PAIRS[name])
    assert {split: len(corpus.load(split)) for split in roles} == EXPECTED_PAIRS[name]
