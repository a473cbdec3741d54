"""The one in-memory form every corpus loader returns, so that nothing downstream cares where text came from."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ParallelText:
    """Line-aligned source and target sentences of one split.

    `meta` optionally holds one dict per pair (e.g. the probe corpus records where the main subject
    and its verb are), for metrics that need more than the reference text. `pairs_on_disk` is how
    many pairs the source held before any were dropped (None at construction: as many as given), so
    a report can show "pairs on disk / pairs scored".
    """

    name: str
    src: list[str]
    tgt: list[str]
    meta: list[dict] | None = field(default=None, repr=False)
    pairs_on_disk: int | None = None

    def __post_init__(self) -> None:
        if self.pairs_on_disk is None:
            self.pairs_on_disk = len(self.src)
        if len(self.src) != len(self.tgt):
            raise ValueError(
                f"split '{self.name}': {len(self.src)} source lines but {len(self.tgt)} target lines"
            )
        if self.meta is not None and len(self.meta) != len(self.src):
            raise ValueError(f"split '{self.name}': {len(self.meta)} metadata rows for {len(self.src)} pairs")

    def __len__(self) -> int:
        return len(self.src)

    def subset(self, keep: list[int]) -> "ParallelText":
        """The pairs at the indices `keep`, with their metadata; `pairs_on_disk` still counts the whole file."""
        meta = None if self.meta is None else [self.meta[i] for i in keep]
        return ParallelText(self.name, [self.src[i] for i in keep], [self.tgt[i] for i in keep], meta, self.pairs_on_disk)
