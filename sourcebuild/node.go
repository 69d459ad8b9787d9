package sourcebuild

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// packageJSON is what the Node build reads of package.json.
type packageJSON struct {
	Main    string            `json:"main"`
	Scripts map[string]string `json:"scripts"`
	// The dependencies npm install installs, by kind; only whether there are any is read.
	Dependencies         map[string]json.RawMessage `json:"dependencies"`
	DevDependencies      map[string]json.RawMessage `json:"devDependencies"`
	OptionalDependencies map[string]json.RawMessage `json:"optionalDependencies"`
	PeerDependencies     map[string]json.RawMessage `json:"peerDependencies"`
}

// declaresDependencies reports whether package.json names any package for npm to install.
func (p packageJSON) declaresDependencies() bool {
	return len(p.Dependencies)+len(p.DevDependencies)+len(p.OptionalDependencies)+len(p.PeerDependencies) > 0
}

// generateNode writes the Node.js build: package.json and its lockfile are copied and the
// dependencies installed before the source, with npm's cache kept between builds. Without a build
// step it is one stage installing the production dependencies only. With one (a build script or
// Options.Build) a first stage installs every dependency, builds, then prunes the development ones,
// and the runtime stage copies the result, so that they do not stay in a layer of the image. When
// package.json declares no dependency of any kind and there is no lockfile, nothing is installed:
// the source is copied at once (and the image needs no npm unless a script runs it).
func generateNode(s *source) (string, error) {
	pkg, err := s.readPackageJSON()
	if err != nil {
		return "", err
	}
	command, err := s.nodeStart(pkg)
	if err != nil {
		return "", err
	}
	manifests := "package.json"
	lockfile := s.firstExisting("package-lock.json", "npm-shrinkwrap.json")
	if lockfile != "" {
		manifests += " " + lockfile
	}
	install := func(omitDev bool) string {
		verb := "install"
		if lockfile != "" {
			verb = "ci"
		}
		if omitDev {
			verb += " --omit=dev"
		}
		return "RUN --mount=type=cache,target=/root/.npm npm " + verb
	}
	build := s.opts.Build
	hasBuild := build != "" || pkg.Scripts["build"] != ""

	var d dockerfile
	d.header(Node, s.reason)
	if hasBuild {
		d.line("FROM %s AS build", s.images.Node)
	} else {
		d.line("FROM %s", s.images.Node)
	}
	d.line("WORKDIR /app")
	dependencies := lockfile != "" || pkg.declaresDependencies()
	switch {
	case !dependencies:
		d.comment("package.json declares no dependencies and there is no lockfile: nothing to install.")
	case lockfile != "":
		d.comment("The dependencies first: a commit that changes neither package.json nor " + lockfile + " reuses this layer.")
	default:
		d.comment("The dependencies first: a commit that does not change package.json reuses this layer.")
	}
	if dependencies {
		d.line("COPY %s ./", manifests)
		d.line("%s", install(!hasBuild))
	}
	d.line("COPY . .")
	if hasBuild {
		if build == "" {
			d.line("RUN npm run build")
		} else {
			d.run("", build)
		}
		if dependencies {
			d.line("RUN npm prune --omit=dev")
		}
		d.blank()
		d.line("FROM %s", s.images.Node)
		d.line("WORKDIR /app")
		d.line("COPY --from=build /app ./")
	}
	d.line("ENV NODE_ENV=production")
	d.listen("node", command)
	return d.String(), nil
}

// readPackageJSON reads package.json at the context's root: an *Error (Field "package.json") when
// it is missing or does not parse.
func (s *source) readPackageJSON() (packageJSON, error) {
	var pkg packageJSON
	data, err := s.root.ReadFile("package.json")
	if errors.Is(err, fs.ErrNotExist) {
		return pkg, invalid("package.json", "a Node.js source needs a package.json at the context's root (npm init)")
	}
	if err != nil {
		return pkg, fmt.Errorf("reading package.json: %w", err)
	}
	if err := json.Unmarshal(data, &pkg); err != nil {
		return pkg, invalid("package.json", "package.json does not parse: "+err.Error())
	}
	return pkg, nil
}

// nodeStart returns the CMD line of a Node.js image: Options.Start, else npm start when
// package.json has a start script, else node and package.json's main when it names a file or
// directory of the context, else node and the first of server.js, index.js and app.js there.
func (s *source) nodeStart(pkg packageJSON) (string, error) {
	if s.opts.Start != "" {
		return shellCommand(s.opts.Start), nil
	}
	if pkg.Scripts["start"] != "" {
		return `CMD ["npm","start"]`, nil
	}
	if pkg.Main != "" {
		main := path.Clean(pkg.Main)
		if s.exists(main, true) || s.exists(main+".js", false) {
			if strings.HasPrefix(main, "-") {
				main = "./" + main
			}
			return "CMD " + execForm("node", main), nil
		}
	}
	if f := s.firstExisting("server.js", "index.js", "app.js"); f != "" {
		return "CMD " + execForm("node", f), nil
	}
	return "", invalid("start", `nothing to start: add a "start" script or "main" to package.json, a server.js, index.js or app.js, or set the start command`)
}
