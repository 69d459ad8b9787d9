package sourcebuild

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// generatePython writes the Python build, one stage: requirements.txt is copied and installed
// before the source, so that its layer is reused while it does not change. A project described by
// pyproject.toml or setup.py is installed with pip install . after the source is copied.
func generatePython(s *source) (string, error) {
	command, err := s.pythonStart()
	if err != nil {
		return "", err
	}
	requirements := s.exists("requirements.txt", false)
	selfContained := true
	if requirements {
		if selfContained, err = s.requirementsSelfContained(); err != nil {
			return "", err
		}
	}
	project := s.firstExisting("pyproject.toml", "setup.py")

	var d dockerfile
	d.header(Python, s.reason)
	d.line("FROM %s", s.images.Python)
	d.line("WORKDIR /app")
	d.line("ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1")
	switch {
	case requirements && selfContained:
		d.comment("The requirements first: a commit that does not change requirements.txt reuses this layer.")
		d.line("COPY requirements.txt ./")
		d.line("RUN pip install -r requirements.txt")
		d.line("COPY . .")
	case requirements:
		d.comment("requirements.txt names other files of the source, so the source is copied before it is",
			"installed: every commit reinstalls the requirements.")
		d.line("COPY . .")
		d.line("RUN pip install -r requirements.txt")
	case project != "":
		d.comment(project+" installs the project itself, so its dependencies cannot be installed before the",
			"source is copied: every commit reinstalls them. A requirements.txt would be installed first and cached.")
		d.line("COPY . .")
		d.line("RUN pip install .")
	default:
		d.line("COPY . .")
	}
	if s.opts.Build != "" {
		d.run("", s.opts.Build)
	}
	d.listen("65532:65532", command)
	return d.String(), nil
}

// requirementsSelfContained reports whether requirements.txt can be installed without the rest of
// the source: whether none of its lines includes another file (-r, -c), an editable project (-e) or
// a local path.
func (s *source) requirementsSelfContained() (bool, error) {
	data, err := s.root.ReadFile("requirements.txt")
	if err != nil {
		return false, fmt.Errorf("reading requirements.txt: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		for _, p := range []string{"-r", "-c", "-e", "--requirement", "--constraint", "--editable", ".", "/", "file:"} {
			if strings.HasPrefix(l, p) {
				return false, nil
			}
		}
	}
	if err := sc.Err(); err != nil {
		return false, fmt.Errorf("reading requirements.txt: %w", err)
	}
	return true, nil
}

// pythonStart returns the CMD line of a Python image: Options.Start, else the Procfile's web
// process, else python and the first of app.py, main.py and server.py at the context's root.
func (s *source) pythonStart() (string, error) {
	if s.opts.Start != "" {
		return shellCommand(s.opts.Start), nil
	}
	web, err := s.procfileWeb()
	if err != nil {
		return "", err
	}
	if web != "" {
		return shellCommand(web), nil
	}
	if f := s.firstExisting("app.py", "main.py", "server.py"); f != "" {
		return "CMD " + execForm("python", f), nil
	}
	return "", invalid("start", "nothing to start: add a Procfile with a web: line, an app.py, main.py or server.py, or set the start command")
}

// procfileWeb returns the command of the web process in the Procfile at the context's root, ""
// when there is no Procfile or it has no web process.
func (s *source) procfileWeb() (string, error) {
	data, err := s.root.ReadFile("Procfile")
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading the Procfile: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		name, command, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(name) == "web" {
			return strings.TrimSpace(command), nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("reading the Procfile: %w", err)
	}
	return "", nil
}
