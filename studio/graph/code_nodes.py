"""The nodes of a project that run the user's own code ("Module" nodes), and the check before any runs.

See docs/architecture.md, "Code a project runs": the CLI and the window call
`require_trusted` (or ask) before they build a project that has such nodes.
"""

from __future__ import annotations

from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Iterator

from studio import catalog, trust
from studio.graph.project import Project
from studio.user_code import is_file_spec, script_folder


def project_code(project: Project) -> list[trust.Code]:
    """(target, args) of every node that runs code, in networks and blocks, each once."""
    found = []
    for net in project.all_networks():
        for node in net.nodes.values():
            if node.type in catalog.REGISTRY and catalog.get(node.type).runs_code:
                params = catalog.get(node.type).with_defaults(node.params)
                found.append((str(params["target"]), str(params["args"])))
    return list(dict.fromkeys(found))


def require_trusted(project: Project) -> None:
    """`trust.UntrustedCode` (one line naming the code) unless this process may run all the project's code."""
    untrusted = trust.untrusted(project_code(project))
    if untrusted:
        raise trust.UntrustedCode(trust.refusal(untrusted))


@contextmanager
def user_folders(project: Project) -> Iterator[None]:
    """The folders of the files the project's "Module" nodes name first on sys.path, as their imports expect."""
    folders = dict.fromkeys(Path(where).resolve().parent for where, _, _ in
                            (target.rpartition(":") for target, _ in project_code(project)) if is_file_spec(where))
    with ExitStack() as stack:
        for folder in folders:
            stack.enter_context(script_folder(folder))
        yield
