//go:build race

package moderation_test

// raceDetector tells tests that the race detector slows everything down,
// the pure-Go SQLite driver most of all.
const raceDetector = true
