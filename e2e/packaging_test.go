package e2e

import (
	"bufio"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDockerfileBuildsAStaticBinary runs the build stage's `go build` line
// of the Dockerfile as written (there is no registry here to pull its base
// images from) and checks what the final stage relies on: the binary is
// static (the distroless image has no libc), carries the build's VERSION,
// and reads every HOOKD_* variable the image and the systemd unit set.
func TestDockerfileBuildsAStaticBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped with -short: rebuilds hookd with the Dockerfile's flags")
	}
	lines := fileLines(t, "../Dockerfile")
	var build string
	for _, l := range lines {
		if strings.HasPrefix(l, "RUN ") && strings.Contains(l, "go build") {
			build = strings.TrimPrefix(l, "RUN ")
		}
	}
	if build == "" || !strings.Contains(build, "-o /hookd") || !strings.Contains(build, "CGO_ENABLED=0") {
		t.Fatalf("no static `go build … -o /hookd` line in the Dockerfile: %q", build)
	}
	bin := filepath.Join(t.TempDir(), "hookd")
	build = strings.NewReplacer("${VERSION}", "v9.9.9-docker", "-o /hookd", "-o "+bin).Replace(build)
	cmd := exec.Command("sh", "-c", build)
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", build, err, out)
	}
	checkStatic(t, bin)
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "v9.9.9-docker") {
		t.Errorf("hookd version: %v %q; want the VERSION build argument", err, out)
	}
	help, err := exec.Command(bin, "serve", "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("serve --help: %v\n%s", err, help)
	}
	for _, name := range packagedVariables(t) {
		if !strings.Contains(string(help), "$"+name) {
			t.Errorf("the Dockerfile or hookd.service sets %s, which `hookd serve` does not read", name)
		}
	}
}

// checkStatic fails unless bin asks for no dynamic loader and no library.
func checkStatic(t *testing.T, bin string) {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s has a dynamic loader (PT_INTERP): not static", bin)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("%s needs %v: not static", bin, libs)
	}
}

// packagedVariables returns the HOOKD_* variables that the Dockerfile's ENV
// and the systemd unit's Environment= lines set.
func packagedVariables(t *testing.T) []string {
	t.Helper()
	re := regexp.MustCompile(`\b(HOOKD_[A-Z_]+)=`)
	var names []string
	for _, path := range []string{"../Dockerfile", "../packaging/hookd.service"} {
		for _, l := range fileLines(t, path) {
			if strings.HasPrefix(l, "ENV ") || strings.HasPrefix(l, "Environment=") {
				for _, m := range re.FindAllStringSubmatch(l, -1) {
					names = append(names, m[1])
				}
			}
		}
	}
	if len(names) < 4 {
		t.Fatalf("found only %v in the Dockerfile and hookd.service", names)
	}
	return names
}

func fileLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	for s := bufio.NewScanner(f); s.Scan(); {
		lines = append(lines, strings.TrimSpace(s.Text()))
	}
	return lines
}
