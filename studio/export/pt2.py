"""torch.export (``.pt2``) export: an `ExportedProgram` whose batch, sequence and spatial dimensions are dynamic.

Every dimension `studio.export.dims` plans as dynamic is exported as
``Dim.AUTO``: torch.export keeps it symbolic where the network's code allows,
with the range it finds (a positional encoding caps the length), and makes it
static where the code needs its exact size (recurrent layers are unrolled over
time); `dims.settle` reads back which, and the notes say what fixes each
static one. A network that torch.export cannot take with any dynamic
dimension is exported with static shapes, and the notes say so. It reloads
with ``torch.export.load(path).module()``.
"""

from __future__ import annotations

from pathlib import Path

import torch

from studio.export import dims
from studio.export.base import Job, Runner, failure, save_staged, writing
from studio.files import to_bytes

SUFFIX = ".pt2"
DESCRIPTION = "torch.export (.pt2): the modern PyTorch format, for AOTInductor and ExecuTorch"


def exported_program(job: Job) -> torch.export.ExportedProgram:
    """The model as an ExportedProgram, dynamic where it can be (job.axes settled to what it is)."""
    sample = job.samples[0]
    try:
        program = torch.export.export(job.model, sample, dynamic_shapes=dims.dynamic_shapes(job.axes, job.input_names))
    except Exception as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        try:
            program = torch.export.export(job.model, sample)
        except Exception as e2:
            raise failure(f"torch.export cannot take network '{job.network}'", e2,
                          "Export to TorchScript instead.") from e2
        for axis in job.axes:
            if axis.probe is not None:
                axis.fix(f"torch.export failed with dynamic shapes ({reason})")
        return program
    dims.settle(job.axes, program, job.project, job.network)
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
