"""The two records the data package passes around: `RawData` in, `DataSplits` out.

A source loader returns `RawData`: every sample of the source as one tensor (or
one token stream), not yet split, resized or normalised. The pipeline in
`studio.data.pipeline` turns it into `DataSplits`, the only thing the trainer
and the GUI see.

Forms of `RawData.x` (the pipeline's `FORM_STEPS` table is keyed by them):

- ``"image"``: ``(N, C, H, W)``, uint8 in 0..255 or float32 in 0..1.
- ``"vector"``: ``(N, F)`` float32 features.
- ``"tokens"``: ``(N, L)`` int64 token ids, one sequence per sample.
- ``"stream"``: ``(T,)`` int64 token ids of one long text, cut into windows of
  ``window`` tokens; ``y`` is ``None`` (the target is the window shifted by one).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.utils.data import Dataset

@dataclass
class DataSplits:
    """A source ready to train on: three datasets of ``(x, y)`` pairs and what they hold.

    Attributes:
        train: the training pairs, augmented on the fly when augmentation is on.
        val: the validation pairs (may be empty when ``val_split`` is 0).
        test: the test pairs, or ``None`` when there is no test split.
        input_shape: one sample's ``x`` shape, without the batch dimension.
        task: ``"classification"``, ``"regression"``, ``"language_model"`` or
            ``"word_embedding"`` (word2vec rows of the ``word_pairs`` source).
        num_classes: number of classes (vocabulary size for a language model),
            ``None`` for regression.
        class_names: a name per class (the characters for a language model).
        mean: per-channel (images) or per-feature (vectors) mean of the train
            split, already subtracted from every split; ``None`` when not normalised.
        std: the matching standard deviations, already divided out.
    """

    train: Dataset
    val: Dataset
    test: Dataset | None
    input_shape: tuple[int, ...]
    task: str
    num_classes: int | None
    class_names: list[str] | None
    mean: list[float] | None
    std: list[float] | None


@dataclass
class RawData:
    """Everything a source holds, before splitting, resizing and normalising.

    Attributes:
        x: all samples, in the layout ``form`` names (see the module docstring).
        y: int64 class per sample ``(N,)``, float32 targets ``(N, K)``, or
            ``None`` for a stream.
        form: ``"image"``, ``"vector"``, ``"tokens"`` or ``"stream"``.
        task: the task these targets train (``"classification"``, ...).
        class_names: a name per class, ``None`` for regression.
        test: a test set the files provide themselves (``t10k-*`` IDX files,
            ``test_batch.bin``) as ``(x, y)`` in the same layout; when given, the
            ``test_split`` setting is not used.
        window: stream only: tokens per sample (``seq_len``).
        stride: stream only: tokens between the starts of two samples.
    """

    x: torch.Tensor
    y: torch.Tensor | None
    form: str
    task: str
    class_names: list[str] | None = None
    test: tuple[torch.Tensor, torch.Tensor] | None = None
    window: int | None = None
    stride: int = 1
