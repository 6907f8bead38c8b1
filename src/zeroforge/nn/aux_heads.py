"""Training-only heads on the shared trunk: the final ownership of every point and the final
score margin, both for the side to move (KataGo's auxiliary targets, simplified).

- ownership: a 1x1 convolution of the trunk to one plane, one logit per point; tanh(logit) is
  the predicted owner in (-1, 1) (+1: the side to move's), trained by a two-way cross-entropy
  (train/losses.py: `ownership_loss`).
- score: the trunk averaged over the board (global average pooling), FC to SCORE_HIDDEN, ReLU,
  FC to 1: the margin in units of SCORE_SCALE points (losses.py: `score_loss`).

Leela Zero's weights file has no place for them: export writes the policy and value heads only
(convert/lzweights.py reads the named layers), so a net trained with these heads exports and
plays exactly as one without; they shape the trunk, nothing else.
"""

from __future__ import annotations

import torch
from torch import nn

SCORE_HIDDEN = 32
SCORE_SCALE = 20.0  # points per unit of the score head's output (GNU Go margins: mostly < 60)


class AuxHeads(nn.Module):
    def __init__(self, filters: int):
        super().__init__()
        self.ownership = nn.Conv2d(filters, 1, 1)
        self.score_fc1 = nn.Linear(filters, SCORE_HIDDEN)
        self.score_fc2 = nn.Linear(SCORE_HIDDEN, 1)

    def forward(self, trunk: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """trunk [B,F,19,19] -> (ownership logits [B,361], score [B] in SCORE_SCALE points)."""
        ownership = self.ownership(trunk).flatten(1)
        pooled = trunk.mean(dim=(2, 3))
        score = self.score_fc2(torch.relu(self.score_fc1(pooled))).squeeze(1)
        return ownership, score
