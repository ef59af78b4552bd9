//go:build race

package schema_test

// raceDetector tells tests that the race detector slows everything down,
// the pure-Go SQLite driver most of all: timings mean nothing then.
const raceDetector = true
