package console

import (
	"time"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/descriptor"
	"github.com/slipway-dev/slipway/scan"
)

// Layout is what every signed-in page shows around its content.
type Layout struct {
	// Title is the page's title, before " · slipway".
	Title string
	// User is who is signed in.
	User User
	// CSRF is the session's CSRF token; console.js sends it with every write.
	CSRF string
	// Crumbs lead from the projects list to this page; the last one is the page itself.
	Crumbs []Crumb
	// FollowProject and FollowComponent scope the events the page follows; "" means every project (or component).
	FollowProject, FollowComponent string
	// Flash is a message shown once at the top of the page; "" means none.
	Flash string
}

// User is the signed-in token.
type User struct {
	Name, Role string
	// CanWrite says the role may change things (developer or admin); a viewer's pages show no write control.
	CanWrite bool
	// Admin says the role is admin: production deploys, tokens.
	Admin bool
}

// Crumb is one step of a page's breadcrumb trail.
type Crumb struct {
	Label, Href string
}

// SignInPage is the sign-in form.
type SignInPage struct {
	Layout
	// Error says why the last sign-in failed; "" means none was tried.
	Error string
	// Next is the local path to go to once signed in.
	Next string
}

// ProjectsPage lists the projects.
type ProjectsPage struct {
	Layout
	Projects []api.Project
}

// ProjectPage is one project: its components and its environments in promotion order.
type ProjectPage struct {
	Layout
	Nav          ProjectNav
	Project      api.Project
	Components   []ComponentRow
	Environments []EnvironmentRow
	// Stop is the project's stopped line (nothing is promoted or deployed into any of its environments); nil
	// when it runs.
	Stop *api.Stop
}

// ProjectTab names the tabs of a project's pages.
type ProjectTab string

// The project's tabs.
const (
	TabOverview   ProjectTab = "overview"
	TabPromotions ProjectTab = "promotions"
)

// ProjectNav is the tabs at the top of a project's pages.
type ProjectNav struct {
	Project string
	Tab     ProjectTab
	// Waiting counts the project's promotion requests that wait for approvals or a freeze window.
	Waiting int
}

// EnvironmentRow is an environment on its project's page with the promotion orders its "Move up" and "Move down"
// buttons ask for (names joined by ","); "" where it cannot move that way.
type EnvironmentRow struct {
	api.Environment
	Up, Down string
	Gate     Gate
}

// Gate is what holds promotions and deploys into an environment now, as its cards say it.
type Gate struct {
	// Approvals is how many distinct approvals a promotion into it needs; zero means none. Approvers names who
	// may give them (roles or token names).
	Approvals int
	Approvers []string
	// Stopped is the stopped line that holds it, the environment's own or (ProjectStopped) its whole project's;
	// nil when none does.
	Stopped        *api.Stop
	ProjectStopped bool
	// Frozen names the freeze window open now and FrozenUntil when it ends; "" and nil when none is open.
	Frozen      string
	FrozenUntil *time.Time
}

// ComponentRow is a component as its project's page lists it.
type ComponentRow struct {
	Component api.Component
	// LastBuild is the newest build; nil when there is none.
	LastBuild *api.Build
	// Running is what serves in each environment, in promotion order; environments with nothing are left out.
	Running []Running
}

// Running is the release of a component in one environment.
type Running struct {
	Environment string
	Deployment  api.Deployment
}

// Tab names the tabs of a component's pages.
type Tab string

// The component's tabs.
const (
	TabBuild   Tab = "build"
	TabDeploy  Tab = "deploy"
	TabConfigs Tab = "configs"
)

// ComponentPage is what every tab of a component shows at its top.
type ComponentPage struct {
	Layout
	Component api.Component
	// Environments are the project's, in promotion order.
	Environments []api.Environment
	Tab          Tab
}

// FirstEnvironment is the environment a "Deploy" from the Build Area goes to; "" when the project has none.
func (p ComponentPage) FirstEnvironment() string {
	if len(p.Environments) == 0 {
		return ""
	}
	return p.Environments[0].Name
}

// BuildAreaPage is a component's Build Area: its branch's recent commits (loaded on their own, CommitsURL), the
// auto toggles and the build history.
type BuildAreaPage struct {
	ComponentPage
	// CommitsURL is the fragment with the commit cards.
	CommitsURL string
	// Builds is one page of the build history, newest first; Builds.Next the cursor of the next one.
	Builds api.Page[api.Build]
	// Cursor is the cursor this page was read from; "" means the newest builds.
	Cursor string
	// Quarantined holds the quarantines of the listed builds that are quarantined, by build ID.
	Quarantined map[string]*api.Quarantine
}

// CommitsFragment is the Build Area's commit cards, newest first, the newest selected.
type CommitsFragment struct {
	Commits []api.Commit
	// Error says why the commits could not be read (the repository unreachable, say); "" when they were.
	Error string
	// CanWrite shows the Build and Deploy buttons.
	CanWrite bool
	// BuildsURL is where a build is asked for; FirstEnvironment names where "Deploy" deploys.
	BuildsURL, FirstEnvironment string
}

// BuildPage is a build's console: steps, log, scan report, endpoints and specs.
type BuildPage struct {
	Layout
	Build api.Build
	// Finished says the build has ended: its log is read once rather than followed.
	Finished bool
	// Scan is the full scan report; nil until the image was scanned.
	Scan *scan.Report
	// Endpoints are the descriptor's endpoints with their specs' operations; nil until the spec step ran.
	Endpoints []Endpoint
	// TemporalURL links to the build's run in the Temporal UI; "" when no UI runs.
	TemporalURL string
	// CanCancel shows "Cancel" (a running build, a role that may write).
	CanCancel bool
	// Quarantine says the build is never deployed or promoted again; nil when it may be.
	Quarantine *api.Quarantine
}

// Endpoint is one endpoint of a build with its spec's operations.
type Endpoint struct {
	descriptor.Endpoint
	// SpecURL is the spec's REST path; "" when the endpoint has none.
	SpecURL string
	// Format is the spec's format (OpenAPI3, Swagger2, GraphQLSchema, Proto); "" when it has none.
	Format string
	// Operations are an OpenAPI or Swagger spec's, in path order; nil for other formats.
	Operations []Operation
}

// Operation is one method on one path of an OpenAPI or Swagger spec.
type Operation struct {
	Method, Path, Summary string
}

// DeployPage is a component's Deploy tab: one card per environment in promotion order, the build picker and the
// deployment history.
type DeployPage struct {
	ComponentPage
	Cards []DeployCard
	// Builds are the component's latest succeeded builds, for the picker, newest first.
	Builds []api.Build
	// Task says the component runs to an end (a scheduled or manual task): its cards show its schedule and "Run
	// now", and Runs its latest runs, newest first.
	Task bool
	Runs []api.TaskRun
	// Quarantined holds the quarantines of the builds shown (the releases and the picker's) that are
	// quarantined, by build ID.
	Quarantined map[string]*api.Quarantine
}

// DeployCard is one environment as the Deploy tab shows it.
type DeployCard struct {
	Environment api.Environment
	// Deployments is what serves there, the drift and the history (api's, as GET …/deployments answers).
	Deployments api.EnvironmentDeployments
	// Last is the newest deployment, whatever its result; nil when there is none.
	Last *api.Deployment
	// Missing names the configs and secrets the current (or last) build requires that the environment lacks.
	Missing []api.RequiredConfig
	// Next is the environment Promote sends the running build to; "" on the last one. NextApprovals is how many
	// approvals a promotion there waits for (zero: none).
	Next          string
	NextApprovals int
	// MayPromote shows "Promote": something serves here, there is a next environment and the role may deploy
	// there or ask for it (production needs an admin, or an approval).
	MayPromote bool
	// MayDeploy shows "Deploy" with the build picker (into an environment with approvals it asks for them).
	MayDeploy bool
	// Gate is what holds promotions and deploys into the environment now.
	Gate Gate
	// Quarantine is the quarantine of the build serving here; nil when it is not quarantined.
	Quarantine *api.Quarantine
	// Schedule is when a scheduled task runs here; nil when it has none.
	Schedule *api.TaskSchedule
	// MayRun shows "Run now": a task with a release here and a role that may run it (production needs an admin).
	MayRun bool
}

// ConfigsPage is a component's configs and secrets, per environment.
type ConfigsPage struct {
	ComponentPage
	Sets []ConfigSet
}

// ConfigSet is one environment's configs and secrets; a secret's value is never in it.
type ConfigSet struct {
	Environment string
	Configs     []api.Config
	// Required are what the newest succeeded build requires, each marked when the environment lacks it.
	Required []Requirement
}

// Requirement is one config or secret a build requires and whether the environment has it.
type Requirement struct {
	api.RequiredConfig
	Set bool
}

// TokensPage lists the API tokens (admin only).
type TokensPage struct {
	Layout
	Tokens []api.Token
}

// PromotionsPage is a project's promotion requests: those that wait (for approvals or a freeze window) first,
// then the latest others, each newest first.
type PromotionsPage struct {
	Layout
	Nav ProjectNav
	// Component keeps the requests of one component; "" means every component's.
	Component       string
	Waiting, Recent []PromotionRow
}

// PromotionRow is a promotion request as the Promotions page lists it.
type PromotionRow struct {
	api.Promotion
	// Approved names who approved it, oldest first; Rejected who rejected it.
	Approved, Rejected []string
	// Quarantine is the build's quarantine; nil when it is not quarantined.
	Quarantine *api.Quarantine
}

// Waiting reports whether the request waits for approvals or a freeze window.
func (r PromotionRow) Waiting() bool {
	return r.Status == api.PromotionPendingApproval || r.Status == api.PromotionWaitingWindow
}

// PromotionPage is one promotion request: what it deploys where, its decisions, its diff and re-scan, and the
// decisions the signed-in token may give.
type PromotionPage struct {
	Layout
	Nav       ProjectNav
	Promotion PromotionRow
	// Approvers names who may approve requests into the environment (roles or token names).
	Approvers []string
	// MayDecide shows Approve and Reject: the request waits for approvals and the role may write (the server
	// still refuses the requester and who is not an approver; OwnRequest and NotApprover say so beforehand).
	MayDecide, OwnRequest, NotApprover bool
	// MayCancel shows Cancel: the request is not queued for deployment yet, and the token asked for it or is
	// an admin's.
	MayCancel bool
	// MayBreakGlass shows Break glass: an admin, and a request not deploying or ended.
	MayBreakGlass bool
}

// ErrorPage says why a page could not be shown.
type ErrorPage struct {
	Layout
	Status  int
	Message string
}
