package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/parley/parley/handlers"
)

// version is set at link time by make build (-X main.version=…); a plain
// go build or go install leaves "dev", and the module version or VCS
// stamp from the build info then tells the build apart.
var version = "dev"

// commit is set at link time by make build; otherwise the VCS stamp of
// the build info, when go build recorded one, is used.
var commit = ""

// buildInfo describes this binary for `parley version` and /healthz.
func buildInfo() handlers.BuildInfo {
	b := handlers.BuildInfo{Version: version, Go: runtime.Version(), Commit: commit}
	if b.Commit == "" {
		b.Commit = "unknown"
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	if b.Version == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		b.Version = info.Main.Version
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			if commit == "" {
				b.Commit = s.Value
			}
		case "vcs.modified":
			if commit == "" && s.Value == "true" {
				b.Commit += "-dirty"
			}
		}
	}
	drivers := map[string]string{"modernc.org/sqlite": "sqlite", "github.com/jackc/pgx/v5": "postgres"}
	for _, d := range info.Deps {
		if name, ok := drivers[d.Path]; ok {
			b.Drivers = append(b.Drivers, name+" ("+d.Path+" "+d.Version+")")
		}
	}
	return b
}

func printVersion(w io.Writer) {
	b := buildInfo()
	fmt.Fprintf(w, "parley %s\ncommit %s\n%s\n", b.Version, b.Commit, b.Go)
	for _, d := range b.Drivers {
		fmt.Fprintf(w, "database driver: %s\n", d)
	}
}
