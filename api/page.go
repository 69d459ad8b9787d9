package api

// Page is a list answer: the items of one page and the cursor of the next.
type Page[T any] struct {
	// Items are the page's entries; never null, [] when there are none.
	Items []T `json:"items"`
	// Next is the cursor to pass as ?cursor= for the following page; "" (and absent) on the last page and on
	// lists that are not paged.
	Next string `json:"next,omitempty"`
}
