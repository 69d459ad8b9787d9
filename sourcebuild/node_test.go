package sourcebuild_test

import (
	"testing"

	"github.com/slipway-dev/slipway/sourcebuild"
)

func TestGenerateNode(t *testing.T) {
	const (
		install     = "RUN --mount=type=cache,target=/root/.npm npm install --omit=dev"
		installAll  = "RUN --mount=type=cache,target=/root/.npm npm install"
		ci          = "RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev"
		ciAll       = "RUN --mount=type=cache,target=/root/.npm npm ci"
		npmStart    = `CMD ["npm","start"]`
		runBuild    = "RUN npm run build"
		prune       = "RUN npm prune --omit=dev"
		copyRuntime = "COPY --from=build /app ./"
	)
	for _, tc := range []struct {
		name   string
		files  map[string]string
		opts   sourcebuild.Options
		stages int
		lines  []string // in order
		absent []string
		cmd    string
	}{
		{
			name:   "start script, package-lock.json",
			files:  map[string]string{"package.json": `{"scripts":{"start":"node server.js"}}`, "package-lock.json": "{}", "server.js": ""},
			stages: 1,
			lines:  []string{"FROM node:22-slim", "WORKDIR /app", "COPY package.json package-lock.json ./", ci, "COPY . .", "ENV NODE_ENV=production"},
			absent: []string{runBuild, prune, copyRuntime},
			cmd:    npmStart,
		},
		{
			name:   "npm-shrinkwrap.json",
			files:  map[string]string{"package.json": `{"scripts":{"start":"x"}}`, "npm-shrinkwrap.json": "{}"},
			stages: 1,
			lines:  []string{"COPY package.json npm-shrinkwrap.json ./", ci, "COPY . ."},
			cmd:    npmStart,
		},
		{
			name:   "no lockfile",
			files:  map[string]string{"package.json": `{"scripts":{"start":"x"},"dependencies":{"express":"^4"}}`, "yarn.lock": ""},
			stages: 1,
			lines:  []string{"COPY package.json ./", install, "COPY . ."},
			cmd:    npmStart,
		},
		{
			name:   "build script: dependencies with the development ones, pruned after the build",
			files:  map[string]string{"package.json": `{"scripts":{"build":"tsc","start":"node dist/server.js"}}`, "package-lock.json": "{}"},
			stages: 2,
			lines: []string{"FROM node:22-slim AS build", "COPY package.json package-lock.json ./", ciAll, "COPY . .", runBuild, prune,
				"FROM node:22-slim", "WORKDIR /app", copyRuntime, "ENV NODE_ENV=production"},
			absent: []string{ci},
			cmd:    npmStart,
		},
		{
			name:   "build override without a build script",
			files:  map[string]string{"package.json": `{"main":"server.js","devDependencies":{"esbuild":"0.25"}}`, "server.js": ""},
			opts:   sourcebuild.Options{Build: `npx esbuild server.js --outfile="dist/it's.js"`},
			stages: 2,
			lines:  []string{"COPY package.json ./", installAll, "COPY . .", `RUN ["/bin/sh","-c","npx esbuild server.js --outfile=\"dist/it's.js\""]`, prune, copyRuntime},
			absent: []string{runBuild},
			cmd:    `CMD ["node","server.js"]`,
		},
		{
			name:   "no dependencies and no lockfile: nothing to install",
			files:  map[string]string{"package.json": `{"name":"hello","dependencies":{},"scripts":{"start":"node server.js"}}`, "server.js": ""},
			stages: 1,
			lines:  []string{"FROM node:22-slim", "WORKDIR /app", "# package.json declares no dependencies and there is no lockfile: nothing to install.", "COPY . .", "ENV NODE_ENV=production"},
			absent: []string{install, installAll, ci, "COPY package.json ./"},
			cmd:    npmStart,
		},
		{
			name:   "no dependencies with a build script: built, nothing to prune",
			files:  map[string]string{"package.json": `{"scripts":{"build":"node build.js","start":"node dist/server.js"}}`},
			stages: 2,
			lines:  []string{"FROM node:22-slim AS build", "COPY . .", runBuild, "FROM node:22-slim", copyRuntime},
			absent: []string{installAll, prune, "COPY package.json ./"},
			cmd:    npmStart,
		},
		{
			name:   "no dependencies but a lockfile",
			files:  map[string]string{"package.json": `{"scripts":{"start":"x"}}`, "package-lock.json": "{}"},
			stages: 1,
			lines:  []string{"COPY package.json package-lock.json ./", ci, "COPY . ."},
			cmd:    npmStart,
		},
		{
			name:   "optional dependencies only",
			files:  map[string]string{"package.json": `{"scripts":{"start":"x"},"optionalDependencies":{"fsevents":"*"}}`},
			stages: 1,
			lines:  []string{"COPY package.json ./", install, "COPY . ."},
			cmd:    npmStart,
		},
		{
			name:   "peer dependencies only",
			files:  map[string]string{"package.json": `{"scripts":{"start":"x"},"peerDependencies":{"react":"^19"}}`},
			stages: 1,
			lines:  []string{"COPY package.json ./", install, "COPY . ."},
			cmd:    npmStart,
		},
		{
			name:   "empty build script",
			files:  map[string]string{"package.json": `{"scripts":{"build":"","start":"x"}}`},
			stages: 1,
			absent: []string{runBuild},
			cmd:    npmStart,
		},
		{
			name:   "main",
			files:  map[string]string{"package.json": `{"main":"lib/main.js"}`, "lib/main.js": "", "index.js": ""},
			stages: 1,
			cmd:    `CMD ["node","lib/main.js"]`,
		},
		{
			name:   "main without .js",
			files:  map[string]string{"package.json": `{"main":"./lib/main"}`, "lib/main.js": ""},
			stages: 1,
			cmd:    `CMD ["node","lib/main"]`,
		},
		{
			name:   "main that is missing falls back to the usual files",
			files:  map[string]string{"package.json": `{"main":"index.js"}`, "app.js": ""},
			stages: 1,
			cmd:    `CMD ["node","app.js"]`,
		},
		{
			name:   "server.js before index.js and app.js",
			files:  map[string]string{"package.json": `{}`, "server.js": "", "index.js": "", "app.js": ""},
			stages: 1,
			cmd:    `CMD ["node","server.js"]`,
		},
		{
			name:   "index.js",
			files:  map[string]string{"package.json": `{"scripts":{"test":"x"}}`, "index.js": "", "app.js": ""},
			stages: 1,
			cmd:    `CMD ["node","index.js"]`,
		},
		{
			name:   "start override",
			files:  map[string]string{"package.json": `{"scripts":{"start":"x"}}`},
			opts:   sourcebuild.Options{Start: `node --enable-source-maps "dist/main.js"`},
			stages: 1,
			cmd:    `CMD ["/bin/sh","-c","node --enable-source-maps \"dist/main.js\""]`,
		},
		{
			name:   "version and image",
			files:  map[string]string{"package.json": `{"scripts":{"build":"b","start":"x"}}`},
			opts:   sourcebuild.Options{Version: "20", Images: sourcebuild.Images{Node: "mirror.example.com:5000/library/node:22-bookworm-slim"}},
			stages: 2,
			lines:  []string{"FROM mirror.example.com:5000/library/node:20-bookworm-slim AS build", "FROM mirror.example.com:5000/library/node:20-bookworm-slim"},
			cmd:    npmStart,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan := generate(t, tc.files, tc.opts)
			df := plan.Dockerfile
			if tc.opts.Language == "" && plan.Language != sourcebuild.Node {
				t.Errorf("language %q", plan.Language)
			}
			inOrder(t, df, append([]string{"# generated by slipway for node (package.json at the context's root); add a Dockerfile to build your own"}, tc.lines...)...)
			noLine(t, df, tc.absent...)
			lastLines(t, df, "ENV PORT=8080", "EXPOSE 8080", "USER node", tc.cmd)
			parse(t, df, tc.stages)
		})
	}
}

func TestGenerateNodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		opts  sourcebuild.Options
		field string
		words []string
	}{
		{"package.json that does not parse", map[string]string{"package.json": `{"scripts":`, "index.js": ""}, sourcebuild.Options{}, "package.json", []string{"does not parse"}},
		{"scripts not strings", map[string]string{"package.json": `{"scripts":{"start":1}}`}, sourcebuild.Options{}, "package.json", nil},
		{"package.json an array", map[string]string{"package.json": `[]`}, sourcebuild.Options{}, "package.json", nil},
		{"nothing to start", map[string]string{"package.json": `{"scripts":{"build":"tsc"}}`, "src/index.js": ""}, sourcebuild.Options{}, "start", []string{`"start" script`, "main", "server.js", "start command"}},
		{"no package.json", map[string]string{"index.js": ""}, sourcebuild.Options{Language: sourcebuild.Node}, "package.json", []string{"needs a package.json"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sourcebuild.Generate(tree(t, tc.files), tc.opts)
			wantError(t, err, tc.field, tc.words...)
		})
	}
}
