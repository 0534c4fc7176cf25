"""Compressing a trained network: int8 quantization and pruning, each measured before and after.

`studio compress FILE --weights CKPT --method quantize|prune [--structured] [--amount A] -o OUT`
(docs/architecture.md, "Compressing a trained network"):

* ``quantize`` (`quantize.py`): the network's ONNX export, quantized to int8 by
  onnxruntime's quantizer; static with calibration on the project's own
  training data when it has convolutions, dynamic (weights only) otherwise.
  OUT is the int8 ``.onnx`` file, for onnxruntime.
* ``prune`` (`prune.py`): unstructured magnitude pruning of every Conv/Linear
  weight (torch.nn.utils.prune, made permanent), optionally fine-tuned with
  the masks held; OUT is a weights file for the same project.
* ``prune --structured`` (`channels.py`, over `inline.py`): the least important
  output channels (L1 norm) removed from layers whose outputs only reach
  convolutions and Linear layers; the project is edited, and OUT is a smaller
  project file with its weights beside it (``OUT.pt``).

Every method returns `Figures` before and after (`measure.py`).
"""

from studio.compress.measure import Figures
from studio.compress.run import METHODS, CompressResult, compress

__all__ = ["METHODS", "CompressResult", "Figures", "compress"]
