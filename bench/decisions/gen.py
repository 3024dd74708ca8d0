import json, os, sys, shutil
root = sys.argv[1]; files = int(sys.argv[2]); per = int(sys.argv[3])
shutil.rmtree(root, ignore_errors=True)
for f in range(files):
    p = os.path.join(root, "mutants", "src", "pkg", f"mod{f}.py.meta")
    os.makedirs(os.path.dirname(p), exist_ok=True)
    keys = [f"pkg.mod{f}.x_func_{i//10}__mutmut_{i%10+1}" for i in range(per)]
    meta = {"exit_code_by_key": {k: None for k in keys},
            "hash_by_function_name": {f"x_func_{i}": "%032x" % i for i in range(per // 10)},
            "type_check_error_by_key": {},
            "durations_by_key": {}, "estimated_durations_by_key": {}}
    with open(p, "w") as fh:
        json.dump(meta, fh, indent=4)
    os.makedirs(os.path.join(root, "src", "pkg"), exist_ok=True)
    open(os.path.join(root, "src", "pkg", f"mod{f}.py"), "w").close()
