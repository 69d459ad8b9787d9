package descriptor

// Path is where a component's descriptor lives, relative to the root of its repository.
const Path = ".slipway/component.yaml"

// Endpoint types, spelt as Parse stores them; the descriptor may use any case.
const (
	REST    = "REST"
	GraphQL = "GraphQL"
	GRPC    = "gRPC"
	TCP     = "TCP"
	UDP     = "UDP"
	WS      = "WS"
)

// Endpoint visibilities, as Endpoint.Visibility spells them.
const (
	// Public endpoints are reached from outside their environment: through slipway's edge on Docker, an
	// Ingress on Kubernetes.
	Public = "public"
	// Project endpoints are reached only by the components of the same project in the same environment,
	// by the component's name; nothing routes to them from outside.
	Project = "project"
)

// Descriptor is a component's descriptor. Its zero value is a valid descriptor that declares nothing.
type Descriptor struct {
	// Endpoints are the network endpoints the component serves, in the order written. Nil means none.
	Endpoints []Endpoint `json:"endpoints,omitempty"`
	// Health holds the component's health checks. Its zero value means no checks.
	Health Health `json:"health"`
	// Required lists the configs and secrets a deploy must provide. Its zero value requires nothing.
	Required Required `json:"required"`
	// Build says how the image is built. Its zero value builds the Dockerfile at the component's path, or, when
	// the repository has none there, builds from source with the language detected.
	Build Build `json:"build,omitzero"`
	// Default is true when the descriptor was not read from the repository but synthesised by Default
	// because the repository has none. Parse never sets it.
	Default bool `json:"default,omitempty"`
}

// Build types, as Build.Type spells them.
const (
	BuildDockerfile = "dockerfile"
	BuildSource     = "source"
)

// Build says how a component's image is built: `build: source` for short, or a mapping with these fields.
type Build struct {
	// Type is BuildDockerfile or BuildSource; "" means a Dockerfile when there is one at the component's path,
	// else source.
	Type string `json:"type,omitempty"`
	// Language is the language of a source build (go, node, python, static); "" means detected.
	Language string `json:"language,omitempty"`
	// Version is the language's version, the tag of its base image; "" means the base image's default.
	Version string `json:"version,omitempty"`
	// Command builds the source after its dependencies are installed; "" means the language's usual.
	Command string `json:"command,omitempty"`
	// Start is the command the image runs; "" means the language's usual.
	Start string `json:"start,omitempty"`
}

// Endpoint is one network endpoint of a component.
type Endpoint struct {
	// Name identifies the endpoint within the component: a DNS-1123 label (lowercase letters, digits
	// and '-', at most 63 characters), unique among the endpoints.
	Name string `json:"name"`
	// Port is the port the component listens on, 1 to 65535.
	Port int `json:"port"`
	// Type is one of REST, GraphQL, gRPC, TCP, UDP and WS, spelt as those constants.
	Type string `json:"type"`
	// BasePath is the path under which the endpoint serves, starting with '/'. Parse sets it to "/" for
	// REST, GraphQL and WS endpoints that give none. TCP and UDP endpoints have none; a gRPC endpoint's is
	// empty unless given.
	BasePath string `json:"basePath,omitempty"`
	// SchemaFilePath is the endpoint's API spec, a slash-separated path relative to the repository root
	// that stays inside it: an OpenAPI 3 or Swagger 2 document for REST, a GraphQL schema for GraphQL, a
	// .proto file for gRPC. Empty means the endpoint has no spec; other types cannot have one.
	SchemaFilePath string `json:"schemaFilePath,omitempty"`
	// Visibility is "public" (Public: reached from outside the environment, through the edge or an
	// Ingress) or "project" (Project: only by the project's components in the same environment, by the
	// component's name). Parse sets "public" when it is not given; "" (an endpoint recorded before
	// endpoints had a visibility) means public too.
	Visibility string `json:"visibility,omitempty"`
}

// IsPublic says whether the endpoint is reached from outside its environment (Visibility is not Project).
func (e Endpoint) IsPublic() bool { return e.Visibility != Project }

// Health holds a component's health checks.
type Health struct {
	// Readiness tells when an instance may receive traffic. Nil means no readiness check.
	Readiness *Probe `json:"readiness,omitempty"`
	// Liveness tells when an instance must be restarted. Nil means no liveness check.
	Liveness *Probe `json:"liveness,omitempty"`
}

// Probe is one health check. Exactly one of HTTP, TCP and Exec is set.
type Probe struct {
	// HTTP checks by an HTTP GET that must answer 2xx or 3xx.
	HTTP *HTTPProbe `json:"http,omitempty"`
	// TCP checks that a TCP connection can be opened.
	TCP *TCPProbe `json:"tcp,omitempty"`
	// Exec checks by running a command in the container, which must exit 0.
	Exec *ExecProbe `json:"exec,omitempty"`
	// InitialDelaySeconds is how long to wait after the container starts before the first check,
	// 0 to 86400. Zero, the default, means check at once.
	InitialDelaySeconds int `json:"initialDelaySeconds"`
	// PeriodSeconds is the time between checks, 1 to 86400. Parse sets 10 when it is not given.
	PeriodSeconds int `json:"periodSeconds"`
	// TimeoutSeconds is how long one check may take, 1 to 86400. Parse sets 1 when it is not given.
	TimeoutSeconds int `json:"timeoutSeconds"`
	// FailureThreshold is how many checks in a row must fail before the probe fails, 1 to 86400.
	// Parse sets 3 when it is not given.
	FailureThreshold int `json:"failureThreshold"`
}

// HTTPProbe checks a component by an HTTP GET.
type HTTPProbe struct {
	// Path is the request path, starting with '/'.
	Path string `json:"path"`
	// Port is the port to call, 1 to 65535. Parse sets the first endpoint's port when it is not given
	// (and reports an error when there is no endpoint).
	Port int `json:"port"`
}

// TCPProbe checks a component by opening a TCP connection.
type TCPProbe struct {
	// Port is the port to connect to, 1 to 65535. Parse sets the first endpoint's port when it is not
	// given (and reports an error when there is no endpoint).
	Port int `json:"port"`
}

// ExecProbe checks a component by running a command in its container.
type ExecProbe struct {
	// Command is the program and its arguments, run without a shell. It is never empty.
	Command []string `json:"command"`
}

// Required lists the configs and secrets a component needs in the environment it is deployed to.
type Required struct {
	// Configs are plain values. Nil means none.
	Configs []Requirement `json:"configs,omitempty"`
	// Secrets are values that are write-only through the API. Nil means none.
	Secrets []Requirement `json:"secrets,omitempty"`
}

// Requirement is one config or secret a component needs, and how the component receives it: as an
// environment variable (Env) or as a file (File), never both.
type Requirement struct {
	// Name is the value's name in the environment, like an environment variable name
	// ([A-Za-z_][A-Za-z0-9_]*), unique across configs and secrets.
	Name string `json:"name"`
	// Env is the environment variable that receives the value. Parse sets it to Name when File is empty;
	// it is empty when File is set. Two requirements cannot share an Env.
	Env string `json:"env,omitempty"`
	// File is the absolute, clean path where the value is mounted as a file. Empty means the value is
	// passed in Env. Two requirements cannot share a File.
	File string `json:"file,omitempty"`
	// Description says what the value is for. Empty means no description.
	Description string `json:"description,omitempty"`
}

// Missing names the required configs and secrets for which have reports false, configs first, each
// as "NAME (config)" or "NAME (secret)"; none means everything required is there.
func (d Descriptor) Missing(have func(name string) bool) []string {
	var missing []string
	for _, r := range d.Required.Configs {
		if !have(r.Name) {
			missing = append(missing, r.Name+" (config)")
		}
	}
	for _, r := range d.Required.Secrets {
		if !have(r.Name) {
			missing = append(missing, r.Name+" (secret)")
		}
	}
	return missing
}
