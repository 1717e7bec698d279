//go:build race

package emulator

// raceEnabled scales the large-volume test down under the race detector.
const raceEnabled = true
