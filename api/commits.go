package api

import "time"

// Commit is TEMPORARY (the commits helper writes the real one).
type Commit struct {
	SHA     string    `json:"sha"`
	Short   string    `json:"short"`
	Title   string    `json:"title"`
	Message string    `json:"message"`
	Author  string    `json:"author"`
	Email   string    `json:"email"`
	At      time.Time `json:"at"`
	Build   *Build    `json:"build,omitempty"`
}
