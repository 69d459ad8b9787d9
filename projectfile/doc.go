// Package projectfile holds slipway's "projects as code": the slipway.yaml format, its parsing with precise
// errors, the diff of a file against a running install, applying that diff through the REST API, and exporting
// an install into the same format. It backs `slipway apply -f slipway.yaml [--dry-run] [--prune]` and
// `slipway export [project...]`.
//
// The format:
//
//	apiVersion: slipway.dev/v1
//	projects:
//	  - name: shop
//	    scanPolicy: {failOn: HIGH, allowSecrets: false, requireVulnDB: false}
//	    environments:            # in promotion order
//	      - name: development
//	      - name: staging
//	        replicas: 2
//	        cpus: 0.5            # in steps of 0.001
//	        memoryBytes: 268435456
//	        deployTimeoutSeconds: 300
//	      - name: production
//	        production: true
//	        dataPlane: docker    # or kubernetes, with kubernetes: {context, inCluster, namespace,
//	                             # ingressNamespaces, maxSurge, maxUnavailable}
//	    components:
//	      - name: hello
//	        repo: file:///tmp/hello
//	        branch: main         # the API's defaults: main, Dockerfile, .
//	        dockerfile: Dockerfile
//	        context: .
//	        paths: [src/, Dockerfile]
//	        autoBuild: false
//	        autoDeploy: true
//	        configs:             # non-secret configs, per environment
//	          development: {GREETING: hello from development}
//	        secrets:             # the keys of the secrets that must be set, never their values
//	          production: [API_TOKEN]
//
// A field the file leaves out is the API's default (a component without branch builds main, an environment
// without replicas runs one): applying a file makes the install say what it says, so applying it twice
// changes nothing the second time, and Export then Apply changes nothing.
//
// What applying a file does and does not touch:
//   - Only the projects the file names; never another project, even with Prune.
//   - A new project comes with the API's development and production (flagged production) environments; the
//     file's environments are created, put in the file's order and set as it says. Environments the file leaves
//     out stay, after the declared ones: the API cannot delete environments, so not even Prune does.
//   - Without Options.Prune nothing is deleted. With it, inside the named projects, the components and the
//     non-secret configs the file does not declare are deleted (a component still deploying makes the API
//     answer 409).
//   - Secrets are never written, changed or deleted: the file lists the keys that must be set, and the plan
//     warns about each that is not ("! secret shop/hello/production API_TOKEN is not set (slipway secret set
//     shop/hello API_TOKEN --env production)"). A config the install holds as a secret is not overwritten.
//   - Kubeconfigs are secrets and never in a file (set with `slipway env set --kubeconfig`); a kubernetes
//     environment without inCluster needs one stored before the API accepts the data plane.
//   - Production environments, data planes and the order of a project with a production environment need an
//     admin token: that is the Client's; the API's 403 comes back as the error, naming the file's line.
//
// Use:
//
//	f, err := projectfile.Parse("slipway.yaml", data) // every problem, "slipway.yaml:12: projects[0].components[1].repo: required"
//	if err != nil { … }
//	plan, err := projectfile.Diff(ctx, client, f, projectfile.Options{Prune: prune})
//	if err != nil { … }
//	plan.Write(os.Stdout) // "+ project shop", "~ component shop/hello: autoDeploy false → true", …, or "no changes"
//	if !dryRun {
//		applied, err := plan.Apply(ctx, client)
//		if err != nil { … } // "slipway.yaml:9: projects[0].environments[2].production: creating environment …"
//		applied.Write(os.Stdout) // how many changes; the webhooks of components whose auto-build it turned on
//	}
//
//	f, err := projectfile.Export(ctx, client, "shop") // none named: every project
//	data, err := f.Marshal()
//
// projectfile talks to slipway only through its REST API (the Client interface). It imports of slipway only api
// and scan (for the types of the API's bodies); otherwise the standard library and gopkg.in/yaml.v3. Never
// server, store, cli or anything below them.
package projectfile
