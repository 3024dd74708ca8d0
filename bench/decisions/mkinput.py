import json, sys
files, per = int(sys.argv[1]), int(sys.argv[2])
print(json.dumps({f"src/pkg/mod{f}.py": [[f"pkg.mod{f}.x_func_{i//10}__mutmut_{i%10+1}", 0 if i % 3 == 0 else 1, 0.123 + i*1e-3, 0.1 + i*1e-4] for i in range(per)] for f in range(files)}))
