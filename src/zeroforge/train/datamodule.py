"""The data side of training: data files -> an endless, resumable stream of training batches,
for either game: the game (train/games.py) makes the dataset, a `data.stream.StreamDataset` (Go:
`data.dataset.GoDataset` over LZ chunks and shards; chess: `data.chess_dataset.ChessDataset`
over Stockfish data).

Training reads the dataset epoch after epoch as one endless stream (`DataStream`):
Lightning sees a single epoch that `max_steps` ends, so DDP ranks whose shards differ in
length never fall out of step at an epoch boundary. Every batch is tagged with its place in the
stream (data epoch, index); the tag of the last batch consumed is saved in checkpoints, and a
resumed run replays that data epoch from its start and skips the batches already trained on.
Validation reads held-out files (`data.val`, or `data.val_fraction` of the training files); with
too few files for that (one file, say), the last `val_fraction` of every file's positions.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.utilities import rank_zero_info
from torch.utils.data import DataLoader

from zeroforge.data.files import expand_paths, split_files, whole_files_to_hold_out
from zeroforge.data.stream import StreamDataset
from zeroforge.train.games import Game

STREAM_KEY = "stream"  # batch entry holding (data epoch, index in epoch); removed before use


class DataStream:
    """Iterates a StreamDataset's DataLoader epoch after epoch, forever, from `start`. One
    DataLoader with persistent workers serves every data epoch (no worker restart per epoch:
    the dataset's epoch lives in shared memory)."""

    def __init__(self, dataset: StreamDataset, workers: int, start: tuple[int, int] = (0, 0)):
        self.dataset, self.workers = dataset, workers
        self.start = start
        self._loader: DataLoader | None = None

    def loader(self) -> DataLoader:
        if self._loader is None:
            pin = torch.cuda.is_available()  # page-locked batches: asynchronous copies to the GPU
            self._loader = DataLoader(
                self.dataset,
                batch_size=None,
                num_workers=self.workers,
                pin_memory=pin,
                persistent_workers=self.workers > 0,
            )
        return self._loader

    def __iter__(self) -> Iterator[dict[str, Any]]:
        epoch, skip = self.start
        while True:
            self.dataset.set_epoch(epoch)  # before iter(): workers read it as they start a pass
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


class TrainDataModule(pl.LightningDataModule):
    """The run's data (`cfg`: its `data` config section) as the run's game reads it."""

    def __init__(self, cfg: Mapping[str, Any], seed: int, game: Game):
        super().__init__()
        self.cfg, self.seed, self.game = cfg, seed, game
        self.consumed: tuple[int, int] | None = None  # (data epoch, index) of the last batch
        self.resume_from = (0, 0)
        self.val_share = 0.0  # > 0: validation is this last share of every training file

    def files(self) -> tuple[list[str], list[str]]:
        train, val, fraction = self.cfg["train"], self.cfg.get("val"), self.cfg["val_fraction"]
        if val:
            return self.expand(train), self.expand(val)
        if fraction <= 0:
            return self.expand(train), []
        files = self.expand(train)
        if whole_files_to_hold_out(len(files), float(fraction)):
            return split_files(files, float(fraction), self.seed)
        self.val_share = float(fraction)
        rank_zero_info(
            "validation: "
            + self.game.holdout_share.format(share=f"{fraction:.0%}")
            + f" of each of the {len(files)} training file(s) (too few files to hold out whole"
            " ones)"
        )
        return files, files

    def expand(self, paths: Any) -> list[str]:
        return expand_paths(_plain(paths), self.game.data_suffixes)

    def setup(self, stage: str) -> None:
        self.train_files, self.val_files = self.files()

    def dataset(self, files: list[str], training: bool) -> StreamDataset:
        cut = 1.0 - self.val_share
        share = (0.0, 1.0) if not self.val_share else (0.0, cut) if training else (cut, 1.0)
        return self.game.dataset(files, self.cfg, self.seed, training, position_range=share)

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
