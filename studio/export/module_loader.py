"""Finding what `studio import` names; the loader itself is `studio.user_code`.

It lives below every layer because an opaque "Module" node of the catalog
loads its class the same way (docs/architecture.md, "Code a project runs").
"""

from studio.user_code import is_file_spec, load_class, script_folder

__all__ = ["is_file_spec", "load_class", "script_folder"]
