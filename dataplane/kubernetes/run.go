package kubernetes

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	batchv1ac "k8s.io/client-go/applyconfigurations/batch/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"

	"github.com/slipway-dev/slipway/dataplane"
)

// LabelRun names the task run a Job runs.
const LabelRun = "dev.slipway.run"

var _ dataplane.Runner = (*Driver)(nil)

// jobName is the Job of a task run: "<component>-<run>", a DNS-1123 label.
func jobName(component, run string) string { return label(component + "-" + run) }

// Run runs the task release r once as a Job in the environment's namespace (one pod, never restarted, the
// release's configs from its config Secret), waits until the Job completes or fails, hands the pod's log to
// output, deletes the Job with its pod and returns the container's exit code. A Job made before (a retried
// activity) is waited for, not made again. A pod whose log the cluster cannot give (no kubelet serves it) gives
// a line saying so instead.
func (d *Driver) Run(ctx context.Context, r dataplane.Release, run string, output func(lines []string) error) (dataplane.TaskResult, error) {
	ns := d.namespace(r.Project, r.Environment)
	name := jobName(r.Component, run)
	if _, err := d.Client.BatchV1().Jobs(ns).Get(ctx, name, metav1.GetOptions{}); apierrors.IsNotFound(err) {
		if err := d.createJob(ctx, ns, name, r, run); err != nil {
			return dataplane.TaskResult{}, err
		}
	} else if err != nil {
		return dataplane.TaskResult{}, fmt.Errorf("reading job %s/%s: %w", ns, name, err)
	}
	job, err := d.waitJob(ctx, ns, name)
	if err != nil {
		if ctx.Err() != nil {
			d.deleteJob(ns, name)
		}
		return dataplane.TaskResult{}, err
	}
	res, pod, err := d.jobResult(ctx, ns, job)
	if err != nil {
		return dataplane.TaskResult{}, err
	}
	lines, err := d.podLog(ctx, ns, pod)
	if err != nil {
		return dataplane.TaskResult{}, err
	}
	if err := output(lines); err != nil {
		return dataplane.TaskResult{}, err
	}
	d.deleteJob(ns, name)
	return res, nil
}

// createJob writes the namespace and the release's config Secret, then the run's Job.
func (d *Driver) createJob(ctx context.Context, ns, name string, r dataplane.Release, run string) error {
	if err := d.checkOwner(ctx, ns, r); err != nil {
		return err
	}
	if err := d.applyNamespace(ctx, ns, r.Project, r.Environment); err != nil {
		return err
	}
	secret, data, files := configData(r)
	if err := d.applySecret(ctx, ns, r, secret, data); err != nil {
		return err
	}
	jobLabels := d.labels(r.Project, r.Component, r.Environment)
	jobLabels[dataplane.LabelBuild], jobLabels[LabelRun] = label(r.BuildID), label(run)
	annotations := map[string]string{AnnotationBuild: r.BuildID, AnnotationDigest: r.Digest, AnnotationConfig: secret}
	pod := d.podSpec(r, secret, files, nil).WithRestartPolicy(corev1.RestartPolicyNever)
	job := batchv1ac.Job(name, ns).WithLabels(jobLabels).WithAnnotations(annotations).
		WithSpec(batchv1ac.JobSpec().WithBackoffLimit(0).WithCompletions(1).WithParallelism(1).
			WithTemplate(corev1ac.PodTemplateSpec().WithLabels(jobLabels).WithAnnotations(annotations).WithSpec(pod)))
	if _, err := d.Client.BatchV1().Jobs(ns).Apply(ctx, job, apply()); err != nil {
		return refused(fmt.Errorf("applying job %s/%s: %w", ns, name, err))
	}
	return nil
}

// podSpec is the pod that runs r, with its configs from Secret secret and the files in it at files: one container
// named for the component, which more adds to (a service's ports and probes; nil adds nothing, as for a task).
func (d *Driver) podSpec(r dataplane.Release, secret string, files []string, more func(*corev1ac.ContainerApplyConfiguration)) *corev1ac.PodSpecApplyConfiguration {
	c := corev1ac.Container().WithName(r.Component).WithImage(r.Image).WithImagePullPolicy(corev1.PullIfNotPresent)
	if more != nil {
		more(c)
	}
	for _, k := range slices.Sorted(maps.Keys(r.Env)) {
		c.WithEnv(corev1ac.EnvVar().WithName(k).WithValueFrom(corev1ac.EnvVarSource().
			WithSecretKeyRef(corev1ac.SecretKeySelector().WithName(secret).WithKey("env." + k))))
	}
	for i, p := range files {
		c.WithVolumeMounts(corev1ac.VolumeMount().WithName("config").WithMountPath(p).
			WithSubPath("file." + strconv.Itoa(i)).WithReadOnly(true))
	}
	if limits := resources(r); len(limits) > 0 {
		c.WithResources(corev1ac.ResourceRequirements().WithLimits(limits).WithRequests(limits))
	}
	pod := corev1ac.PodSpec().WithContainers(c).WithEnableServiceLinks(false)
	if len(files) > 0 {
		// 0444: the files are read, never written.
		pod.WithVolumes(corev1ac.Volume().WithName("config").WithSecret(
			corev1ac.SecretVolumeSource().WithSecretName(secret).WithDefaultMode(0o444)))
	}
	return pod
}

// waitJob polls the Job until it has completed or failed, or ctx ends.
func (d *Driver) waitJob(ctx context.Context, ns, name string) (*batchv1.Job, error) {
	poll := d.Poll
	if poll <= 0 {
		poll = time.Second
	}
	for {
		job, err := d.Client.BatchV1().Jobs(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("reading job %s/%s: %w", ns, name, err)
		}
		for _, c := range job.Status.Conditions {
			if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
				return job, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(poll):
		}
	}
}

// jobResult reads how the Job's pod ended: its container's exit code and times. A Job that failed without a pod
// that ran (the image could not be pulled, the deadline passed) is refused, naming the Job's reason.
func (d *Driver) jobResult(ctx context.Context, ns string, job *batchv1.Job) (dataplane.TaskResult, string, error) {
	pods, err := d.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{
		LabelSelector: labels.SelectorFromSet(map[string]string{batchv1.JobNameLabel: job.Name}).String()})
	if err != nil {
		return dataplane.TaskResult{}, "", fmt.Errorf("listing the pods of job %s/%s: %w", ns, job.Name, err)
	}
	for _, p := range pods.Items {
		for _, cs := range p.Status.ContainerStatuses {
			if t := cs.State.Terminated; t != nil {
				return dataplane.TaskResult{ExitCode: int(t.ExitCode), StartedAt: t.StartedAt.UTC(), EndedAt: t.FinishedAt.UTC()}, p.Name, nil
			}
		}
	}
	reason := "no pod of it ran to an end"
	for _, c := range job.Status.Conditions {
		if c.Type == batchv1.JobFailed {
			reason = c.Reason + ": " + c.Message
		}
	}
	return dataplane.TaskResult{}, "", fmt.Errorf("job %s/%s failed: %s: %w", ns, job.Name, reason, dataplane.ErrRefused)
}

// podLogTimeout bounds reading a finished pod's log.
const podLogTimeout = 30 * time.Second

// podLog reads the pod's log, line by line; a log the cluster does not serve gives one line saying why.
func (d *Driver) podLog(ctx context.Context, ns, pod string) ([]string, error) {
	// A log is read from the pod's kubelet through the API server: one that does not answer must not hold the run.
	lctx, cancel := context.WithTimeout(ctx, podLogTimeout)
	defer cancel()
	s, err := d.Client.CoreV1().Pods(ns).GetLogs(pod, &corev1.PodLogOptions{}).Stream(lctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return []string{fmt.Sprintf("(slipway: the log of pod %s/%s could not be read: %s)", ns, pod, apierrors.ReasonForError(err))}, nil
	}
	defer s.Close()
	var lines []string
	sc := bufio.NewScanner(s)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines, sc.Err()
}

// deleteJob deletes a run's Job and its pod, on a context of its own (the run's may have ended); one already gone
// is no error, and a failure only leaves the finished Job for the cluster's own clean-up.
func (d *Driver) deleteJob(ns, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bg := metav1.DeletePropagationBackground
	_ = d.Client.BatchV1().Jobs(ns).Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: &bg})
}
