"""DWARF as the reference for the inline trees (sizebot/binary/inltree.py): which function the
compiler inlined at a pc.

A binary with DWARF describes each inlined call as a DW_TAG_inlined_subroutine with its pc ranges,
nested in the function (or the inlined call) it was inlined into, and pointing at the inlined
function's abstract DW_TAG_subprogram, which carries its name. The innermost such entry whose ranges
hold a pc names the function the instruction at that pc comes from. Go's own debug/dwarf reads it
(an independent decoder from the pclntab's pc-value tables and go:func.* inline trees):

    names = dwarf_inlined(exe, pcs)   # per pc: the innermost inlined function's name, or None
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from tests.support.goprograms import build, go_env

INLINED = {
    "go.mod": "module example.com/inlined\n\ngo 1.21\n",
    "main.go": """package main

// Reads hexadecimal pcs on stdin; prints, per pc, the name of the innermost inlined function whose
// DW_TAG_inlined_subroutine ranges hold it, or "-".

import (
	"bufio"
	"debug/dwarf"
	"debug/elf"
	"fmt"
	"os"
	"sort"
	"strconv"
)

type span struct {
	lo, hi uint64
	depth  int
	origin dwarf.Offset
}

func main() {
	f, err := elf.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	d, err := f.DWARF()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(4)
	}
	names := map[dwarf.Offset]string{}
	var spans []span
	r := d.Reader()
	depth := 0
	for {
		e, err := r.Next()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(5)
		}
		if e == nil {
			break
		}
		if e.Tag == 0 {
			depth--
			continue
		}
		if e.Tag == dwarf.TagSubprogram {
			if n, ok := e.Val(dwarf.AttrName).(string); ok {
				names[e.Offset] = n
			}
		}
		if e.Tag == dwarf.TagInlinedSubroutine {
			origin, _ := e.Val(dwarf.AttrAbstractOrigin).(dwarf.Offset)
			ranges, err := d.Ranges(e)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(6)
			}
			for _, rg := range ranges {
				spans = append(spans, span{rg[0], rg[1], depth, origin})
			}
		}
		if e.Children {
			depth++
		}
	}
	sort.SliceStable(spans, func(i, j int) bool { return spans[i].lo < spans[j].lo })
	var pcs []uint64
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		pc, err := strconv.ParseUint(in.Text(), 16, 64)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(7)
		}
		pcs = append(pcs, pc)
	}
	order := make([]int, len(pcs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return pcs[order[i]] < pcs[order[j]] })
	out := make([]string, len(pcs))
	var active []span
	next := 0
	for _, i := range order {
		pc := pcs[i]
		for next < len(spans) && spans[next].lo <= pc {
			active = append(active, spans[next])
			next++
		}
		kept := active[:0]
		best := -1
		name := "-"
		for _, s := range active {
			if s.hi <= pc {
				continue
			}
			kept = append(kept, s)
			if s.depth > best {
				best, name = s.depth, names[s.origin]
			}
		}
		active = kept
		out[i] = name
	}
	w := bufio.NewWriter(os.Stdout)
	for _, n := range out {
		fmt.Fprintln(w, n)
	}
	w.Flush()
}
""",
}


def dwarf_inlined(exe: Path, pcs: Sequence[int]) -> list[str | None]:
    """Per pc of ``exe`` (an ELF file with DWARF): the name of the innermost function inlined there,
    None in a function's own code."""
    tool = build(INLINED)
    proc = subprocess.run([str(tool), str(exe)], input="".join(f"{pc:x}\n" for pc in pcs), env=go_env(),
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"reading the DWARF of {exe} failed: {proc.stderr}")
    names = proc.stdout.splitlines()
    if len(names) != len(pcs):
        raise RuntimeError(f"{len(names)} answers for {len(pcs)} pcs")
    return [None if n == "-" else n for n in names]
