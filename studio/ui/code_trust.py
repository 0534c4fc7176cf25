"""The window's side of trusting code a project names (docs/architecture.md, "Code a project runs").

Before a project with "Module" nodes is shown (and so analysed, which builds
them), `allowed` asks once, naming the code; a yes is remembered in the
user's trust list (`studio.trust`), a no opens nothing. A module imported in
this window is the user's own code already run, and is remembered as such.
"""

from __future__ import annotations

from studio import trust
from studio.graph.code_nodes import project_code
from studio.graph.project import Project
from studio.ui import dialogs


def allowed(parent, project: Project, name: str) -> bool:
    """True when the project runs no code the user has not trusted, or the user trusts it now."""
    codes = trust.untrusted(project_code(project))
    if not codes:
        return True
    if not dialogs.ask_run_code(parent, name, [target for target, _ in codes]):
        return False
    trust.remember(codes)
    return True


def remember_imported(project: Project) -> None:
    """Trusts the code an import just ran, so the saved project opens without a question."""
    trust.remember(project_code(project))


def node_note(target: str) -> str:
    """The tooltip line of a "Module" node."""
    return f"runs code from {target or '(no class named yet)'}: your own code, kept as it is"
