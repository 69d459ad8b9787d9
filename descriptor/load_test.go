package descriptor

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// write creates the files under dir, with their directories.
func write(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func TestLoad(t *testing.T) {
	const valid = "endpoints: [{name: web, port: 8080, type: REST}]\n"
	web := Descriptor{Endpoints: []Endpoint{{Name: "web", Port: 8080, Type: REST, BasePath: "/", Visibility: Public}}}
	tests := []struct {
		name    string
		setup   func(t *testing.T, root, outside string)
		want    Descriptor
		found   bool
		wantErr string // empty: no error; else the error, which must match ErrInvalid
	}{
		{"no descriptor", func(t *testing.T, root, outside string) {}, Descriptor{}, false, ""},
		{"no .slipway file in .slipway", func(t *testing.T, root, outside string) {
			write(t, root, map[string]string{".slipway/other.yaml": valid})
		}, Descriptor{}, false, ""},
		{"valid", func(t *testing.T, root, outside string) {
			write(t, root, map[string]string{Path: valid})
		}, web, true, ""},
		{"invalid", func(t *testing.T, root, outside string) {
			write(t, root, map[string]string{Path: "endpoints: [{name: web, port: 0, type: REST}]\n"})
		}, Descriptor{}, true, Path + ":1: endpoints[0].port: must be between 1 and 65535, got 0"},
		{"symlink inside the repository", func(t *testing.T, root, outside string) {
			write(t, root, map[string]string{"deploy/component.yaml": valid})
			symlink(t, "../deploy/component.yaml", filepath.Join(root, Path))
		}, web, true, ""},
		{"symlink leaving the repository", func(t *testing.T, root, outside string) {
			write(t, outside, map[string]string{"component.yaml": valid})
			symlink(t, filepath.Join(outside, "component.yaml"), filepath.Join(root, Path))
		}, Descriptor{}, false, Path + ": leads out of the repository"},
		{"relative symlink leaving the repository", func(t *testing.T, root, outside string) {
			write(t, outside, map[string]string{"component.yaml": valid})
			rel, err := filepath.Rel(filepath.Join(root, ".slipway"), filepath.Join(outside, "component.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			symlink(t, rel, filepath.Join(root, Path))
		}, Descriptor{}, false, Path + ": leads out of the repository"},
		{".slipway a symlink leaving the repository", func(t *testing.T, root, outside string) {
			write(t, outside, map[string]string{"component.yaml": valid})
			symlink(t, outside, filepath.Join(root, ".slipway"))
		}, Descriptor{}, false, Path + ": leads out of the repository"},
		{"dangling symlink leaving the repository", func(t *testing.T, root, outside string) {
			symlink(t, filepath.Join(outside, "missing.yaml"), filepath.Join(root, Path))
		}, Descriptor{}, false, Path + ": leads out of the repository"},
		{"a directory", func(t *testing.T, root, outside string) {
			if err := os.MkdirAll(filepath.Join(root, Path), 0o755); err != nil {
				t.Fatal(err)
			}
		}, Descriptor{}, false, Path + ": is not a regular file"},
		{"too large", func(t *testing.T, root, outside string) {
			write(t, root, map[string]string{Path: strings.Repeat("#", MaxSize+1)})
		}, Descriptor{}, false, Path + ": is 1048577 bytes, more than the limit of 1048576"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, outside := t.TempDir(), t.TempDir()
			tt.setup(t, root, outside)
			d, found, err := Load(root)
			if tt.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr || !errors.Is(err, ErrInvalid) {
					t.Fatalf("error %v (ErrInvalid: %t), want %q matching ErrInvalid", err, errors.Is(err, ErrInvalid), tt.wantErr)
				}
			}
			if found != tt.found || !reflect.DeepEqual(d, tt.want) {
				t.Fatalf("got %+v, %t; want %+v, %t", d, found, tt.want, tt.found)
			}
		})
	}
}

func TestLoadMissingRoot(t *testing.T) {
	_, _, err := Load(filepath.Join(t.TempDir(), "gone"))
	if err == nil || errors.Is(err, ErrInvalid) {
		t.Fatalf("error %v, want an I/O error that is not ErrInvalid", err)
	}
}

// TestExampleHello checks the descriptor and API spec of the example in examples/hello.
func TestExampleHello(t *testing.T) {
	root := filepath.Join("..", "examples", "hello")
	d, found, err := Load(root)
	if err != nil || !found {
		t.Fatalf("Load(%s) = %t, %v", root, found, err)
	}
	want := Descriptor{
		Endpoints: []Endpoint{{Name: "web", Port: 8080, Type: REST, BasePath: "/", SchemaFilePath: "openapi.yaml", Visibility: Public}},
		Health: Health{Readiness: &Probe{
			HTTP:          &HTTPProbe{Path: "/healthz", Port: 8080},
			PeriodSeconds: 10, TimeoutSeconds: 1, FailureThreshold: 3,
		}},
		Required: Required{
			Configs: []Requirement{{Name: "GREETING", Env: "GREETING"}},
			Secrets: []Requirement{{Name: "API_TOKEN", Env: "API_TOKEN"}},
		},
	}
	if !reflect.DeepEqual(d, want) {
		t.Fatalf("\n got %+v\nwant %+v", d, want)
	}
	specs, err := Specs(root, d)
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) != 1 || specs[0].Endpoint != "web" || specs[0].Path != "openapi.yaml" || specs[0].Format != OpenAPI3 {
		t.Fatalf("specs %+v", specs)
	}
	if !strings.Contains(string(specs[0].JSON), `"/healthz"`) {
		t.Errorf("spec JSON has no /healthz: %s", specs[0].JSON)
	}
}
