"""Maps the ``plugins/`` folder to the importable package ``ropbench_plugins``.

Everything else lives in pyproject.toml; only this renaming needs code.
"""

from setuptools import find_packages, setup

plugin_packages = [
    "ropbench_plugins" + name[len("plugins"):] for name in find_packages(include=["plugins", "plugins.*"])
]
setup(
    packages=find_packages(include=["ropbench", "ropbench.*"]) + plugin_packages,
    package_dir={"ropbench_plugins": "plugins"},
)
