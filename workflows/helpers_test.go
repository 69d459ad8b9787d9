package workflows

import "go.temporal.io/sdk/activity"

func activityName(name string) activity.RegisterOptions { return activity.RegisterOptions{Name: name} }
