package bench

import (
	"flag"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var instrRows = flag.String("instr-rows", "5000,20000", "evaluation rows of BenchmarkInstructions' two runs under callgrind, comma separated")

// collected is callgrind's total of instructions executed ("Ir").
var collected = regexp.MustCompile(`Collected : (\d+)`)

// BenchmarkInstructions counts the instructions `evidence run` executes
// (valgrind --tool=callgrind) at two sizes. Unlike CPU-seconds on a shared
// machine (the same 500k run measured 43 and 62 CPU-seconds here, minutes
// apart), the count hardly depends on what else the machine does (two
// counts of a run were within 1.1 % of each other). The difference between
// the two runs over the rows between them is the cost of a row, without
// the run's fixed costs (discovery, the PDFs, start-up).
func BenchmarkInstructions(b *testing.B) {
	valgrind, err := exec.LookPath("valgrind")
	if err != nil {
		b.Skip("valgrind is not installed (apt-get install valgrind)")
	}
	var sizes []int
	for _, s := range strings.Split(*instrRows, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			b.Fatalf("-instr-rows %q: %v", s, err)
		}
		sizes = append(sizes, n)
	}
	if len(sizes) != 2 || sizes[0] >= sizes[1] {
		b.Fatalf("-instr-rows %q: want two sizes, the smaller first", *instrRows)
	}
	bin := binary(b)
	var runs [2]runResult
	var instr [2]float64
	for b.Loop() {
		for i, n := range sizes {
			out := filepath.Join(b.TempDir(), "callgrind.out")
			r, printed := runUnder(b, []string{valgrind, "--tool=callgrind", "--callgrind-out-file=" + out}, bin, n, nil)
			m := collected.FindStringSubmatch(printed)
			if m == nil {
				b.Fatalf("no instruction count in callgrind's output:\n%s", printed)
			}
			instr[i], _ = strconv.ParseFloat(m[1], 64)
			runs[i] = r
		}
	}
	perRow := (instr[1] - instr[0]) / float64(runs[1].Rows-runs[0].Rows)
	b.ReportMetric(instr[0], fmt.Sprintf("instructions@%d", sizes[0]))
	b.ReportMetric(instr[1], fmt.Sprintf("instructions@%d", sizes[1]))
	b.ReportMetric(perRow, "instructions/row")
	for i := range runs {
		results.instr = append(results.instr, fmt.Sprintf("| %s | %d | %.3g |", runs[i].Name, runs[i].Rows, instr[i]))
	}
	results.instr = append(results.instr, fmt.Sprintf("| each row between them | | %.0f |", perRow))
}
