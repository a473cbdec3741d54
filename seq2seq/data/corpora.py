"""Corpus loaders: named corpora from a local directory or the Hugging Face hub, and the user's own files.

Every loader is built by Hydra from a data config's `corpus:` node and answers `load(split)` with a
`ParallelText`; nothing downstream knows where the text came from. Reading is strict: line counts
must agree, text must be UTF-8, and every failure names the file (and line) to look at. Only the
training split may lose pairs (empty ones, under `empty_lines=drop`): an evaluation split is scored
exactly as it is on disk, so a test set never shrinks silently.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from seq2seq.data.parallel import ParallelText
from seq2seq.errors import UserError

log = logging.getLogger(__name__)

DATA_ENV = "SEQ2SEQ_DATA"


def decode_lines(raw_lines: Iterable[bytes], where: str) -> list[str]:
    """UTF-8 lines, stripped (CRLF too), without a leading byte-order mark or NUL bytes, naming the line of any bad byte.

    NUL bytes (from binary junk or UTF-16 files) are removed with a warning: they carry no text.
    """
    lines: list[str] = []
    with_nul: list[int] = []
    for number, raw in enumerate(raw_lines, start=1):
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as error:
            raise UserError(f"{where}:{number}: not valid UTF-8 ({error.reason})") from None
        if "\x00" in line:
            with_nul.append(number)
            line = line.replace("\x00", "")
        lines.append(line.strip())
    if with_nul:
        log.warning("%s:%d: removed NUL bytes from %d lines (the first on this line)", where, with_nul[0], len(with_nul))
    return lines


def read_lines(path: Path) -> list[str]:
    """Read a plain or gzipped UTF-8 text file into stripped lines (see `decode_lines`)."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            return decode_lines(handle, str(path))
    except FileNotFoundError:
        raise UserError(f"{path}: file not found") from None
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:  # truncated, not gzip, corrupted
        raise UserError(f"{path}: damaged gzip file ({error}); download or copy it again") from None


EMPTY_LINE_POLICIES = ("drop", "fail")


def check_empty_policy(policy: str) -> str:
    if policy not in EMPTY_LINE_POLICIES:
        raise ValueError(f"empty_lines={policy!r}: choose one of {', '.join(EMPTY_LINE_POLICIES)}")
    return policy


def handle_empty_pairs(text: ParallelText, where: str, policy: str, training: bool) -> ParallelText:
    """Pairs with an empty (or whitespace-only) side teach nothing and skew length statistics.

    `drop` removes them from the training split and logs how many; an evaluation split keeps them
    (scored as they are: a test set must not shrink), with a warning. `fail` stops at the first, naming its line.
    """
    empty = [i for i, (s, t) in enumerate(zip(text.src, text.tgt)) if not s or not t]
    if not empty:
        return text
    if policy == "fail":
        raise UserError(
            f"{where}:{empty[0] + 1}: {len(empty)} sentence pairs have an empty or whitespace-only side (the first "
            "on this line); remove them or set data.empty_lines=drop"
        )
    if not training:
        log.warning("%s:%d: kept %d pairs with an empty or whitespace-only side (the first on this line): an evaluation "
                    "split is scored as it is on disk", where, empty[0] + 1, len(empty))
        return text
    log.warning("%s: dropped %d pairs with an empty or whitespace-only side", where, len(empty))
    dropped = set(empty)
    return text.subset([i for i in range(len(text)) if i not in dropped])


def holds_pairs(text: ParallelText) -> bool:
    """Whether any pair has text on both sides (an evaluation split of empty pairs alone is a mistake)."""
    return any(s and t for s, t in zip(text.src, text.tgt))


def read_aligned(
    name: str, src_path: Path, tgt_path: Path, empty_lines: str = "drop", training: bool = False
) -> ParallelText:
    """Read two line-aligned files as one split; differing line counts or an empty split are errors."""
    src, tgt = read_lines(src_path), read_lines(tgt_path)
    if len(src) != len(tgt):
        raise UserError(
            f"{src_path} has {len(src)} lines but {tgt_path} has {len(tgt)}: the files must be line-aligned"
        )
    text = handle_empty_pairs(ParallelText(name, src, tgt), f"{src_path}", empty_lines, training)
    if not holds_pairs(text):
        raise UserError(f"split '{name}' is empty: {src_path} and {tgt_path} hold no sentence pairs")
    return text


def read_tsv(name: str, path: Path, empty_lines: str = "drop", training: bool = False) -> ParallelText:
    """Read a `source<TAB>target` file as one split (a blank line counts as an empty pair)."""
    src, tgt = [], []
    for number, line in enumerate(read_lines(path), start=1):
        fields = line.split("\t") if line else ["", ""]
        if len(fields) != 2:
            raise UserError(f"{path}:{number}: expected 'source<TAB>target', found {len(fields)} fields")
        src.append(fields[0].strip())
        tgt.append(fields[1].strip())
    text = handle_empty_pairs(ParallelText(name, src, tgt), str(path), empty_lines, training)
    if not holds_pairs(text):
        raise UserError(f"split '{name}' is empty: {path} holds no sentence pairs")
    return text


def find_split_file(directory: Path, split: str, lang: str) -> Path:
    """`SPLIT.LANG.gz` or `SPLIT.LANG` inside `directory`."""
    for candidate in (directory / f"{split}.{lang}.gz", directory / f"{split}.{lang}"):
        if candidate.exists():
            return candidate
    raise UserError(f"{directory / f'{split}.{lang}.gz'}: file not found (nor without .gz)")


class NamedCorpus:
    """A public corpus with fixed split names, read from a local copy or, failing that, the hub.

    Local copy: `root` if given, else `$SEQ2SEQ_DATA/<name>`; it holds `SPLIT.LANG[.gz]` files.
    Hub: `hub.path` (and `hub.name`) with `hub.splits` mapping our split names to the hub's, and
    `hub.layout` either `flat` (one column per language) or `translation` (one dict column).
    """

    def __init__(
        self,
        name: str,
        splits: list[str],
        src_lang: str = "de",
        tgt_lang: str = "en",
        root: str | None = None,
        hub: dict[str, Any] | None = None,
        empty_lines: str = "drop",
        train_split: str = "train",
    ) -> None:
        self.name, self.splits = name, list(splits)
        self.empty_lines = check_empty_policy(empty_lines)
        self.train_split = train_split  # the one split `empty_lines=drop` may shrink
        self.src_lang, self.tgt_lang = src_lang, tgt_lang
        self.root = self._local_root(root)
        self.hub = dict(hub) if hub else None
        self._cache: dict[str, ParallelText] = {}

    def _local_root(self, root: str | None) -> Path | None:
        if root:
            path = Path(root).expanduser()
            if not path.is_dir():
                raise UserError(f"data.root={root}: directory not found (it should hold {self.name}'s SPLIT.LANG.gz files)")
            return path
        parent = os.environ.get(DATA_ENV)
        if parent and (Path(parent) / self.name).is_dir():
            return Path(parent) / self.name
        return None

    def load(self, split: str) -> ParallelText:
        if split not in self.splits:
            raise UserError(f"corpus '{self.name}' has no split '{split}'; choose from {', '.join(self.splits)}")
        if split not in self._cache:
            self._cache[split] = self._load_local(split) if self.root else self._load_hub(split)
        return self._cache[split]

    def _load_local(self, split: str) -> ParallelText:
        src = find_split_file(self.root, split, self.src_lang)
        tgt = find_split_file(self.root, split, self.tgt_lang)
        return read_aligned(split, src, tgt, self.empty_lines, split == self.train_split)

    def _load_hub(self, split: str) -> ParallelText:
        where = f"pass data.root=DIR or set {DATA_ENV}=DIR holding {self.name}/"
        if not self.hub:
            raise UserError(f"corpus '{self.name}': no local copy found; {where}")
        hub_split = self.hub.get("splits", {}).get(split)
        if hub_split is None:
            raise UserError(f"corpus '{self.name}': split '{split}' exists only in the local copy; {where}")
        try:
            import datasets

            rows = datasets.load_dataset(self.hub["path"], self.hub.get("name"), split=hub_split)
        except Exception as error:  # offline, unknown repo, ...: one message for all of them
            raise UserError(
                f"corpus '{self.name}': no local copy and the hub dataset {self.hub['path']} could not be loaded "
                f"({type(error).__name__}); {where}"
            ) from None
        if self.hub.get("layout", "flat") == "translation":
            pairs = [(row[self.src_lang], row[self.tgt_lang]) for row in rows["translation"]]
        else:
            pairs = list(zip(rows[self.src_lang], rows[self.tgt_lang]))
        src = [s.strip() for s, _ in pairs]
        tgt = [t.strip() for _, t in pairs]
        where = f"{self.hub['path']}:{hub_split}"
        return handle_empty_pairs(ParallelText(split, src, tgt), where, self.empty_lines, split == self.train_split)

    def fingerprint(self) -> str:
        """Where the data came from, for the run directory (local path or hub id)."""
        return str(self.root.resolve()) if self.root else f"hub:{self.hub['path'] if self.hub else None}"


class FilesCorpus:
    """The user's own data: per split either `{src: PATH, tgt: PATH}` (line-aligned) or a TSV path."""

    def __init__(self, splits: dict[str, Any], empty_lines: str = "drop", train_split: str = "train") -> None:
        self.splits = {name: spec for name, spec in splits.items()}
        self.empty_lines = check_empty_policy(empty_lines)
        self.train_split = train_split  # the one split `empty_lines=drop` may shrink
        self._cache: dict[str, ParallelText] = {}

    def load(self, split: str) -> ParallelText:
        if split not in self.splits:
            raise UserError(f"data.corpus.splits has no '{split}'; defined: {', '.join(self.splits)}")
        if split not in self._cache:
            spec, training = self.splits[split], split == self.train_split
            if isinstance(spec, str):
                self._cache[split] = read_tsv(split, Path(spec), self.empty_lines, training)
            else:
                if not spec.get("src") or not spec.get("tgt"):
                    raise UserError(f"data.corpus.splits.{split} needs both 'src' and 'tgt' paths (or one TSV path)")
                self._cache[split] = read_aligned(split, Path(spec["src"]), Path(spec["tgt"]), self.empty_lines, training)
        return self._cache[split]

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        for name in sorted(self.splits):
            text = self.load(name)
            for line in text.src + text.tgt:
                digest.update(line.encode())
                digest.update(b"\n")
        return digest.hexdigest()
