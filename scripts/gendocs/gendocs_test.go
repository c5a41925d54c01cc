package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The committed reference and man pages are what the programs' tables
// generate now: a key, command or flag added without make docs fails here.
func TestGeneratedDocsCurrent(t *testing.T) {
	for _, out := range outputs() {
		have, err := os.ReadFile(filepath.Join("..", "..", out.path))
		if err != nil {
			t.Fatalf("read %s: %v", out.path, err)
		}
		if !bytes.Equal(have, out.data) {
			t.Errorf("%s is stale: run make docs", out.path)
		}
	}
}

// Every key, command and flag appears in the pages generated.
func TestReferenceNamesEverything(t *testing.T) {
	md, dcc, srv := markdownReference(), dccManPage(), serverManPage()
	for _, want := range []string{"`remote_storage`", "`DCC_REMOTE_STORAGE`", "`fingerprint`", "`dcc install-links", "`--http ADDR:PORT`", "job_processes = 64", "`DCC_HOSTS`"} {
		if !strings.Contains(md, want) {
			t.Errorf("configuration.md lacks %s", want)
		}
	}
	for _, want := range []string{`.B dcc doctor`, `remote_storage_key`, `\-\-prometheus`} {
		if !strings.Contains(dcc, want) {
			t.Errorf("dcc.1 lacks %s", want)
		}
	}
	if !strings.Contains(srv, `.BI \-\-listen " ADDR:PORT"`) {
		t.Errorf("dcc-server.1 lacks --listen")
	}
}

// groff reads both man pages without a warning.
func TestManPagesFormat(t *testing.T) {
	groff, err := exec.LookPath("groff")
	if err != nil {
		t.Skip("groff not installed")
	}
	for _, page := range []string{dccManPage(), serverManPage()} {
		cmd := exec.Command(groff, "-man", "-ww", "-z")
		cmd.Stdin = strings.NewReader(page)
		out, err := cmd.CombinedOutput()
		if err != nil || len(out) > 0 {
			t.Errorf("groff: %v: %s", err, out)
		}
	}
}
