package baseimages

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// libraryDirs are where the dynamic loader of a Debian amd64 system looks for a library with no
// ld.so.cache, in the order sharedLibraries searches them: an image holding a library at the path it
// was found at here loads it the same way.
var libraryDirs = []string{
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib",
}

// sharedLibraries finds what ELF files of this machine load when they run: their interpreter
// (PT_INTERP) and the libraries they name (DT_NEEDED), then the libraries those name, and so on. It
// reads the files with debug/elf and runs nothing.
type sharedLibraries struct {
	dirs  []string
	found map[string]string // path in the image → path of this machine
	seen  map[string]bool   // library names resolved or given up on
}

func newSharedLibraries() *sharedLibraries {
	return &sharedLibraries{dirs: libraryDirs, found: map[string]string{}, seen: map[string]bool{}}
}

// add adds the closure of the ELF file at file. A library that none of the directories holds is an
// error when required is true, and is left out otherwise: an extension module a program may never
// import (python's _tkinter without Tk) should not stop its image from being made.
func (s *sharedLibraries) add(file string, required bool) error {
	f, err := elf.Open(file)
	if err != nil {
		return fmt.Errorf("reading ELF file %s: %w", file, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type != elf.PT_INTERP {
			continue
		}
		b := make([]byte, p.Filesz)
		if _, err := p.ReadAt(b, 0); err != nil {
			return fmt.Errorf("reading the interpreter of %s: %w", file, err)
		}
		interp := string(bytes.TrimRight(b, "\x00"))
		if _, err := os.Stat(interp); err != nil {
			return fmt.Errorf("the interpreter of %s: %w", file, err)
		}
		s.found[strings.TrimPrefix(interp, "/")] = interp
		s.seen[path.Base(interp)] = true // it loads itself, by that name too
	}
	needed, err := f.ImportedLibraries()
	if err != nil {
		return fmt.Errorf("reading the libraries %s needs: %w", file, err)
	}
	dirs := s.searchPath(f, file)
	for _, lib := range needed {
		if s.seen[lib] {
			continue
		}
		s.seen[lib] = true
		at := lookup(lib, dirs)
		if at == "" {
			if required {
				return fmt.Errorf("%s needs %s, which none of %s holds", file, lib, strings.Join(dirs, ", "))
			}
			continue
		}
		s.found[strings.TrimPrefix(at, "/")] = at
		if err := s.add(at, required); err != nil {
			return err
		}
	}
	return nil
}

// searchPath returns the directories a library of f is looked for in: f's DT_RUNPATH or DT_RPATH
// ($ORIGIN being file's directory), then libraryDirs.
func (s *sharedLibraries) searchPath(f *elf.File, file string) []string {
	var dirs []string
	for _, tag := range []elf.DynTag{elf.DT_RUNPATH, elf.DT_RPATH} {
		paths, err := f.DynString(tag)
		if err != nil {
			continue
		}
		for _, p := range paths {
			for _, d := range strings.Split(p, ":") {
				d = strings.ReplaceAll(strings.ReplaceAll(d, "${ORIGIN}", "$ORIGIN"), "$ORIGIN", filepath.Dir(file))
				if filepath.IsAbs(d) {
					dirs = append(dirs, filepath.Clean(d))
				}
			}
		}
	}
	return append(dirs, s.dirs...)
}

// lookup returns the path of the first of dirs holding the regular file (or a symlink to one) lib, ""
// when none does.
func lookup(lib string, dirs []string) string {
	for _, d := range dirs {
		p := filepath.Join(d, lib)
		if info, err := os.Stat(p); err == nil && info.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// addTo copies every library found into r at the path it was found at, symlinks followed.
func (s *sharedLibraries) addTo(r *rootfs) error {
	for name, src := range s.found {
		if err := r.copyFile(name, src); err != nil {
			return err
		}
	}
	return nil
}
