#!/usr/bin/env bash
# Runs each fuzz target of every package for FUZZTIME (make fuzz).
#
# The targets are found by reading the test files (func FuzzX(f *testing.F)),
# not by compiling every package's tests to ask them (go test -list). Each
# package that has targets is built once, instrumented for fuzzing
# (go test -c -fuzz=.), and its binary runs every target, in the package's
# folder as go test runs it, with go's own fuzz cache
# ($GOCACHE/fuzz/<import path>), so the corpus found so far carries over
# between runs and `go clean -fuzzcache` still clears it. The binary's own
# list of targets must equal the one read from the files: a target the
# reading missed (or that a build tag leaves out) fails the run rather than
# going unfuzzed.
#
# Go 1.26's fuzz coordinator can report a spurious "context deadline exceeded"
# failure exactly when a duration -fuzztime runs out (go.dev/issue/75804,
# fixed in Go 1.27): no input failed and none is written to testdata/fuzz.
# Such a run is retried once; a second one is reported and tolerated. Any
# other failure, and every failure that wrote a reproducer, fails at once.
set -euo pipefail
GO="${GO:-go}"
FUZZTIME="${FUZZTIME:-3s}"
cd "$(dirname "$0")/.."
module=$("$GO" list -m)
cache="$("$GO" env GOCACHE)/fuzz"
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT

# deadline_flake: the output is the coordinator's boundary race and nothing else.
deadline_flake() {
  ! grep -q 'Failing input written to' <<<"$1" &&
    grep -A1 -- '^--- FAIL: Fuzz' <<<"$1" | grep -qx '    context deadline exceeded'
}

# targets DIR: the fuzz targets declared in DIR's test files, sorted.
targets() {
  sed -nE 's/^func (Fuzz[A-Za-z0-9_]*)\([A-Za-z_][A-Za-z0-9_]* \*testing\.F\).*/\1/p' "$1"/*_test.go | sort -u
}

# Folders with a test file that declares a fuzz target; the go command skips
# testdata and folders whose names start with . or _, and so does this.
dirs=$(grep -rlE --include='*_test.go' '^func Fuzz' . |
  grep -vE '(^|/)(testdata|[._][^/]+)/' | xargs -r -n1 dirname | sed 's|^\./||' | sort -u)

for dir in $dirs; do
  pkg="$module/$dir"
  [ "$dir" = . ] && pkg=$module
  exe="$bin/$(tr / _ <<<"$dir").test"
  "$GO" test -c -fuzz=. -o "$exe" "./$dir"
  want=$(targets "$dir")
  got=$(cd "$dir" && "$exe" -test.list '^Fuzz' | grep '^Fuzz' | sort -u || true)
  if [ "$want" != "$got" ]; then
    echo "fuzz $pkg: the test files declare [$(echo $want)], the test binary has [$(echo $got)]" >&2
    exit 1
  fi
  for f in $want; do
    echo "fuzz $pkg $f"
    for attempt in 1 2; do
      if out=$(cd "$dir" && "$exe" -test.run='^$' -test.fuzz="^$f\$" -test.fuzztime="$FUZZTIME" \
        -test.fuzzcachedir="$cache/$pkg" 2>&1); then
        break
      fi
      if ! deadline_flake "$out"; then
        echo "$out"
        exit 1
      fi
      if [ "$attempt" = 1 ]; then
        echo "  $f: spurious deadline failure at the end of -fuzztime (go.dev/issue/75804); running it again"
      else
        echo "  $f: spurious deadline failure again; no input failed, so it is not counted"
      fi
    done
  done
done
