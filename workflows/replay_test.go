package workflows

import (
	"testing"

	"go.temporal.io/sdk/worker"
)

// TestReplayRecordedHistories replays histories recorded from real runs against the embedded
// Temporal (integration tests rewrite them with SLIPWAY_RECORD_HISTORIES=1), so a change to a
// workflow that breaks determinism for runs already in flight fails here. build_pipeline.json is a
// build whose worker was killed mid-build (integration's TestBuildResumesAfterWorkerKilled): its
// session failed and the pipeline started over in a new one, then scanned, pushed and stored its
// spec. build_pipeline_before_scan.json is the same from before the scan and spec steps were added.
// deploy_queue.json is production's deploy queue of integration's TestDeployPromoteAndSurviveABadBuild: a
// promotion that succeeded and a broken build's rollout that failed.
func TestReplayRecordedHistories(t *testing.T) {
	for _, file := range []string{"testdata/rotate_keys.json", "testdata/build_pipeline.json", "testdata/build_pipeline_before_scan.json",
		"testdata/deploy_queue.json"} {
		t.Run(file, func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflow(RotateKeys)
			r.RegisterWorkflow(BuildPipeline)
			r.RegisterWorkflow(DeployQueue)
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, file); err != nil {
				t.Fatalf("replaying %s: %v", file, err)
			}
		})
	}
}
