package delivery

import "github.com/slipway-dev/slipway/store"

// Promotion is what a promotion asks for: Build (optional) is the build to promote, To (optional) the
// environment to promote it to.
type Promotion struct {
	Build string
	To    string
	// DryRun previews the request (Promotions.Promote): nothing is recorded or started.
	DryRun bool
}

// PromotionTarget works out where a promotion goes and what it sends, from the project's environments in
// promotion order and the build serving in each (current[i], "" for none). Without To the target is the
// environment after the one running Build (without Build: after the first environment whose release the next
// one does not run yet). With To, the build (default: the release of the environment before it) must run in
// the environment before To — unless admin, which may skip. Promoting into a production environment needs
// admin where it needs no approvals (MayRequest). It returns the target's index and the build.
func PromotionTarget(comp store.Component, envs []store.Environment, current []string, p Promotion, admin bool) (int, string, error) {
	target := -1
	switch {
	case p.To != "":
		for i, e := range envs {
			if e.Name == p.To {
				target = i
				break
			}
		}
		if target < 0 {
			return 0, "", refuse(Invalid, "invalid", "to", "environment %q is not one of project %q's", p.To, comp.Project)
		}
		if target == 0 {
			return 0, "", refuse(Invalid, "invalid", "to", "%q is the first environment: builds get there by deploy, not promotion", p.To)
		}
	case p.Build != "":
		for i := len(envs) - 1; i >= 0; i-- {
			if current[i] == p.Build {
				target = i + 1
				break
			}
		}
		if target < 0 {
			return 0, "", refuse(Conflict, "not_running", "build", "build %s is not running in any environment of %s", p.Build, comp.Name)
		}
	default:
		for i := 0; i+1 < len(envs); i++ {
			if current[i] != "" && current[i] != current[i+1] {
				target = i + 1
				break
			}
		}
		if target < 0 {
			return 0, "", refuse(Conflict, "nothing_to_promote", "", "every environment runs what the one before it runs")
		}
	}
	if target >= len(envs) {
		return 0, "", refuse(Conflict, "last_environment", "build", "build %s runs in %s, the last environment", p.Build, envs[len(envs)-1].Name)
	}
	if err := MayRequest(envs[target], admin, "promoting"); err != nil {
		return 0, "", err
	}
	build, source := p.Build, envs[target-1].Name
	if build == "" {
		build = current[target-1]
		if build == "" {
			return 0, "", refuse(Conflict, "not_running", "", "nothing runs in %s to promote to %s", source, envs[target].Name)
		}
	}
	if current[target-1] != build && !admin {
		return 0, "", refuse(Conflict, "not_running", "build",
			"build %s is not running in %s, the environment before %s (only an admin may skip)", build, source, envs[target].Name)
	}
	return target, build, nil
}
