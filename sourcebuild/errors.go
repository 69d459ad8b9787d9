package sourcebuild

// Error is a source that cannot be built from source as it is, or options that cannot apply to it.
// It is never worth retrying: the repository or the options must change. I/O failures (a context
// that cannot be read) are other, wrapped errors.
type Error struct {
	// Field names what is wrong: "language", "version", "build", "start", "images.node", or a file of
	// the source such as "package.json" or "go.mod".
	Field string
	// Msg says what is wrong and, where it can, how to put it right.
	Msg string
}

// Error returns "field: msg".
func (e *Error) Error() string { return e.Field + ": " + e.Msg }

// invalid returns an *Error.
func invalid(field, msg string) *Error { return &Error{Field: field, Msg: msg} }
