"""The data side of training: chunk files -> an endless, resumable stream of training batches.

Training reads `data.ChunkDataset` epoch after epoch as one endless stream (`DataStream`):
Lightning sees a single epoch that `max_steps` ends, so DDP ranks whose shards differ in
length never fall out of step at an epoch boundary. Every batch is tagged with its place in the
stream (data epoch, index); the tag of the last batch consumed is saved in checkpoints, and a
resumed run replays that data epoch from its start and skips the batches already trained on.
Validation reads held-out files (`data.val`, or `data.val_fraction` of the training files).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import lightning.pytorch as pl
import torch
from torch.utils.data import DataLoader

from zeroforge.data.dataset import ChunkDataset, expand_paths, split_files

STREAM_KEY = "stream"  # batch entry holding (data epoch, index in epoch); removed before use


class DataStream:
    """Iterates a ChunkDataset's DataLoader epoch after epoch, forever, from `start`."""

    def __init__(self, dataset: ChunkDataset, workers: int, start: tuple[int, int] = (0, 0)):
        self.dataset, self.workers = dataset, workers
        self.start = start

    def loader(self) -> DataLoader:
        pin = torch.cuda.is_available()  # page-locked batches: asynchronous copies to the GPU
        return DataLoader(self.dataset, batch_size=None, num_workers=self.workers, pin_memory=pin)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        epoch, skip = self.start
        while True:
            self.dataset.set_epoch(epoch)
            count = 0
            for index, batch in enumerate(self.loader()):
                count += 1
                if index < skip:
                    continue
                batch[STREAM_KEY] = (epoch, index)
                yield batch
            if count == 0:
                raise ValueError(
                    f"no training positions in {len(self.dataset.files)} file(s) "
                    f"(first: {self.dataset.files[0]}) at sample_rate {self.dataset.sample_rate}"
                )
            epoch, skip = epoch + 1, 0


class ChunkDataModule(pl.LightningDataModule):
    def __init__(self, cfg: Mapping[str, Any], seed: int):
        super().__init__()
        self.cfg, self.seed = cfg, seed
        self.consumed: tuple[int, int] | None = None  # (data epoch, index) of the last batch
        self.resume_from = (0, 0)

    def files(self) -> tuple[list[str], list[str]]:
        train, val, fraction = self.cfg["train"], self.cfg.get("val"), self.cfg["val_fraction"]
        if val:
            return expand_paths(_plain(train)), expand_paths(_plain(val))
        if fraction > 0:
            return split_files(_plain(train), float(fraction), self.seed)
        return expand_paths(_plain(train)), []

    def setup(self, stage: str) -> None:
        self.train_files, self.val_files = self.files()

    def dataset(self, files: list[str], training: bool) -> ChunkDataset:
        cfg = self.cfg
        return ChunkDataset(
            files,
            batch_size=int(cfg["batch_size"]),
            sample_rate=float(cfg["sample_rate"]) if training else 1.0,
            shuffle_buffer=int(cfg["shuffle_buffer"]) if training else int(cfg["batch_size"]),
            symmetries=bool(cfg["symmetries"]) and training,
            seed=self.seed,
            drop_last=training,
        )

    def train_dataloader(self) -> DataStream:
        dataset = self.dataset(self.train_files, training=True)
        return DataStream(dataset, int(self.cfg["workers"]), self.resume_from)

    def val_dataloader(self) -> DataLoader | list:
        if not self.val_files:
            return []
        return DataLoader(self.dataset(self.val_files, training=False), batch_size=None)

    def on_before_batch_transfer(self, batch: dict[str, Any], dataloader_idx: int) -> dict:
        # Runs when the training loop takes the batch (after Lightning's one-batch prefetch).
        tag = batch.pop(STREAM_KEY, None)
        if tag is not None and self.trainer is not None and self.trainer.training:
            self.consumed = tag
        return batch

    def state_dict(self) -> dict[str, Any]:
        if self.consumed is None:
            return {"epoch": self.resume_from[0], "next_index": self.resume_from[1]}
        return {"epoch": self.consumed[0], "next_index": self.consumed[1] + 1}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.resume_from = (int(state_dict["epoch"]), int(state_dict["next_index"]))


def _plain(paths: Any) -> Any:
    """OmegaConf list -> list of str (a single path stays as it is)."""
    return paths if isinstance(paths, str) else [str(p) for p in paths]
