package api

import "time"

// Commits is the answer of GET /api/v1/projects/{p}/components/{c}/commits: the newest commits of the
// component's branch, newest first, following first parents from the branch's tip.
type Commits struct {
	// Items are the commits, at most the limit asked for (20 when none is); [] when the branch has none.
	Items []Commit `json:"items"`
}

// Commit is a commit of a component's branch as the API shows it, with the build slipway has of it.
type Commit struct {
	// SHA is the commit's full 40-hex SHA.
	SHA string `json:"sha"`
	// Short is the first 7 hex digits of SHA.
	Short string `json:"short"`
	// Title is the message's first line.
	Title string `json:"title"`
	// Message is the whole commit message.
	Message string `json:"message"`
	// Author and Email are the commit author's name and e-mail address.
	Author string `json:"author"`
	Email  string `json:"email"`
	// At is when the commit was authored (UTC).
	At time.Time `json:"at"`
	// Build is the commit's build for this component: its newest run (a build whose workflow never started
	// does not count); nil (and absent) when slipway has not built the commit.
	Build *Build `json:"build,omitempty"`
}
