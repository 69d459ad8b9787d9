package sourcebuild_test

import (
	"strings"
	"testing"
)

// The frontend check of the other tests can fail: it reports what BuildKit warns about or refuses.
func TestFrontendCatches(t *testing.T) {
	for _, tc := range []struct{ name, df, want string }{
		{"build checks", "from busybox as Build\nCMD echo $PORT\n", "build check JSONArgsRecommended"},
		{"stage casing", "FROM busybox AS Build\nCMD [\"true\"]\n", "build check StageNameCasing"},
		{"undefined variable", "FROM busybox\nCOPY $NOPE /x\n", "build check UndefinedVar"},
		{"empty continuation", "FROM busybox\nRUN true \\\n\n  && true\n", "parser:"},
		{"unknown instruction", "FROM busybox\nSERVE 8080\n", "unknown instruction"},
		{"bad mount", "FROM busybox\nRUN --mount=type=bogus true\n", "bogus"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, problems, err := frontend(tc.df)
			got := strings.Join(problems, "\n")
			if err != nil {
				got += "\n" + err.Error()
			}
			if !strings.Contains(got, tc.want) {
				t.Errorf("frontend(%q) reported %q, want %q", tc.df, got, tc.want)
			}
		})
	}
}
