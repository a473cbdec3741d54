"""Subword tokenization with sentencepiece, trained on the training split and cached by content hash.

Training sentencepiece on Multi30k takes seconds, but a sweep trains dozens of models on the same
split: the cache key is a hash of the training text and every setting, so identical inputs reuse one
model and any change (vocabulary size, type, data) trains a new one. Every run copies the models it
used into its run directory, so it can be evaluated later without the cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import sentencepiece as spm

from seq2seq.data.parallel import ParallelText
from seq2seq.errors import UserError

PAD_ID, UNK_ID, BOS_ID, EOS_ID = 0, 1, 2, 3


@dataclass
class TokenizerSettings:
    """How to train the subword models: conf/tokenizer/*.yaml's keys (their schema), but for the cache directory."""

    model_type: str = "bpe"  # bpe | unigram
    vocab_size: int = 8000
    joint: bool = True  # one model over both languages, or one per language
    character_coverage: float = 1.0


class Tokenizer:
    """Source and target sentencepiece models with shared special ids (pad 0, unk 1, bos 2, eos 3)."""

    def __init__(self, src_model: Path, tgt_model: Path) -> None:
        self.src_model, self.tgt_model = Path(src_model), Path(tgt_model)
        self.src = spm.SentencePieceProcessor(model_file=str(src_model))
        self.tgt = spm.SentencePieceProcessor(model_file=str(tgt_model))

    @property
    def src_vocab_size(self) -> int:
        return self.src.get_piece_size()

    @property
    def tgt_vocab_size(self) -> int:
        return self.tgt.get_piece_size()

    def encode_src(self, sentences: list[str]) -> list[list[int]]:
        return self.src.encode(sentences)

    def encode_tgt(self, sentences: list[str]) -> list[list[int]]:
        return self.tgt.encode(sentences)

    def decode_tgt(self, ids: list[list[int]]) -> list[str]:
        return self.tgt.decode(ids)

    def src_pieces(self, sentence: str) -> list[str]:
        return self.src.encode(sentence, out_type=str)

    def tgt_pieces(self, ids: list[int]) -> list[str]:
        return [self.tgt.id_to_piece(i) for i in ids]

    def save(self, directory: Path) -> None:
        """Copy the models into `directory` (a run directory's tokenizer/)."""
        directory.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.src_model, directory / "src.model")
        shutil.copyfile(self.tgt_model, directory / "tgt.model")

    @classmethod
    def load(cls, directory: Path) -> "Tokenizer":
        return cls(directory / "src.model", directory / "tgt.model")


def settings_hash(settings: TokenizerSettings, train: ParallelText) -> str:
    digest = hashlib.sha256(json.dumps(asdict(settings), sort_keys=True).encode())
    for side in (train.src, train.tgt):
        digest.update(b"\x00side")
        for line in side:
            digest.update(line.encode())
            digest.update(b"\n")
    return digest.hexdigest()[:20]


def _train_model(sentences: list[str], prefix: Path, settings: TokenizerSettings) -> None:
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences),
        model_prefix=str(prefix),
        model_type=settings.model_type,
        vocab_size=settings.vocab_size,
        hard_vocab_limit=False,  # tiny corpora cannot fill a large vocabulary; take what they give
        character_coverage=settings.character_coverage,
        pad_id=PAD_ID,
        unk_id=UNK_ID,
        bos_id=BOS_ID,
        eos_id=EOS_ID,
        num_threads=os.cpu_count() or 1,
        minloglevel=2,
    )


def build_tokenizer(settings: TokenizerSettings, train: ParallelText, cache_dir: Path) -> Tokenizer:
    """Train (or reuse from `cache_dir`) the subword models for this training split and settings."""
    target = Path(cache_dir).expanduser() / settings_hash(settings, train)
    if not (target / "src.model").exists():
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".tmp-"))
        except OSError as error:  # read-only, not a directory, full
            raise UserError(f"{target.parent}: cannot store the tokenizer there ({error.strerror or error}); point "
                            "tokenizer.cache_dir or $SEQ2SEQ_CACHE at a writable directory") from None
        try:
            if settings.joint:
                _train_model(train.src + train.tgt, staging / "joint", settings)
                shutil.copyfile(staging / "joint.model", staging / "src.model")
                shutil.copyfile(staging / "joint.model", staging / "tgt.model")
            else:
                _train_model(train.src, staging / "src", settings)
                _train_model(train.tgt, staging / "tgt", settings)
        except RuntimeError as error:  # sentencepiece rejects the settings, e.g. too few pieces for the characters
            shutil.rmtree(staging, ignore_errors=True)
            reason = str(error).split("] ")[-1]
            raise UserError(f"tokenizer.vocab_size={settings.vocab_size}: sentencepiece refused to train: {reason}") from None
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        try:
            staging.rename(target)  # atomic: concurrent jobs never see a half-written model
        except OSError:  # another job finished first; its models are identical
            shutil.rmtree(staging, ignore_errors=True)
    return Tokenizer(target / "src.model", target / "tgt.model")
