package store

import (
	"fmt"
	"testing"
)

// insertBuildAndDeployment writes one build of the component and one deployment of it to env with plain SQL:
// the builds and deployments tables have no Go API yet, but their shape and foreign keys are part of the schema.
func insertBuildAndDeployment(t *testing.T, s *Store, project, component, env string) {
	t.Helper()
	ctx := t.Context()
	id := fmt.Sprintf("bld-%s-%s", project, component)
	_, err := s.db().exec(ctx, `INSERT INTO builds (id, project, component, commit_sha, trigger_kind, trigger_detail,
		status, digest, image_size, steps, required, scan, error, workflow_id, run_id, created_at, started_at, ended_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, project, component, "0123abcd", "manual", `{"by":"admin"}`, "succeeded", "sha256:00", int64(1)<<40,
		`[{"name":"build","status":"succeeded"}]`, `[{"name":"DB_URL","secret":true}]`, `{}`, "",
		"build/"+project+"/"+component+"/0123abcd", "run-1", toDB(now()), toDB(now()), nil)
	must(t, err)
	_, err = s.db().exec(ctx, `INSERT INTO deployments (id, project, component, environment, build_id, digest, status,
		url, config_hash, message, created_at, ended_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		"dep-"+id+"-"+env, project, component, env, id, "sha256:00", "succeeded", "http://x", "h", "", toDB(now()), nil)
	must(t, err)
}

// rowsOf counts the rows of each table below a project.
func rowsOf(t *testing.T, s *Store, project string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{"environments", "components", "configs", "builds", "deployments"} {
		out[table] = count(t, s, "SELECT * FROM "+table+" WHERE project = ?", project)
	}
	return out
}

// populate creates project with two components, each with a config value in each environment and a build
// deployed to development.
func populate(t *testing.T, s *Store, project string) {
	t.Helper()
	mustCreateProject(t, s, project)
	for _, c := range []string{"api", "web"} {
		mustCreateComponent(t, s, project, c)
		for _, e := range []string{"development", "production"} {
			_, _, err := s.PutConfig(t.Context(), ConfigValue{Project: project, Component: c, Environment: e, Key: "K",
				Sealed: fakeSealed("kek", project+c+e)}, false)
			must(t, err)
		}
		insertBuildAndDeployment(t, s, project, c, "development")
	}
}

func TestDeleteProjectCascades(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		populate(t, s, "shop")
		populate(t, s, "blog")
		full := map[string]int{"environments": 2, "components": 2, "configs": 4, "builds": 2, "deployments": 2}
		if got := rowsOf(t, s, "shop"); fmt.Sprint(got) != fmt.Sprint(full) {
			t.Fatalf("before delete shop has %v, want %v", got, full)
		}
		must(t, s.DeleteProject(t.Context(), "shop"))
		empty := map[string]int{"environments": 0, "components": 0, "configs": 0, "builds": 0, "deployments": 0}
		if got := rowsOf(t, s, "shop"); fmt.Sprint(got) != fmt.Sprint(empty) {
			t.Errorf("after delete shop has %v, want nothing", got)
		}
		if got := rowsOf(t, s, "blog"); fmt.Sprint(got) != fmt.Sprint(full) {
			t.Errorf("deleting shop touched blog: %v, want %v", got, full)
		}
	})
}

func TestDeleteComponentCascades(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		populate(t, s, "shop")
		must(t, s.DeleteComponent(t.Context(), "shop", "api"))
		if n := count(t, s, "SELECT * FROM components WHERE project = ?", "shop"); n != 1 {
			t.Errorf("%d components left, want web", n)
		}
		if n := count(t, s, "SELECT * FROM environments WHERE project = ?", "shop"); n != 2 {
			t.Errorf("%d environments left, want both", n)
		}
		for table, want := range map[string]int{"configs": 2, "builds": 1, "deployments": 1} {
			if n := count(t, s, "SELECT * FROM "+table+" WHERE project = ? AND component = ?", "shop", "web"); n != want {
				t.Errorf("%s: %d rows of web left, want %d", table, n, want)
			}
		}
		for _, table := range []string{"configs", "builds", "deployments"} {
			if n := count(t, s, "SELECT * FROM "+table+" WHERE project = ? AND component = ?", "shop", "api"); n != 0 {
				t.Errorf("%s: %d rows of the deleted component left", table, n)
			}
		}
	})
}

func TestForeignKeysAreEnforced(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		populate(t, s, "shop")
		ctx := t.Context()
		_, err := s.db().exec(ctx, `INSERT INTO deployments (id, project, component, environment, build_id, digest, status,
			created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, "dep-x", "shop", "api", "development", "bld-missing", "d", "s", 0)
		if err == nil {
			t.Error("a deployment of a missing build was stored: foreign keys are off")
		}
		_, err = s.db().exec(ctx, `INSERT INTO builds (id, project, component, commit_sha, trigger_kind, status, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, "bld-x", "shop", "missing", "c", "manual", "queued", 0)
		if err == nil {
			t.Error("a build of a missing component was stored: foreign keys are off")
		}
	})
}
