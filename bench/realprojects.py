"""Real third-party projects for the benchmark (scenario 6): pinned sdists from
PyPI that ship their own tests, fetched at bench time into a cache directory
(never committed), unpacked into a work directory and given a [tool.mutmut]
table. Each project mutates a subset of its modules (the same for every
tool) so that the whole scenario stays within minutes on 2 cores.

Offline parts (find, verify, unpack, configure) are tested by
tests/bench/test_realprojects.py on a fixture sdist; only fetch() needs PyPI.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile

PROJECTS = [
    {
        "name": "isodate",
        "version": "0.7.2",
        "sha256": "4cd1aa0f43ca76f4a6c6c0292a85f40b35ec2e43e315b59f06e6d32171a953e6",
        "mutmut": {
            "source_paths": ["src/isodate"],
            "only_mutate": ["src/isodate/isoduration.py"],
            "pytest_add_cli_args_test_selection": ["tests"],
        },
        # isodate's test ids contain "expectedN" indices that follow set
        # iteration order, so they change with the hash seed: a stats run and a
        # later process with another seed disagree on the ids (see
        # docs/benchmarks.md). The same fixed seed for every tool.
        "env": {"PYTHONHASHSEED": "0"},
    },
    {
        "name": "inflection",
        "version": "0.5.1",
        "sha256": "1a29730d366e996aaacffb2f1f1cb9593dc38e2ddd30c91250c6dde09ea9b417",
        "mutmut": {
            "source_paths": ["inflection"],
            "pytest_add_cli_args_test_selection": ["test_inflection.py"],
            "also_copy": ["test_inflection.py"],
        },
        # One module: a subset of its functions (mutant-name globs, passed
        # to every tool the same way).
        "names": ["inflection.x_humanize__mutmut_*", "inflection.x_parameterize__mutmut_*",
                  "inflection.x_underscore__mutmut_*", "inflection.x_ordinal*", "inflection.x_camelize__mutmut_*"],
        "env": {},
    },
]


class ProjectError(Exception):
    """A sdist that is missing, corrupt or not what the spec expects."""


def default_cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "mutcell-bench", "sdists")


def sdist_name(spec: dict) -> str:
    return f"{spec['name']}-{spec['version']}.tar.gz"


def sha256_of(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def find_sdist(spec: dict, cache: str) -> str:
    """The cached sdist of `spec`, checked against its pinned SHA-256."""
    path = os.path.join(cache, sdist_name(spec))
    if not os.path.isfile(path):
        raise ProjectError(f"{path}: not in the cache (run the bench with network access to fetch it)")
    got = sha256_of(path)
    if got != spec["sha256"]:
        raise ProjectError(f"{path}: SHA-256 {got} is not the pinned {spec['sha256']}")
    return path


def fetch(spec: dict, cache: str, python: str) -> str:
    """The sdist from the cache, downloaded first with pip when absent."""
    path = os.path.join(cache, sdist_name(spec))
    if not os.path.isfile(path):
        os.makedirs(cache, exist_ok=True)
        r = subprocess.run([python, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "-q", "-d", cache,
                            f"{spec['name']}=={spec['version']}"], capture_output=True, text=True)
        if r.returncode != 0:
            raise ProjectError(f"pip download {spec['name']}=={spec['version']} failed: {r.stderr[-1500:]}")
    return find_sdist(spec, cache)


def toml_value(v) -> str:
    # Strings and lists of strings only: JSON's spelling is valid TOML for them.
    if isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v)):
        return json.dumps(v)
    raise ProjectError(f"unsupported [tool.mutmut] value {v!r}")


def unpack(spec: dict, sdist: str, dest: str) -> str:
    """Unpacks `sdist` into `dest` (must not exist) and adds the spec's
    [tool.mutmut] table to its pyproject.toml (created when absent). Returns
    `dest`. A sdist whose members leave its top directory, or that already
    has a [tool.mutmut] table, is refused."""
    top = f"{spec['name']}-{spec['version']}"
    tmp = dest + ".unpack"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        with tarfile.open(sdist, "r:gz") as tf:
            for m in tf.getmembers():
                norm = os.path.normpath(m.name)
                if not (norm == top or norm.startswith(top + os.sep)) or m.issym() or m.islnk():
                    raise ProjectError(f"{sdist}: member {m.name!r} is outside {top}/ or a link")
            tf.extractall(tmp, filter="data") if hasattr(tarfile, "data_filter") else tf.extractall(tmp)
    except (tarfile.TarError, OSError, EOFError) as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ProjectError(f"{sdist}: cannot unpack: {e}") from e
    os.rename(os.path.join(tmp, top), dest)
    shutil.rmtree(tmp, ignore_errors=True)
    pyproject = os.path.join(dest, "pyproject.toml")
    text = open(pyproject).read() if os.path.exists(pyproject) else ""
    if "[tool.mutmut]" in text:
        raise ProjectError(f"{pyproject}: already has a [tool.mutmut] table")
    table = "\n[tool.mutmut]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in spec["mutmut"].items())
    with open(pyproject, "w") as f:
        f.write(text.rstrip("\n") + ("\n" if text else "") + table)
    return dest
