// Package emulatorkit is the machinery the in-process API emulators
// (internal/collect/*/emulator) share: seeded deterministic derivation of
// generated values (Key, Rng), the request log with its in-flight tracking
// (Entry, Log), the injected-fault cadence (FaultCounter), Retry-After
// blocks (Blocks), connection drops (Log.Drop) and a buffer pool.
//
// It is test infrastructure: it knows nothing of any API, and no client
// package may be imported here. Paging, authentication, error bodies and
// every other API-specific behaviour stay in each emulator.
package emulatorkit
