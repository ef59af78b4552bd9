//go:build race

package handlers_test

// raceEnabled tells tests that the race detector slows them down: the
// pure-Go SQLite driver, instrumented, runs an order of magnitude slower.
const raceEnabled = true
