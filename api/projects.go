package api

import (
	"time"

	"github.com/slipway-dev/slipway/scan"
)

// ProjectRequest is the body of POST /api/v1/projects.
type ProjectRequest struct {
	// Name is the new project's name; required.
	Name string `json:"name"`
	// ScanPolicy decides which scan findings stop the project's builds; zero (or absent) is the default policy.
	ScanPolicy scan.Policy `json:"scanPolicy"`
}

// ProjectUpdate is the body of PATCH /api/v1/projects/{p}: a nil (absent) field stays as it is.
type ProjectUpdate struct {
	// ScanPolicy replaces the project's scan policy; builds already started keep the one they started with.
	ScanPolicy *scan.Policy `json:"scanPolicy"`
}

// Project is a project as the API shows it (the items of GET /api/v1/projects).
type Project struct {
	// Name is the project's unique name.
	Name string `json:"name"`
	// ScanPolicy decides which scan findings stop the project's builds; zero is the default policy.
	ScanPolicy scan.Policy `json:"scanPolicy"`
	// CreatedAt is when the project was created (UTC).
	CreatedAt time.Time `json:"createdAt"`
}

// ProjectResponse is a project with its environments in promotion order: the answer of POST, GET and PATCH
// /api/v1/projects/{p}.
type ProjectResponse struct {
	Project
	// Environments are the project's environments in promotion order; [] when it has none.
	Environments []Environment `json:"environments"`
}
