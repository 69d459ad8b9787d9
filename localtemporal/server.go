package localtemporal

import (
	"database/sql"
	"errors"
	"fmt"
	enumspb "go.temporal.io/api/enums/v1"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uiserveroptions "github.com/temporalio/ui-server/v2/server/server_options"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
	"google.golang.org/protobuf/types/known/durationpb"
)

const clusterName = "active"

// NamespaceRetention is how long the embedded Temporal keeps a closed workflow's history.
const NamespaceRetention = 30 * 24 * time.Hour

// devClusterID is the fixed ID of the embedded single-node cluster; Temporal wants a UUID.
const devClusterID = "5d1f1c0a-6c3e-4c1e-9a53-7b1a2f0e51de"

// Config says where the embedded Temporal keeps its state and where it listens.
type Config struct {
	// DBPath is the SQLite file holding every workflow's history and visibility; it is created
	// with Temporal's schema on first start. Required.
	DBPath string
	// Address is the host:port of the frontend gRPC service; port 0 picks a free port.
	Address string
	// UIAddress is the host:port of the Temporal UI; "" runs no UI, port 0 picks a free port.
	UIAddress string
	// UICodecEndpoint is the remote codec the UI decodes payloads with (Temporal's codec protocol: it POSTs
	// to Endpoint+"/decode"), sending the browser's credentials; a path ("/slipway-codec") is on the
	// UI's own origin. "" means the UI shows payloads as the history holds them.
	UICodecEndpoint string
	// Namespaces are registered on start when missing; empty means just "default".
	Namespaces []string
	// SearchAttributes are keyword search attributes a namespace is created with, so they are
	// usable from its first workflow; nil means none.
	SearchAttributes []string
	// Logger receives the server's warnings and errors; nil means slog.Default().
	Logger *slog.Logger
	// LogLevel is the lowest level of the server's own messages that are logged; zero means Info,
	// which Temporal is chatty at, so slipway passes Warn.
	LogLevel slog.Level
}

// Server is a running embedded Temporal server with its UI.
type Server struct {
	server    temporal.Server
	ui        *uiserver.Server
	quiet     *atomic.Bool
	address   string
	uiAddress string
	// codecEndpoint is Config.UICodecEndpoint.
	codecEndpoint string
}

// Start prepares the SQLite database, registers the namespaces and starts every Temporal service
// in-process. Start returns when the frontend accepts connections.
func Start(cfg Config) (*Server, error) {
	if cfg.DBPath == "" {
		return nil, errors.New("temporal: database path is required")
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	if len(cfg.Namespaces) == 0 {
		cfg.Namespaces = []string{"default"}
	}
	ports := &portPicker{}
	defer ports.release()
	host, port, err := ports.resolve(cfg.Address)
	if err != nil {
		return nil, fmt.Errorf("temporal address %q: %w", cfg.Address, err)
	}
	var uiHost string
	var uiPort int
	if cfg.UIAddress != "" {
		if uiHost, uiPort, err = ports.resolve(cfg.UIAddress); err != nil {
			return nil, fmt.Errorf("temporal UI address %q: %w", cfg.UIAddress, err)
		}
	}
	sqlConf, err := prepareDatabase(cfg.DBPath, cfg.Namespaces, cfg.SearchAttributes)
	if err != nil {
		return nil, err
	}
	conf, err := serverConfig(ports, host, port, sqlConf)
	if err != nil {
		return nil, err
	}
	tlogger := slogLogger{log: logger.With("part", "temporal"), minLevel: cfg.LogLevel, quiet: new(atomic.Bool)}
	authorizer, err := authorization.GetAuthorizerFromConfig(&conf.Global.Authorization)
	if err != nil {
		return nil, fmt.Errorf("temporal authorizer: %w", err)
	}
	claimMapper, err := authorization.GetClaimMapperFromConfig(&conf.Global.Authorization, tlogger)
	if err != nil {
		return nil, fmt.Errorf("temporal claim mapper: %w", err)
	}
	ports.release() // NewServer already binds some listeners
	srv, err := temporal.NewServer(
		temporal.WithConfig(conf),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithLogger(tlogger),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
	)
	if err != nil {
		return nil, fmt.Errorf("creating temporal server: %w", err)
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("starting temporal server: %w", err)
	}
	s := &Server{server: srv, quiet: tlogger.quiet, address: net.JoinHostPort(host, strconv.Itoa(port)), codecEndpoint: cfg.UICodecEndpoint}
	if cfg.UIAddress != "" {
		if err := s.startUI(uiHost, uiPort); err != nil {
			s.Stop()
			return nil, err
		}
	}
	return s, nil
}

// Address is the host:port of the frontend gRPC service.
func (s *Server) Address() string { return s.address }

// UIAddress is the host:port of the Temporal UI, or "" when none runs.
func (s *Server) UIAddress() string { return s.uiAddress }

// Stop stops the UI and every Temporal service.
func (s *Server) Stop() {
	s.quiet.Store(true)
	if s.ui != nil {
		s.ui.Stop()
	}
	_ = s.server.Stop() // best effort, as before: Stop reports no error
}

func (s *Server) startUI(host string, port int) error {
	ui := uiserver.NewServer(uiserveroptions.WithConfigProvider(&uiconfig.Config{
		Host:                host,
		Port:                port,
		TemporalGRPCAddress: s.address,
		EnableUI:            true,
		CORS:                uiconfig.CORS{CookieInsecure: true},
		HideLogs:            true,
		Codec:               uiconfig.Codec{Endpoint: s.codecEndpoint, IncludeCredentials: s.codecEndpoint != ""},
	}))
	s.ui = ui
	s.uiAddress = net.JoinHostPort(host, strconv.Itoa(port))
	// Start blocks until Stop. It exits the process when it cannot listen (the UI server calls
	// its logger's Fatal), which a port given on the command line and already taken would cause.
	go func() { _ = ui.Start() }()
	return waitListening(s.uiAddress, 10*time.Second)
}

func prepareDatabase(path string, namespaces, searchAttributes []string) (*config.SQL, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating temporal data dir: %w", err)
	}
	conf := &config.SQL{
		PluginName:   sqliteplugin.PluginName,
		DatabaseName: path,
		ConnectAttributes: map[string]string{
			"mode":         "rwc",
			"journal_mode": "wal",
			"synchronous":  "normal",
			"busy_timeout": "10000",
		},
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if err := setupSchema(path); err != nil {
			return nil, err
		}
	}
	if err := forgetMembers(path); err != nil {
		return nil, err
	}
	attrs := make(map[string]enumspb.IndexedValueType, len(searchAttributes))
	for _, a := range searchAttributes {
		attrs[a] = enumspb.INDEXED_VALUE_TYPE_KEYWORD
	}
	nsConfigs := make([]*sqliteschema.NamespaceConfig, 0, len(namespaces))
	for _, ns := range namespaces {
		c, err := sqliteschema.NewNamespaceConfig(clusterName, ns, false, attrs)
		if err != nil {
			return nil, fmt.Errorf("namespace %q: %w", ns, err)
		}
		c.Detail.Config.Retention = durationpb.New(NamespaceRetention)
		nsConfigs = append(nsConfigs, c)
	}
	if err := sqliteschema.CreateNamespaces(conf, nsConfigs...); err != nil {
		return nil, fmt.Errorf("registering temporal namespaces: %w", err)
	}
	return conf, nil
}

// setupSchema creates Temporal's schema in a file beside path and renames it into place, so a
// crash half-way leaves no half-made database that later starts would take as ready.
func setupSchema(path string) error {
	tmp := path + ".setup"
	for _, f := range []string{tmp, tmp + "-journal"} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("removing unfinished temporal schema: %w", err)
		}
	}
	conf := &config.SQL{
		PluginName:        sqliteplugin.PluginName,
		DatabaseName:      tmp,
		ConnectAttributes: map[string]string{"mode": "rwc"},
	}
	if err := sqliteschema.SetupSchema(conf); err != nil {
		return fmt.Errorf("creating temporal schema in %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("creating temporal schema: %w", err)
	}
	return nil
}

// forgetMembers deletes the cluster members a previous run recorded. The embedded server is the
// only member and picks new internal ports on each start; left in place, the old addresses make
// the new server wait for them until its join deadline (about 30 s) before it serves.
func forgetMembers(path string) error {
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("opening temporal database: %w", err)
	}
	defer db.Close()
	if _, err := db.Exec("DELETE FROM cluster_membership"); err != nil {
		return fmt.Errorf("forgetting previous temporal cluster members: %w", err)
	}
	return nil
}

func serverConfig(ports *portPicker, host string, port int, sqlConf *config.SQL) (*config.Config, error) {
	var conf config.Config
	conf.Global.Membership.MaxJoinDuration = 30 * time.Second
	conf.Global.Membership.BroadcastAddress = "127.0.0.1"
	conf.Persistence.DefaultStore = "sqlite"
	conf.Persistence.VisibilityStore = "sqlite"
	conf.Persistence.NumHistoryShards = 1
	conf.Persistence.DataStores = map[string]config.DataStore{"sqlite": {SQL: sqlConf}}
	frontend := net.JoinHostPort(host, strconv.Itoa(port))
	conf.ClusterMetadata = &cluster.Config{
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{
			clusterName: {Enabled: true, InitialFailoverVersion: 1, RPCAddress: frontend, ClusterID: devClusterID},
		},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	conf.Services = map[string]config.Service{}
	for _, name := range []string{"frontend", "history", "matching", "worker"} {
		var svc config.Service
		if name == "frontend" {
			svc.RPC.GRPCPort = port
			svc.RPC.BindOnIP = host
			hp, err := ports.pick(host)
			if err != nil {
				return nil, err
			}
			svc.RPC.HTTPPort = hp
		} else {
			p, err := ports.pick("127.0.0.1")
			if err != nil {
				return nil, err
			}
			svc.RPC.GRPCPort = p
			svc.RPC.BindOnLocalHost = true
		}
		mp, err := ports.pick("127.0.0.1")
		if err != nil {
			return nil, err
		}
		svc.RPC.MembershipPort = mp
		conf.Services[name] = svc
	}
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	conf.PublicClient.HostPort = frontend
	return &conf, nil
}
