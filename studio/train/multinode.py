"""Training on several machines: ``studio train FILE --nnodes N --node-rank R --master-addr A --master-port P``.

Each machine runs the same command with its own ``--node-rank``; torchrun
(`studio.train.distributed.launch`) then joins them through its c10d
rendezvous at ``A:P`` (``--rdzv-backend c10d --rdzv-endpoint A:P``), and each
machine starts ``--nproc`` workers (NCCL on GPUs, gloo on CPUs, as on one
machine: `studio.train.worker`). The node with ``--node-rank 0`` hosts the
rendezvous store (``is_host``), so ``A`` must be its address. torchrun
assigns the global ranks: the process it ranks 0 writes the run's files
into its machine's ``--out``; every node's first process writes the node's
own result file, so each command ends with the run's outcome.
"""

from __future__ import annotations

import argparse

from studio.errors import TrainingError

DEFAULT_PORT = 29400  # torchrun's own default for a c10d endpoint


def add_node_arguments(parser: argparse.ArgumentParser) -> None:
    """The multi-node options of ``studio train``."""
    parser.add_argument("--nnodes", type=int, default=1, metavar="N",
                        help="machines training together (each runs this command; torchrun, c10d rendezvous)")
    parser.add_argument("--node-rank", type=int, default=0, metavar="R",
                        help="this machine's number, 0 to N-1; node 0 hosts the rendezvous")
    parser.add_argument("--master-addr", metavar="A", help="address of node 0, reachable from every node")
    parser.add_argument("--master-port", type=int, default=DEFAULT_PORT, metavar="P",
                        help=f"a free TCP port on node 0 for the rendezvous (default {DEFAULT_PORT})")


def is_distributed(args: argparse.Namespace) -> bool:
    """Whether the run goes through torchrun: several processes or several machines."""
    return args.nproc > 1 or getattr(args, "nnodes", 1) > 1


def torchrun_args(args: argparse.Namespace) -> list[str] | None:
    """torchrun's rendezvous flags for the parsed options (None: one machine, ``--standalone``).

    Raises:
        TrainingError: a node count, node rank, address or port that cannot work.
    """
    nnodes = getattr(args, "nnodes", 1)
    if nnodes < 1 or args.nproc < 1:
        raise TrainingError(f"--nnodes {nnodes} --nproc {args.nproc}: both must be 1 or more")
    if nnodes == 1:
        return None
    if not 0 <= args.node_rank < nnodes:
        raise TrainingError(f"--node-rank {args.node_rank}: must be 0 to {nnodes - 1} with --nnodes {nnodes}")
    if not args.master_addr:
        raise TrainingError(f"--nnodes {nnodes} needs --master-addr: the address of node 0 (e.g. its host name)")
    if not 0 < args.master_port < 65536:
        raise TrainingError(f"--master-port {args.master_port}: must be a TCP port, 1 to 65535")
    host = "1" if args.node_rank == 0 else "0"
    return ["--nnodes", str(nnodes), "--rdzv-backend", "c10d",
            "--rdzv-endpoint", f"{args.master_addr}:{args.master_port}",
            "--rdzv-id", f"studio-{args.master_port}", "--rdzv-conf", f"is_host={host}"]


def spec_name(args: argparse.Namespace) -> str:
    """The run spec's file name: one per node, so nodes sharing a folder never overwrite each other's."""
    return "spec.json" if getattr(args, "nnodes", 1) <= 1 else f"spec.node{args.node_rank}.json"
