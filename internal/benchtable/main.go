// Command benchtable runs Go benchmarks and prints their results as a
// Markdown table, one row per benchmark and one column per unit.
//
//	go run ./internal/benchtable -bench 'Log' -benchtime 2s . ./transport/
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

func main() {
	bench := flag.String("bench", ".", "benchmark pattern, as go test -bench")
	benchtime := flag.String("benchtime", "1s", "as go test -benchtime")
	flag.Parse()
	pkgs := flag.Args()
	if len(pkgs) == 0 {
		pkgs = []string{".", "./transport/", "./internal/..."}
	}
	args := append([]string{"test", "-run", "^$", "-bench", *bench, "-benchtime", *benchtime, "-benchmem"}, pkgs...)
	cmd := exec.Command("go", args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	rows, units := parse(io.TeeReader(out, os.Stderr))
	err = cmd.Wait()
	fmt.Println()
	fmt.Printf("`go %s`\n\n", strings.Join(args, " "))
	print(rows, units)
	if err != nil {
		os.Exit(1)
	}
}

type row struct {
	pkg, name string
	vals      map[string]string
}

func parse(r io.Reader) ([]row, []string) {
	var rows []row
	var units []string
	seen := map[string]bool{}
	pkg := ""
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = p
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		rw := row{pkg: pkg, name: f[0], vals: map[string]string{}}
		for i := 2; i+1 < len(f); i += 2 {
			u := f[i+1]
			rw.vals[u] = f[i]
			if !seen[u] {
				seen[u] = true
				units = append(units, u)
			}
		}
		rows = append(rows, rw)
	}
	return rows, units
}

func print(rows []row, units []string) {
	fmt.Printf("| package | benchmark | %s |\n", strings.Join(units, " | "))
	fmt.Printf("|---|---|%s\n", strings.Repeat("---:|", len(units)))
	for _, r := range rows {
		cells := make([]string, len(units))
		for i, u := range units {
			cells[i] = r.vals[u]
		}
		pkg := strings.TrimPrefix(r.pkg, "github.com/eventgate/eventgate")
		if pkg == "" {
			pkg = "eventgate"
		}
		fmt.Printf("| %s | %s | %s |\n", pkg, strings.TrimPrefix(r.name, "Benchmark"), strings.Join(cells, " | "))
	}
}
