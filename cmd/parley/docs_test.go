package main

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// docBlock is a fenced ```sh block of a document and the ```output block
// that follows it, if any.
type docBlock struct {
	line   int
	code   string
	norun  bool
	output *string
}

// docBlocks reads the shell examples of a Markdown file. A block fenced
// ```sh runs; ```sh norun is shown but not run (it needs what a test
// cannot have, such as a second machine); an ```output block right after
// one is what it must print, where "..." stands for any text.
func docBlocks(t *testing.T, path string) []docBlock {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []docBlock
	lines := strings.Split(string(b), "\n")
	for i := 0; i < len(lines); i++ {
		info, ok := strings.CutPrefix(lines[i], "```")
		if !ok {
			continue
		}
		start := i
		var body []string
		for i++; i < len(lines) && lines[i] != "```"; i++ {
			body = append(body, lines[i])
		}
		text := strings.Join(body, "\n") + "\n"
		fields := strings.Fields(info)
		switch {
		case len(fields) > 0 && fields[0] == "sh":
			out = append(out, docBlock{line: start + 1, code: text, norun: len(fields) > 1 && fields[1] == "norun"})
		case info == "output":
			if len(out) == 0 || out[len(out)-1].output != nil || !onlyBlank(lines[out[len(out)-1].line:start], out[len(out)-1]) {
				t.Fatalf("%s:%d: an output block must follow a sh block", path, start+1)
			}
			out[len(out)-1].output = &text
		}
	}
	return out
}

// onlyBlank tells whether nothing but blank lines separate a sh block's
// closing fence from the next fence.
func onlyBlank(lines []string, b docBlock) bool {
	closing := strings.Count(b.code, "\n") + 1 // the lines of the code and its closing fence
	if closing > len(lines) {
		return false
	}
	for _, l := range lines[closing:] {
		if strings.TrimSpace(l) != "" {
			return false
		}
	}
	return true
}

// matchOutput compares what a block printed with what the document shows,
// line by line without trailing spaces: "..." within a line matches any
// text on that line, a line of just "..." any number of lines.
func matchOutput(want, got string) bool {
	lines := func(s string) []string {
		var ls []string
		for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
			ls = append(ls, strings.TrimRight(l, " \t"))
		}
		return ls
	}
	var re strings.Builder
	re.WriteString(`\A`)
	for _, l := range lines(want) {
		if l == "..." {
			re.WriteString(`(?:[^\n]*\n)*?`)
			continue
		}
		parts := strings.Split(l, "...")
		for i, p := range parts {
			parts[i] = regexp.QuoteMeta(p)
		}
		re.WriteString(strings.Join(parts, `[^\n]*?`) + `\n`)
	}
	re.WriteString(`\z`)
	return regexp.MustCompile(re.String()).MatchString(strings.Join(lines(got), "\n") + "\n")
}

func TestMatchOutput(t *testing.T) {
	for _, c := range []struct {
		want, got string
		ok        bool
	}{
		{"a\nb\n", "a\nb", true},
		{`{"id":...,"ok":true}`, `{"id":12,"ok":true}`, true},
		{`{"id":...,"ok":true}`, `{"id":12,"ok":false}`, false},
		{"first\n...\nlast", "first\nx\ny\nlast\n", true},
		{"first\n...\nlast", "first\nlast\n", true},
		{"a...\n...", "abc\n", true},
		{"a...c", "ab\nc", false},
		{"exact", "exactly", false},
	} {
		if matchOutput(c.want, c.got) != c.ok {
			t.Errorf("matchOutput(%q, %q) != %v", c.want, c.got, c.ok)
		}
	}
}

// The shell examples of README.md and docs/*.md run, in order, against a
// fresh server as `make run ARGS=-captcha-test` starts it, with the built
// binary on the PATH, and print what the documents show.
func TestDocsRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs every example")
	}
	for _, tool := range []string{"bash", "curl", "jq", "sed", "grep", "sqlite3"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is required in CI", tool)
			}
			t.Skipf("no %s: the examples use it", tool)
		}
	}
	bin := filepath.Join(t.TempDir(), "bin")
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "parley"), ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	checkStatic(t, filepath.Join(bin, "parley"))
	docs, _ := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	files := append([]string{filepath.Join("..", "..", "README.md")}, docs...)
	ran := 0
	for _, f := range files {
		blocks := docBlocks(t, f)
		runnable := 0
		for _, b := range blocks {
			if !b.norun {
				runnable++
			}
		}
		if runnable == 0 {
			continue
		}
		ran += runnable
		name := strings.TrimPrefix(f, filepath.Join("..", "..")+string(filepath.Separator))
		t.Run(name, func(t *testing.T) { runDoc(t, name, bin, blocks) })
	}
	if ran < 10 {
		t.Fatalf("only %d examples ran: the extraction is broken", ran)
	}
}

const blockMark = "::parley-doc-block "

func runDoc(t *testing.T, name, bin string, blocks []docBlock) {
	dir := t.TempDir()
	env := append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "HOME="+dir)
	for i, kv := range env {
		if strings.HasPrefix(kv, "PARLEY_") {
			env[i] = "IGNORED_" + kv
		}
	}
	// make run ARGS=-captcha-test, on a free port.
	ctx, cancel := context.WithCancel(context.Background())
	srv := exec.CommandContext(ctx, filepath.Join(bin, "parley"), "serve", "-db", "./parley.db", "-addr", "127.0.0.1:0", "-demo", "-captcha-test")
	srv.Dir, srv.Env = dir, env
	srv.Cancel = func() error { return srv.Process.Signal(os.Interrupt) }
	stdout, _ := srv.StdoutPipe()
	var logs syncBuffer // written by the server's stderr copier while read here
	srv.Stderr = &logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		srv.Wait()
	})
	addr := ""
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "parley listening on http://"); ok {
			addr = u
			break
		}
	}
	go io.Copy(io.Discard, stdout)
	if addr == "" {
		t.Fatalf("the server did not start:\n%s", logs.String())
	}
	local := func(s string) string { return strings.ReplaceAll(s, "127.0.0.1:8080", addr) }

	var script strings.Builder
	script.WriteString("set -eo pipefail\n")
	for i, b := range blocks {
		if b.norun {
			continue
		}
		fmt.Fprintf(&script, "printf '\\n%s%d\\n'\n%s", blockMark, i, local(b.code))
	}
	runCtx, stop := context.WithTimeout(context.Background(), 2*time.Minute)
	defer stop()
	sh := exec.CommandContext(runCtx, "bash", "-c", script.String())
	sh.Dir, sh.Env = dir, env
	out, err := sh.CombinedOutput()

	// Split the output at the marks: outputs[i] is block i's.
	outputs := map[int]string{}
	last := -1
	for _, l := range strings.Split(string(out), "\n") {
		if m, ok := strings.CutPrefix(l, blockMark); ok {
			fmt.Sscanf(m, "%d", &last)
			continue
		}
		if last >= 0 {
			outputs[last] += l + "\n"
		}
	}
	if err != nil {
		b := blocks[max(last, 0)]
		t.Fatalf("%s:%d: the example failed (%v):\n%s\nit printed:\n%s\nserver log:\n%s", name, b.line, err, b.code, outputs[last], tail(logs.String(), 2000))
	}
	for i, b := range blocks {
		if b.norun || b.output == nil {
			continue
		}
		if got := outputs[i]; !matchOutput(local(*b.output), got) {
			t.Errorf("%s:%d: the example printed\n%s\nwhere the document shows\n%s", name, b.line, got, *b.output)
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// checkStatic checks what the README says of make build: the binary,
// built as the Makefile builds it, links no shared library.
func checkStatic(t *testing.T, path string) {
	t.Helper()
	mk, err := os.ReadFile(filepath.Join("..", "..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^build:\n(\t.*\n)*\tCGO_ENABLED=0 \$\(GO\) build`).Match(mk) {
		t.Fatal("make build no longer sets CGO_ENABLED=0: correct the README's claim of a static binary")
	}
	f, err := elf.Open(path)
	if err != nil {
		t.Skipf("not an ELF binary (%v): nothing to check", err)
	}
	defer f.Close()
	libs, _ := f.ImportedLibraries()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			libs = append(libs, "an interpreter")
		}
	}
	if len(libs) > 0 {
		t.Fatalf("the binary needs %v: it is not static", libs)
	}
}

// syncBuffer is a bytes.Buffer safe to read while another goroutine writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
