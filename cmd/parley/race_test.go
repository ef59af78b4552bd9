//go:build race

package main

// raceEnabled tells tests the race detector is on: the server binary they
// build gets it too.
const raceEnabled = true
