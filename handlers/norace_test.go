//go:build !race

package handlers_test

// raceEnabled tells tests that the race detector slows them down.
const raceEnabled = false
