# Prototype: mutcell's write-back through mutmut's own data model.
# stdin: {"src/pkg/mod0.py": [[key, exit_code, duration_s, estimate_s|null], ...], ...}
import json, os, sys, tempfile
from pathlib import Path
from mutmut.mutation.data import SourceFileMutationData

def main():
    todo = json.load(sys.stdin)
    for source, results in todo.items():
        data = SourceFileMutationData(path=source)
        data.load()
        for key, code, duration, estimate in results:
            if key not in data.exit_code_by_key:
                sys.exit(f"{data.meta_path}: exit_code_by_key has no mutant {key!r}; nothing written")
            data.exit_code_by_key[key] = code
            data.durations_by_key[key] = duration
            if estimate is not None:
                data.estimated_time_of_tests_by_mutant[key] = estimate
        final = data.meta_path
        fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=final.name + ".", suffix=".tmp")
        os.close(fd)
        try:
            data.meta_path = Path(tmp)
            data.save()                     # mutmut's own json.dump(indent=4)
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
            os.replace(tmp, final)
        except BaseException:
            os.unlink(tmp)
            raise
main()
