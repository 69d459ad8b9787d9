package descriptor

import (
	"errors"
	"strconv"
	"strings"
)

// ErrInvalid matches, through errors.Is, every error that reports a problem with a repository's content:
// an invalid descriptor, a spec file that is missing, too large, outside the repository or invalid.
var ErrInvalid = errors.New("invalid component descriptor")

// Error reports the problems found in one file. It matches ErrInvalid.
type Error struct {
	// File is the file the problems are in, relative to the repository root, e.g. Path.
	File string `json:"file"`
	// Problems are the problems found, in the order of the file; never empty.
	Problems []Problem `json:"problems"`
}

// Problem is one problem in a file.
type Problem struct {
	// Line is the 1-based line the problem is on. Zero means the problem is not on one line, for
	// example a file that is too large or a spec file's error.
	Line int `json:"line,omitempty"`
	// Field is the path of the field the problem is in, e.g. "endpoints[0].port". Empty means the
	// problem is with the file as a whole.
	Field string `json:"field,omitempty"`
	// Message says what is wrong.
	Message string `json:"message"`
}

// Error returns the problems one a line, each as "file:line: field: message", leaving out the line and
// the field where they are zero.
func (e *Error) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.File)
		if p.Line > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(p.Line))
		}
		b.WriteString(": ")
		if p.Field != "" {
			b.WriteString(p.Field)
			b.WriteString(": ")
		}
		b.WriteString(p.Message)
	}
	return b.String()
}

// Is reports whether target is ErrInvalid.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// invalid returns an *Error holding one problem.
func invalid(file string, line int, field, message string) *Error {
	return &Error{File: file, Problems: []Problem{{Line: line, Field: field, Message: message}}}
}
