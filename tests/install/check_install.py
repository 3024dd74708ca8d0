#!/usr/bin/env python3
"""Checks mutcell as its users get it, away from the source and build trees.

  check_install.py ldd     --mutcell BUILD/mutcell
      the binary needs nothing but glibc (ldd lists only glibc's pieces)
  check_install.py wheel   --source SRC --build BUILD
      scripts/make-wheel.sh builds the wheel (scikit-build-core, build dir
      BUILD/wheel-build so reruns are incremental); its tag is manylinux_2_XX
      for the newest glibc symbol the binary uses; it is installed into a
      fresh venv with mutmut and pytest (the pins of scripts/requirements.txt);
      then, in a mount namespace whose SRC and BUILD are empty tmpfs mounts,
      `mutcell mutmut` with no --python on a copy of examples/runaway gives
      the runaway `oom`, 20 killed, 3 survived, and `mutmut results` works.
  check_install.py tarball --source SRC --build BUILD
      scripts/make-tarball.sh makes the tarball; unpacked, with SRC and BUILD
      hidden the same way, `mutcell run --plan` runs examples/exec and
      `mutcell mutmut --python VENV/bin/python` runs examples/runaway.

Hiding the trees: this host runs the tests as root, and root reads every
file whatever its mode, so "unreadable" is made real with `unshare -m`: the
run sees empty directories where SRC and BUILD were (asserted inside).
Prints timings (build, install) and sizes; asserts no time.
Exit: 0 ok, 1 a check failed, 77 skipped (the reason is printed).
"""

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile

failures = []
GLIBC_PIECES = {"linux-vdso.so.1", "libc.so.6", "libm.so.6", "ld-linux-x86-64.so.2", "libpthread.so.0",
                "libdl.so.2", "librt.so.1"}
RUNAWAY_EXPECTED = {"killed": 20, "survived": 3, "oom": 1}


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


def skip(why):
    print(f"SKIPPED: {why}", file=sys.stderr)
    sys.exit(77)


def sh(cmd, **kw):
    print("+ " + (cmd if isinstance(cmd, str) else shlex.join(cmd)), flush=True)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    if p.returncode != 0:
        sys.stdout.write(p.stdout)
    return p


def ldd(mutcell):
    p = sh(["ldd", mutcell])
    check(p.returncode == 0, f"ldd {mutcell} runs")
    print(p.stdout, end="")
    names = set()
    for line in p.stdout.splitlines():
        first = line.split()[0] if line.split() else ""
        names.add(os.path.basename(first))
    extra = sorted(names - GLIBC_PIECES)
    check(not extra, f"the binary needs only glibc (outside glibc: {extra or 'nothing'})")
    check("libc.so.6" in names, "ldd lists libc.so.6 (a dynamic glibc binary)")


def newest_glibc(binary):
    p = sh(["objdump", "-T", binary])
    versions = {tuple(int(x) for x in m.split(".")) for m in re.findall(r"GLIBC_(\d+\.\d+(?:\.\d+)?)", p.stdout)}
    return max(versions) if versions else None


def pins(source):
    want = {}
    for line in open(os.path.join(source, "scripts", "requirements.txt")):
        line = line.split("#")[0].strip()
        if "==" in line:
            want[line.split("==")[0].lower()] = line
    return [want["mutmut"], want["pytest"]]


def hidden(source, build, script):
    """A bash command line that runs `script` in a mount namespace where the
    source and build trees are empty tmpfs mounts (checked before it runs)."""
    masks = [source] + ([build] if not (build + "/").startswith(source + "/") else [])
    inner = "set -e; mount --make-rprivate /\n"
    for d in masks:
        inner += f"mount -t tmpfs -o size=1m,mode=0700 mutcell-hidden {shlex.quote(d)}\n"
        inner += f"if [ -n \"$(ls -A {shlex.quote(d)})\" ]; then echo 'not hidden: {d}' >&2; exit 99; fi\n"
    inner += script
    return ["unshare", "-m", "--", "bash", "-c", inner]


def clean_env(path_dirs, home):
    return {"PATH": ":".join(path_dirs + ["/usr/bin", "/bin", "/usr/sbin", "/sbin"]), "HOME": home,
            "LANG": "C.UTF-8"}


def check_runaway(mutmut_args, mutmut, project, work, source, build, env, label):
    """`mutcell mutmut` (found on PATH) on a copy of examples/runaway with the trees hidden."""
    script = (f"cd {shlex.quote(project)}\n"
              "echo \"mutcell is $(command -v mutcell)\"\n"
              f"mutcell mutmut --max-children 2 {mutmut_args}\n"
              f"{shlex.quote(mutmut)} results > {shlex.quote(work)}/results.txt\n"
              f"mutcell report --format json > {shlex.quote(work)}/report.json\n")
    t0 = time.monotonic()
    p = sh(hidden(source, build, script), env=env)
    print(p.stdout, end="")
    print(f"{label}: mutcell mutmut on examples/runaway took {time.monotonic() - t0:.1f} s (with mutmut's preparation)")
    if not check(p.returncode == 0, f"{label}: mutcell mutmut, mutmut results and mutcell report run with "
                                    f"{source} and {build} hidden"):
        return
    rows = json.load(open(os.path.join(work, "report.json")))
    counts = {}
    for r in rows:
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
    check(counts == RUNAWAY_EXPECTED, f"{label}: verdicts {counts} == {RUNAWAY_EXPECTED}")
    oom = [r["id"] for r in rows if r["verdict"] == "oom"]
    check(len(oom) == 1 and "x_read_blocks__mutmut_" in oom[0], f"{label}: the runaway read_blocks mutant is oom: {oom}")
    results = open(os.path.join(work, "results.txt")).read()
    print(results, end="")
    check(results.count(": survived") == 3, f"{label}: `mutmut results` lists the 3 survivors")
    check(any(o in results for o in oom), f"{label}: `mutmut results` lists the oom mutant (as mutmut's timeout)")


def wheel(source, build):
    work = tempfile.mkdtemp(prefix="mutcell-install-wheel-")
    try:
        env_build = dict(os.environ)
        env_build["MUTCELL_WHEEL_TOOLS"] = os.path.join(build, "wheel-tools")
        t0 = time.monotonic()
        p = sh([os.path.join(source, "scripts", "make-wheel.sh"), os.path.join(work, "dist"),
                "-C", "build-dir=" + os.path.join(build, "wheel-build")], env=env_build)
        print(f"wheel build: {time.monotonic() - t0:.1f} s (scripts/make-wheel.sh, incremental in {build}/wheel-build)")
        if not check(p.returncode == 0, "scripts/make-wheel.sh builds and tags the wheel"):
            return
        wheels = [f for f in os.listdir(os.path.join(work, "dist")) if f.endswith(".whl")]
        check(len(wheels) == 1, f"one wheel: {wheels}")
        whl = os.path.join(work, "dist", wheels[0])
        version = subprocess.run([os.path.join(build, "mutcell"), "--version"], stdout=subprocess.PIPE,
                                 text=True).stdout.split()[-1]
        m = re.fullmatch(r"mutcell-([0-9.]+)-py3-none-manylinux_(\d+)_(\d+)_x86_64\.whl", wheels[0])
        if not check(m is not None, f"the wheel is tagged manylinux_2_XX_x86_64: {wheels[0]}"):
            return
        check(m.group(1) == version, f"the wheel's version {m.group(1)} is the binary's ({version})")
        print(f"wheel size: {os.path.getsize(whl)} bytes")
        with zipfile.ZipFile(whl) as z:
            names = z.namelist()
            binary = f"mutcell-{version}.data/scripts/mutcell"
            check(binary in names, "the binary is the wheel's script mutcell (on the venv's PATH)")
            for s in ("mutcell_zygote.py", "mutcell_prepare.py"):
                check(f"mutcell-{version}.data/data/share/mutcell/{s}" in names, f"{s} is in the wheel's data share/mutcell")
            meta = z.read(f"mutcell-{version}.dist-info/METADATA").decode()
            check(f"\nVersion: {version}\n" in meta and "\nName: mutcell\n" in meta, "metadata: Name mutcell, Version")
            check(not any("/tests" in n or n.endswith("_tests") for n in names), "no test binaries in the wheel")
            z.extract(binary, work)
        glibc = newest_glibc(os.path.join(work, binary))
        check(glibc is not None and (int(m.group(2)), int(m.group(3))) == glibc[:2],
              f"the tag manylinux_{m.group(2)}_{m.group(3)} is the newest glibc symbol version the binary uses {glibc}")

        venv = os.path.join(work, "venv")
        sh(["python3", "-m", "venv", venv])
        t0 = time.monotonic()
        p = sh([os.path.join(venv, "bin", "pip"), "install", "-q", "--disable-pip-version-check", whl] + pins(source))
        print(f"pip install of the wheel with {' '.join(pins(source))}: {time.monotonic() - t0:.1f} s")
        t1 = time.monotonic()
        sh([os.path.join(venv, "bin", "pip"), "install", "-q", "--disable-pip-version-check", "--force-reinstall",
            "--no-deps", whl])
        print(f"pip install of the wheel alone: {time.monotonic() - t1:.1f} s")
        if not check(p.returncode == 0, "the wheel installs into a fresh venv beside mutmut and pytest"):
            return
        installed = os.path.join(venv, "bin", "mutcell")
        check(os.access(installed, os.X_OK), "mutcell is on the venv's PATH, executable")
        print(f"binary size: {os.path.getsize(installed)} bytes (stripped)")
        check(os.path.exists(os.path.join(venv, "share", "mutcell", "mutcell_zygote.py")),
              "the scripts are in <venv>/share/mutcell")
        project = os.path.join(work, "project")
        shutil.copytree(os.path.join(source, "examples", "runaway"), project)
        env = clean_env([os.path.join(venv, "bin")], work)
        check_runaway("", "mutmut", project, work, source, build, env, "wheel")
        # The binary has no way back to the build tree: outside a venv and away
        # from share/mutcell it says where it looked.
        lone = os.path.join(work, "lone", "bin")
        os.makedirs(lone)
        shutil.copy(installed, lone)
        p = sh(hidden(source, build, f"cd {shlex.quote(project)}; {shlex.quote(lone)}/mutcell mutmut"), env=env)
        check(p.returncode == 1 and "cannot find mutcell_prepare.py" in p.stdout and
              f"{work}/lone/share/mutcell/mutcell_prepare.py" in p.stdout,
              "a binary without its share/mutcell fails naming where it looked")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def tarball(source, build):
    work = tempfile.mkdtemp(prefix="mutcell-install-tarball-")
    try:
        p = sh([os.path.join(source, "scripts", "make-tarball.sh"), build, os.path.join(work, "dist")])
        if not check(p.returncode == 0, "scripts/make-tarball.sh makes the tarball"):
            return
        path = p.stdout.strip().splitlines()[-1]
        version = subprocess.run([os.path.join(build, "mutcell"), "--version"], stdout=subprocess.PIPE,
                                 text=True).stdout.split()[-1]
        check(os.path.basename(path) == f"mutcell-{version}-linux-x86_64.tar.gz", f"named {os.path.basename(path)}")
        print(f"tarball size: {os.path.getsize(path)} bytes")
        top = f"mutcell-{version}"
        with tarfile.open(path) as t:
            names = set(t.getnames())
            for n in ("bin/mutcell", "share/mutcell/mutcell_zygote.py", "share/mutcell/mutcell_prepare.py",
                      "README.md", "LICENSE", "CHANGELOG.md"):
                check(f"{top}/{n}" in names, f"the tarball holds {top}/{n}")
            t.extractall(os.path.join(work, "unpacked"))
        prefix = os.path.join(work, "unpacked", top)
        mutcell = os.path.join(prefix, "bin", "mutcell")
        exec_copy = os.path.join(work, "exec")
        shutil.copytree(os.path.join(source, "examples", "exec"), exec_copy)
        env = clean_env([os.path.join(prefix, "bin")], work)
        p = sh(hidden(source, build, f"cd {shlex.quote(exec_copy)}; mutcell run --plan plan.jsonl -q; "
                                     f"mutcell report --format json > {shlex.quote(work)}/exec.json"), env=env)
        if check(p.returncode in (0, 3), f"the tarball's mutcell runs examples/exec's plan (exit {p.returncode})"):
            rows = json.load(open(os.path.join(work, "exec.json")))
            verdicts = {r["id"].split(".")[-1]: r["verdict"] for r in rows}
            print(verdicts)
            check(len(rows) == 5 and "oom" in verdicts.values() and "killed" in verdicts.values() and
                  "survived" in verdicts.values(), "examples/exec: 5 verdicts with killed, survived and oom")
        venv = os.path.join(work, "venv")
        sh(["python3", "-m", "venv", venv])
        p = sh([os.path.join(venv, "bin", "pip"), "install", "-q", "--disable-pip-version-check"] + pins(source))
        if not check(p.returncode == 0, "a venv with mutmut and pytest"):
            return
        project = os.path.join(work, "project")
        shutil.copytree(os.path.join(source, "examples", "runaway"), project)
        check_runaway("--python " + shlex.quote(os.path.join(venv, "bin", "python")), os.path.join(venv, "bin", "mutmut"),
                      project, work, source, build, env, "tarball")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["ldd", "wheel", "tarball"])
    ap.add_argument("--mutcell")
    ap.add_argument("--source")
    ap.add_argument("--build")
    a = ap.parse_args()
    if a.mode == "ldd":
        ldd(os.path.abspath(a.mutcell))
    else:
        if os.geteuid() != 0:
            skip("needs root: unshare -m hides the source and build trees, and cgroup cells are made")
        for tool in ("unshare", "objdump"):
            if shutil.which(tool) is None:
                skip(f"{tool} is not on PATH")
        source, build = os.path.realpath(a.source), os.path.realpath(a.build)
        (wheel if a.mode == "wheel" else tarball)(source, build)
    if failures:
        print(f"{len(failures)} checks failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
