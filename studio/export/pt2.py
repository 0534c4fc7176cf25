"""torch.export (``.pt2``) export: an `ExportedProgram` with a dynamic batch dimension.

The batch dimension of every input is one `torch.export.Dim` ("batch"), so the
program runs on any batch size; a network whose code fixes the batch size is
exported with a static batch instead, and the notes say so. It reloads with
``torch.export.load(path).module()``.
"""

from __future__ import annotations

from pathlib import Path

import torch

from studio.export.base import Job, Runner, failure, save_staged, writing
from studio.files import to_bytes

SUFFIX = ".pt2"
DESCRIPTION = "torch.export (.pt2): the modern PyTorch format, for AOTInductor and ExecuTorch"


def dynamic_batch(job: Job) -> tuple[dict, ...]:
    """Dynamic-shape spec giving every input the same dynamic batch dimension."""
    batch = torch.export.Dim("batch")
    return tuple({0: batch} for _ in job.samples[0])


def exported_program(job: Job) -> torch.export.ExportedProgram:
    """The model as an ExportedProgram; dynamic batch where possible (clears job.dynamic_batch otherwise)."""
    sample = job.samples[0]
    try:
        return torch.export.export(job.model, sample, dynamic_shapes=dynamic_batch(job))
    except Exception as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        try:
            program = torch.export.export(job.model, sample)
        except Exception as e2:
            raise failure(f"torch.export cannot take network '{job.network}'", e2,
                          "Export to TorchScript instead.") from e2
        job.dynamic_batch = False
        job.notes.append(f"the batch size is fixed at {sample[0].shape[0]} in this file: "
                         f"a dynamic batch failed ({reason})")
        return program


def write(job: Job) -> tuple[list[Path], Runner]:
    """Exports the program, saves it, and reloads it."""
    program = exported_program(job)
    with writing(job.target):  # into memory: torch's file writer aborts the process when the disk is full
        data = to_bytes(lambda buffer: torch.export.save(program, buffer))
    path = save_staged(job.staged(job.target), job.target, data, "the .pt2 file")
    try:
        loaded = torch.export.load(str(path)).module()
    except Exception as e:
        raise failure(f"the .pt2 file written for {job.target} cannot be loaded back", e,
                      "Export to TorchScript instead.") from e
    return [path], loaded
