// Package recorder records histories that workflows/testdata holds for the replay tests, from runs of
// the real workflows on the embedded Temporal server (package localtemporal) with stand-in activities
// registered under the real activity names. Its tests do it; it holds no other code and nothing imports
// it. With SLIPWAY_RECORD_HISTORIES set they rewrite the files in workflows/testdata:
//
//	SLIPWAY_RECORD_HISTORIES=1 go test -count=1 ./workflows/recorder/
//
// The histories that need BuildKit, Docker or a killed worker are recorded by the integration tests.
package recorder
