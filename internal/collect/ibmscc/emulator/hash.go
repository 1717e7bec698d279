package emulator

import "github.com/evidence-pack/evidence/internal/collect/emulatorkit"

// newKey is the root of the derivation tree every generated value comes
// from: a pure function of Config.Seed and a path of names and indices (see
// emulatorkit.Key). The salt keeps this emulator's data apart from the
// other emulators' for the same seed.
func newKey(seed int64) emulatorkit.Key { return emulatorkit.NewKey(seed, 0x69626d2d73636321) }
