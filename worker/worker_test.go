package worker

import (
	"cmp"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/slipway-dev/slipway/activities"
	"github.com/slipway-dev/slipway/workflows"
)

// TestRegisterCoversWhatWorkflowsCall registers slipway's workflows and activities, with every kind of
// activity enabled, and checks that every activity name a workflow passes to ExecuteActivity (read from the
// workflows package's source) is registered with a method of an activities struct taking that activity's
// input type, that every workflow of the package is registered, and that nothing is registered that no
// workflow calls. The registrations also go to a real worker, which rejects a function that is no valid
// activity or workflow, and a name registered twice.
func TestRegisterCoversWhatWorkflowsCall(t *testing.T) {
	called, wfs := readWorkflows(t, "../workflows")
	if len(called) < 10 || len(wfs) < 3 {
		t.Fatalf("read %d activity names and %d workflows from the workflows package: the reading is broken", len(called), len(wfs))
	}

	lazy, err := client.NewLazyClient(client.Options{HostPort: "127.0.0.1:7233"})
	if err != nil {
		t.Fatal(err)
	}
	defer lazy.Close()
	reg := &registrations{Registry: sdkworker.New(lazy, "registration-test", sdkworker.Options{}),
		activities: map[string]any{}, workflows: map[string]any{}}
	Register(reg, Deps{Builds: &activities.Builds{}, Deploys: &activities.Deploys{}, Promotions: &activities.Promotions{},
		Notifications: &activities.Notifications{}})
	RegisterDataPlane(reg, &activities.Deploys{})

	for _, name := range slices.Sorted(maps.Keys(called)) {
		fn, ok := reg.activities[name]
		if !ok {
			t.Errorf("%s calls activity %q, which Register does not register", called[name], name)
			continue
		}
		// A method value of an activities struct: "github.com/slipway-dev/slipway/activities.(*Deploys).Rollout-fm".
		full := runtime.FuncForPC(reflect.ValueOf(fn).Pointer()).Name()
		if !strings.HasPrefix(full, "github.com/slipway-dev/slipway/activities.") {
			t.Errorf("activity %q is registered with %s, not an activity of package activities", name, full)
		}
		// One input struct per activity, named for it (house style), so a registration under another
		// activity's name shows.
		typ := reflect.TypeOf(fn)
		if typ.NumIn() != 2 || typ.In(1).PkgPath() != "github.com/slipway-dev/slipway/workflows" || typ.In(1).Name() != name+"Input" {
			t.Errorf("activity %q is registered with %s of type %s, which does not take workflows.%sInput", name, full, typ, name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(reg.activities)) {
		if _, ok := called[name]; !ok {
			t.Errorf("Register registers activity %q, which no workflow calls", name)
		}
	}
	for _, name := range wfs {
		if _, ok := reg.workflows[name]; !ok {
			t.Errorf("Register does not register workflow %s", name)
		}
	}
}

// registrations records what is registered, by name, and passes it on to a real registry.
type registrations struct {
	sdkworker.Registry
	activities, workflows map[string]any
}

func (r *registrations) RegisterWorkflow(w any) {
	r.workflows[funcName(w)] = w
	r.Registry.RegisterWorkflow(w)
}

func (r *registrations) RegisterWorkflowWithOptions(w any, o workflow.RegisterOptions) {
	r.workflows[cmp.Or(o.Name, funcName(w))] = w
	r.Registry.RegisterWorkflowWithOptions(w, o)
}

func (r *registrations) RegisterActivity(a any) {
	r.activities[funcName(a)] = a
	r.Registry.RegisterActivity(a)
}

func (r *registrations) RegisterActivityWithOptions(a any, o activity.RegisterOptions) {
	r.activities[cmp.Or(o.Name, funcName(a))] = a
	r.Registry.RegisterActivityWithOptions(a, o)
}

// funcName is the name Temporal registers a function under: its own, without package or receiver.
func funcName(fn any) string {
	full := runtime.FuncForPC(reflect.ValueOf(fn).Pointer()).Name()
	full = strings.TrimSuffix(full, "-fm")
	return full[strings.LastIndex(full, ".")+1:]
}

// readWorkflows reads the package in dir (its non-test files) and returns the activity names its calls of
// workflow.ExecuteActivity pass, each with where it is called, and its exported workflows (functions taking
// a workflow.Context first). A name it cannot tell (not a string constant or literal) fails the test.
func readWorkflows(t *testing.T, dir string) (called map[string]string, wfs []string) {
	t.Helper()
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	consts := map[string]string{}
	for _, f := range files {
		for _, d := range f.Decls {
			if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.CONST {
				for _, spec := range g.Specs {
					vs := spec.(*ast.ValueSpec)
					for i, n := range vs.Names {
						if i < len(vs.Values) {
							if s, ok := stringLit(vs.Values[i]); ok {
								consts[n.Name] = s
							}
						}
					}
				}
			}
		}
	}
	called = map[string]string{}
	for _, f := range files {
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.IsExported() && takesWorkflowContext(fd) {
				wfs = append(wfs, fd.Name.Name)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || !isSelector(call.Fun, "workflow", "ExecuteActivity") && !isSelector(call.Fun, "workflow", "ExecuteLocalActivity") {
				return true
			}
			pos := fset.Position(call.Pos())
			where := filepath.Base(pos.Filename) + ":" + strconv.Itoa(pos.Line)
			if len(call.Args) < 2 {
				t.Errorf("%s: an ExecuteActivity without an activity", where)
				return true
			}
			name, ok := stringLit(call.Args[1])
			if id, isIdent := call.Args[1].(*ast.Ident); isIdent {
				name, ok = consts[id.Name]
			}
			if !ok {
				t.Errorf("%s: cannot tell which activity ExecuteActivity calls (not a string constant of the package)", where)
				return true
			}
			called[name] = where
			return true
		})
	}
	return called, wfs
}

func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

func isSelector(e ast.Expr, pkg, name string) bool {
	sel, ok := e.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != name {
		return false
	}
	id, ok := sel.X.(*ast.Ident)
	return ok && id.Name == pkg
}

func takesWorkflowContext(fd *ast.FuncDecl) bool {
	params := fd.Type.Params.List
	return len(params) > 0 && isSelector(params[0].Type, "workflow", "Context")
}

// Reading the workflows package finds the activities its workflows call and its workflows.
func TestReadWorkflowsFindsTheirActivities(t *testing.T) {
	called, wfs := readWorkflows(t, "../workflows")
	for _, name := range []string{workflows.ActivityCheckRequired, workflows.ActivityRollout, workflows.ActivityFailDeployment,
		workflows.ActivityRetireReplaced, workflows.ActivityRequestDeploy, workflows.ActivityFinishBuild, workflows.ActivityUndeploy,
		workflows.ActivityRewrapDataKeys} {
		if _, ok := called[name]; !ok {
			t.Errorf("reading the workflows found no call of %s", name)
		}
	}
	for _, name := range []string{"BuildPipeline", "DeployQueue", "RotateKeys", "Undeploy"} {
		if !slices.Contains(wfs, name) {
			t.Errorf("reading the workflows found workflows %v, not %s", wfs, name)
		}
	}
}
