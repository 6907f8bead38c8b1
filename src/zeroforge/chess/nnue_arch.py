"""The Stockfish NNUE architectures as sizes and numbers, the one home of the net's shape: HalfKP
256x2-32-32 (Stockfish 12-13) and SFNNv5 HalfKAv2_hm 1024x2-16-32 with 8 layer stacks (Stockfish
15.1), their hashes (computed as Stockfish computes them, so a file of another architecture is
told apart) and the quantisation scales of the integer net. The float network (`nn.sfnnv5`), the
file format (`formats.nnue`) and the integer evaluation (`analysis.nnue_eval`) all take their
shapes from here; the feature set itself is `chess.features`.
"""

from __future__ import annotations

from dataclasses import dataclass

from zeroforge.chess.features import FEATURE_HASH, NUM_BUCKETS, NUM_FEATURES, NUM_PLANES

HASH_MASK = 0xFFFFFFFF
INPUT_SLICE_HASH = 0xEC42E90D  # Stockfish layers/input_slice.h
AFFINE_HASH = 0xCC03DAE4  # layers/affine_transform.h
CLIPPED_RELU_HASH = 0x538D24C7  # layers/clipped_relu.h

# Quantisation scales (nnue-pytorch serialize.py / Stockfish nnue_common.h)
FT_SCALE = 127
PSQT_SCALE = 9600
HIDDEN_WEIGHT_SCALE = 64
HIDDEN_BIAS_SCALE = 127 * 64
OUTPUT_WEIGHT_SCALE = 600 * 16 / 127
OUTPUT_BIAS_SCALE = 600 * 16


@dataclass(frozen=True)
class Arch:
    name: str
    version: int
    feature_hash: int
    features: int
    half_dims: int
    psqt_buckets: int
    stacks: int
    layers: tuple[tuple[int, int], ...]  # (inputs, outputs) of each affine layer
    king_buckets: int  # blocks of features, one per king square (HalfKP) or bucket (HalfKAv2_hm)
    planes: int  # 64-square piece planes per block
    block_offset: int  # features before the planes in each block (HalfKP's unused slot 0)

    @property
    def ft_hash(self) -> int:
        return self.feature_hash ^ (2 * self.half_dims)

    @property
    def network_hash(self) -> int:
        return _network_hash(self)

    @property
    def header_hash(self) -> int:
        return self.ft_hash ^ self.network_hash


def _network_hash(arch: Arch) -> int:
    prev = INPUT_SLICE_HASH ^ (2 * arch.half_dims)
    for index, (_, out) in enumerate(arch.layers):
        value = (AFFINE_HASH + out) & HASH_MASK
        value ^= prev >> 1
        value ^= (prev << 31) & HASH_MASK
        if index < len(arch.layers) - 1:  # every hidden layer is followed by a clipped ReLU
            value = (value + CLIPPED_RELU_HASH) & HASH_MASK
        prev = value
    return prev


HALFKP = Arch(
    name="HalfKP 256x2-32-32",
    version=0x7AF32F16,
    feature_hash=0x5D69D5B8,
    features=64 * 641,
    half_dims=256,
    psqt_buckets=0,
    stacks=1,
    layers=((512, 32), (32, 32), (32, 1)),
    king_buckets=64,
    planes=10,
    block_offset=1,
)
SFNNV5 = Arch(
    name="SFNNv5 HalfKAv2_hm 1024x2-16-32 (8 stacks)",
    version=0x7AF32F20,
    feature_hash=FEATURE_HASH,  # chess.features, the feature set's one home
    features=NUM_FEATURES,  # 32 king buckets x 704
    half_dims=1024,
    psqt_buckets=8,
    stacks=8,
    layers=((1024, 16), (30, 32), (32, 1)),
    king_buckets=NUM_BUCKETS,
    planes=NUM_PLANES,
    block_offset=0,
)
ARCHS = (HALFKP, SFNNV5)
