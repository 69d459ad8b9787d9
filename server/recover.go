package server

import (
	"fmt"
	"net/http"
	"runtime/debug"

	"github.com/labstack/echo/v4"
)

// recoverPanics turns a panicking handler into an error (with the stack) so it is answered as a 500 and logged once.
func recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			r := recover()
			if r == nil {
				return
			}
			if r == http.ErrAbortHandler {
				panic(r)
			}
			err = fmt.Errorf("panic serving %s %s: %v\n%s", c.Request().Method, c.Path(), r, debug.Stack())
		}()
		return next(c)
	}
}
