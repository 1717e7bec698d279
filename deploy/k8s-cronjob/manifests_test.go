package k8scronjob

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
	"github.com/evidence-pack/evidence/internal/config"
	"github.com/evidence-pack/evidence/internal/source"
	lwsource "github.com/evidence-pack/evidence/internal/source/lacework"
	"github.com/evidence-pack/evidence/internal/source/sources"
)

// The names the manifests share; a change to one must be a change to all.
const (
	namespace      = "evidence"
	appName        = "evidence"
	containerName  = "evidence"
	serviceAccount = "evidence"
	configMapName  = "evidence-config"
	configKey      = "evidence.yaml"
	configPath     = "/etc/evidence/evidence.yaml"
	secretName     = "evidence-lacework"
	nonRootID      = int64(65532)
)

// kustomization is the part of kustomize's Kustomization these manifests
// use; decoding it strictly makes any other field a test failure, so a new
// field is a deliberate change here too.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Namespace  string   `json:"namespace"`
	Resources  []string `json:"resources"`
	Images     []struct {
		Name    string `json:"name"`
		NewName string `json:"newName,omitempty"`
		NewTag  string `json:"newTag,omitempty"`
		Digest  string `json:"digest,omitempty"`
	} `json:"images,omitempty"`
}

// kinds maps "apiVersion kind" to a new typed object to decode into.
var kinds = map[string]func() any{
	"batch/v1 CronJob":  func() any { return new(batchv1.CronJob) },
	"batch/v1 Job":      func() any { return new(batchv1.Job) },
	"v1 ServiceAccount": func() any { return new(corev1.ServiceAccount) },
	"v1 ConfigMap":      func() any { return new(corev1.ConfigMap) },
	"v1 Secret":         func() any { return new(corev1.Secret) },
	"v1 Namespace":      func() any { return new(corev1.Namespace) },
	"kustomize.config.k8s.io/v1beta1 Kustomization": func() any { return new(kustomization) },
}

// decode reads one YAML document strictly into the type its apiVersion and
// kind name: an unknown or misspelt field, a duplicate key or a value of the
// wrong type is an error (sigs.k8s.io/yaml turns the YAML into JSON and
// decodes it with DisallowUnknownFields into the Kubernetes API types).
func decode(doc []byte) (any, error) {
	var tm struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return nil, err
	}
	newObj, ok := kinds[tm.APIVersion+" "+tm.Kind]
	if !ok {
		return nil, fmt.Errorf("apiVersion %q kind %q: not a kind these manifests use (add it to kinds)", tm.APIVersion, tm.Kind)
	}
	obj := newObj()
	if err := yaml.UnmarshalStrict(doc, obj); err != nil {
		return nil, fmt.Errorf("%s: %w", tm.Kind, err)
	}
	return obj, nil
}

// splitDocs splits a YAML stream on "---" lines and drops documents that
// hold only comments or blank lines.
func splitDocs(b []byte) [][]byte {
	var docs [][]byte
	for _, d := range regexp.MustCompile(`(?m)^---[ \t]*$`).Split(string(b), -1) {
		for line := range strings.Lines(d) {
			if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "#") {
				docs = append(docs, []byte(d))
				break
			}
		}
	}
	return docs
}

// object is one decoded manifest.
type object struct {
	path string // slash-separated, relative to this directory
	obj  any
}

// manifests decodes every YAML file under this directory (indexed-job/
// included), failing the test on the first that does not decode.
func manifests(t *testing.T) []object {
	t.Helper()
	var out []object
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !(strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		docs := splitDocs(b)
		if len(docs) == 0 {
			return fmt.Errorf("%s: no document", p)
		}
		for i, doc := range docs {
			obj, err := decode(doc)
			if err != nil {
				return fmt.Errorf("%s (document %d): %w", p, i+1, err)
			}
			out = append(out, object{path: filepath.ToSlash(p), obj: obj})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// only returns the one object of type T in file p.
func only[T any](t *testing.T, all []object, p string) *T {
	t.Helper()
	var found []*T
	for _, o := range all {
		if o.path != p {
			continue
		}
		v, ok := o.obj.(*T)
		if !ok {
			t.Fatalf("%s holds a %T, want %T", p, o.obj, new(T))
		}
		found = append(found, v)
	}
	if len(found) != 1 {
		t.Fatalf("%s: %d objects, want 1", p, len(found))
	}
	return found[0]
}

func TestDecodeIsStrict(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		wantErr   string
	}{
		{"valid", "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: a\n", ""},
		{"misspelt field", "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: a\nspec:\n  schedule: '* * * * *'\n  concurrencyPolicy: Forbid\n  startingDeadline: 60\n", "unknown field"},
		{"field of another kind", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\nstringData:\n  k: v\n", "unknown field"},
		{"duplicate key", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n", "already set"},
		{"wrong type", "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: a\nspec:\n  backoffLimit: two\n", "backoffLimit"},
		{"bad quantity", "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: a\nspec:\n  template:\n    spec:\n      containers:\n        - name: c\n          resources:\n            limits:\n              memory: lots\n", "quantities"},
		{"unknown kind", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\n", "not a kind"},
		{"kustomization typo", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresource:\n  - a.yaml\n", "unknown field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decode([]byte(tc.doc))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("decode: %v", err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("decode accepted it, want an error containing %q", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("decode: %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
	if got, n := uncommentExamples("a: 1\n# Prose: not a key\n# b3:\n#   c: 2   # note\n  # - item\n"); got != "a: 1\n# Prose: not a key\nb3:\n  c: 2   # note\n  # - item\n" || n != 2 {
		t.Errorf("uncommentExamples: %d lines, %q", n, got)
	}
	if got := len(splitDocs([]byte("# only a comment\n---\na: 1\n---\n\n"))); got != 1 {
		t.Errorf("splitDocs: %d documents, want 1", got)
	}
}

// TestEveryManifest decodes every YAML file here strictly and checks what
// every object shares: a valid name, the namespace (from kustomize, or the
// same one written out), the app label.
func TestEveryManifest(t *testing.T) {
	all := manifests(t)
	want := []string{
		"configmap.yaml", "cronjob.yaml", "indexed-job/job.yaml", "indexed-job/kustomization.yaml",
		"kustomization.yaml", "namespace.yaml", "secret.example.yaml", "serviceaccount.yaml",
	}
	var got []string
	for _, o := range all {
		got = append(got, o.path)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("files = %v, want %v (a new manifest needs its checks here)", got, want)
	}
	for _, o := range all {
		t.Run(o.path, func(t *testing.T) {
			if k, ok := o.obj.(*kustomization); ok {
				if k.Namespace != namespace {
					t.Errorf("namespace %q, want %q", k.Namespace, namespace)
				}
				return
			}
			meta := objectMeta(o.obj)
			for _, msg := range validation.IsDNS1123Subdomain(meta.name) {
				t.Errorf("name %q: %s", meta.name, msg)
			}
			if meta.namespace != "" && meta.namespace != namespace {
				t.Errorf("namespace %q, want %q or none", meta.namespace, namespace)
			}
			if meta.labels["app.kubernetes.io/name"] != appName {
				t.Errorf("label app.kubernetes.io/name = %q, want %q", meta.labels["app.kubernetes.io/name"], appName)
			}
		})
	}
}

type meta struct {
	name, namespace string
	labels          map[string]string
}

func objectMeta(obj any) meta {
	switch o := obj.(type) {
	case *batchv1.CronJob:
		return meta{o.Name, o.Namespace, o.Labels}
	case *batchv1.Job:
		return meta{o.Name, o.Namespace, o.Labels}
	case *corev1.ServiceAccount:
		return meta{o.Name, o.Namespace, o.Labels}
	case *corev1.ConfigMap:
		return meta{o.Name, o.Namespace, o.Labels}
	case *corev1.Secret:
		return meta{o.Name, o.Namespace, o.Labels}
	case *corev1.Namespace:
		return meta{o.Name, o.Namespace, o.Labels}
	}
	panic(fmt.Sprintf("no metadata for %T", obj))
}

func TestKustomizations(t *testing.T) {
	all := manifests(t)
	for _, tc := range []struct {
		dir        string
		mustList   []string // resources that must be listed
		mustNotUse []string // files that must not be listed
	}{
		{".", []string{"namespace.yaml", "serviceaccount.yaml", "configmap.yaml", "cronjob.yaml"},
			// placeholders would overwrite the real Secret; the sharded Job is optional
			[]string{"secret.example.yaml", "indexed-job", "indexed-job/job.yaml"}},
		{"indexed-job", []string{"job.yaml"},
			// the base (namespace, account, ConfigMap, CronJob) is applied on its own
			[]string{"..", "../cronjob.yaml", "../secret.example.yaml"}},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			k := only[kustomization](t, all, filepath.ToSlash(filepath.Join(tc.dir, "kustomization.yaml")))
			if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
				t.Errorf("%s %s", k.APIVersion, k.Kind)
			}
			seen := map[string]bool{}
			for _, r := range k.Resources {
				if seen[r] {
					t.Errorf("resource %s listed twice", r)
				}
				seen[r] = true
				if _, err := os.Stat(filepath.Join(tc.dir, filepath.FromSlash(r))); err != nil {
					t.Errorf("resource %s: %v", r, err)
				}
			}
			for _, r := range tc.mustList {
				if !seen[r] {
					t.Errorf("resource %s is not listed", r)
				}
			}
			for _, r := range tc.mustNotUse {
				if seen[r] {
					t.Errorf("resource %s must not be listed", r)
				}
			}
			// Every manifest beside the kustomization is either listed or
			// deliberately left out.
			entries, err := os.ReadDir(tc.dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				n := e.Name()
				if strings.HasSuffix(n, ".yaml") && n != "kustomization.yaml" && !seen[n] && !slices.Contains(tc.mustNotUse, n) {
					t.Errorf("%s is neither a resource nor deliberately left out", n)
				}
			}
			// images: entries must name the image the workloads use, or
			// kustomize edit set image changes nothing.
			var used []string
			for _, o := range all {
				if filepath.ToSlash(filepath.Dir(o.path)) != filepath.ToSlash(filepath.Clean(tc.dir)) || !seen[filepath.Base(o.path)] {
					continue
				}
				if ps := podSpecOf(o.obj); ps != nil {
					for _, c := range ps.Containers {
						used = append(used, imageName(c.Image))
					}
				}
			}
			if len(used) == 0 {
				t.Fatal("no workload among the resources")
			}
			for _, im := range k.Images {
				if !slices.Contains(used, im.Name) {
					t.Errorf("images: %s is not an image of the resources (%v)", im.Name, used)
				}
			}
		})
	}
}

// imageName is an image reference without its tag or digest.
func imageName(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		ref = ref[:i]
	}
	return ref
}

func podSpecOf(obj any) *corev1.PodSpec {
	switch o := obj.(type) {
	case *batchv1.CronJob:
		return &o.Spec.JobTemplate.Spec.Template.Spec
	case *batchv1.Job:
		return &o.Spec.Template.Spec
	}
	return nil
}

func jobSpecOf(obj any) *batchv1.JobSpec {
	switch o := obj.(type) {
	case *batchv1.CronJob:
		return &o.Spec.JobTemplate.Spec
	case *batchv1.Job:
		return &o.Spec
	}
	return nil
}

func TestCronJob(t *testing.T) {
	cj := only[batchv1.CronJob](t, manifests(t), "cronjob.yaml")
	s := cj.Spec
	j := s.JobTemplate.Spec
	for _, c := range []struct {
		name string
		got  any
		want any
	}{
		{"name", cj.Name, "evidence"},
		{"schedule", s.Schedule, "15 2 * * *"},
		{"timeZone", deref(s.TimeZone), "Etc/UTC"},
		{"concurrencyPolicy", s.ConcurrencyPolicy, batchv1.ForbidConcurrent},
		{"startingDeadlineSeconds", deref(s.StartingDeadlineSeconds), int64(3600)},
		{"successfulJobsHistoryLimit", deref(s.SuccessfulJobsHistoryLimit), int32(3)},
		{"failedJobsHistoryLimit", deref(s.FailedJobsHistoryLimit), int32(5)},
		{"suspend unset", s.Suspend == nil || !*s.Suspend, true},
		{"backoffLimit", deref(j.BackoffLimit), int32(2)},
		{"activeDeadlineSeconds", deref(j.ActiveDeadlineSeconds), int64(14400)},
		{"ttlSecondsAfterFinished", deref(j.TTLSecondsAfterFinished), int32(86400)},
		{"not indexed", j.CompletionMode == nil || *j.CompletionMode == batchv1.NonIndexedCompletion, true},
		{"args", container(t, &j.Template.Spec).Args, []string{"run", "--config", configPath, "--log-json"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
				t.Errorf("got %v, want %v", c.got, c.want)
			}
		})
	}
	t.Run("schedule has five fields", func(t *testing.T) {
		if f := strings.Fields(s.Schedule); len(f) != 5 {
			t.Errorf("%q: %d fields", s.Schedule, len(f))
		}
	})
	t.Run("a run can finish before the next one is due", func(t *testing.T) {
		if d := deref(j.ActiveDeadlineSeconds); d <= 0 || d >= 24*3600 {
			t.Errorf("activeDeadlineSeconds %d: want (0, 86400) for a daily schedule", d)
		}
	})
}

func TestIndexedJob(t *testing.T) {
	job := only[batchv1.Job](t, manifests(t), "indexed-job/job.yaml")
	s := job.Spec
	n := deref(s.Completions)
	c := container(t, &s.Template.Spec)
	for _, tc := range []struct {
		name string
		ok   bool
		why  string
	}{
		{"completionMode Indexed", s.CompletionMode != nil && *s.CompletionMode == batchv1.IndexedCompletion, fmt.Sprint(s.CompletionMode)},
		{"completions 4", n == 4, fmt.Sprint(n)},
		{"parallelism == completions", deref(s.Parallelism) == n, fmt.Sprintf("parallelism %d, completions %d", deref(s.Parallelism), n)},
		{"retries per index", deref(s.BackoffLimitPerIndex) > 0, "set backoffLimitPerIndex"},
		{"activeDeadlineSeconds", deref(s.ActiveDeadlineSeconds) > 0, "unset"},
		{"ttlSecondsAfterFinished", deref(s.TTLSecondsAfterFinished) > 0, "unset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.ok {
				t.Error(tc.why)
			}
		})
	}

	t.Run("JOB_COMPLETION_INDEX from the downward API", func(t *testing.T) {
		e := envVar(c, "JOB_COMPLETION_INDEX")
		if e == nil || e.ValueFrom == nil || e.ValueFrom.FieldRef == nil {
			t.Fatal("JOB_COMPLETION_INDEX: want valueFrom.fieldRef")
		}
		if got, want := e.ValueFrom.FieldRef.FieldPath, "metadata.annotations['"+batchv1.JobCompletionIndexAnnotation+"']"; got != want {
			t.Errorf("fieldPath %q, want %q", got, want)
		}
	})

	t.Run("--shard covers every index once", func(t *testing.T) {
		i := slices.Index(c.Args, "--shard")
		if i < 0 || i+1 >= len(c.Args) {
			t.Fatalf("args %q: no --shard VALUE", c.Args)
		}
		if c.Args[0] != "run" {
			t.Errorf("args %q: want the run command first", c.Args)
		}
		val := c.Args[i+1]
		want := fmt.Sprintf("$(JOB_COMPLETION_INDEX)/%d", n)
		if val != want {
			t.Fatalf("--shard %s, want %s: the shard count must equal completions", val, want)
		}
		// What each pod gets once Kubernetes expands $(JOB_COMPLETION_INDEX):
		// a shard the program accepts, all of them distinct.
		seen := map[config.Shard]bool{}
		for idx := range int(n) {
			expanded := strings.ReplaceAll(val, "$(JOB_COMPLETION_INDEX)", strconv.Itoa(idx))
			sh, err := config.ParseShard(expanded)
			if err != nil {
				t.Fatalf("pod %d: %v", idx, err)
			}
			if sh.Index != idx || sh.Count != int(n) || seen[sh] {
				t.Errorf("pod %d: shard %+v", idx, sh)
			}
			seen[sh] = true
		}
		if _, err := config.ParseShard(strings.ReplaceAll(val, "$(JOB_COMPLETION_INDEX)", strconv.Itoa(int(n)))); err == nil {
			t.Errorf("index %d (one past the last) is accepted: the count is wrong", n)
		}
	})

	t.Run("same pod as the CronJob but for the shard", func(t *testing.T) {
		cj := only[batchv1.CronJob](t, manifests(t), "cronjob.yaml")
		want := cj.Spec.JobTemplate.Spec.Template.Spec.DeepCopy()
		got := s.Template.Spec.DeepCopy()
		gc, wc := &got.Containers[0], &want.Containers[0]
		gc.Args = slices.DeleteFunc(slices.Clone(gc.Args), func(a string) bool { return a == "--shard" || strings.HasPrefix(a, "$(JOB_COMPLETION_INDEX)") })
		gc.Env = slices.DeleteFunc(gc.Env, func(e corev1.EnvVar) bool { return e.Name == "JOB_COMPLETION_INDEX" })
		if fmt.Sprint(gc.Args) != fmt.Sprint(wc.Args) {
			t.Errorf("args %q, want the CronJob's %q plus --shard", gc.Args, wc.Args)
		}
		gc.Args, wc.Args = nil, nil
		if a, b := mustJSON(t, got), mustJSON(t, want); a != b {
			t.Errorf("pod spec differs from the CronJob's:\n job:     %s\n cronjob: %s", a, b)
		}
	})
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// workloads are the pod templates that run the program.
func workloads(t *testing.T, all []object) map[string]*batchv1.JobSpec {
	t.Helper()
	m := map[string]*batchv1.JobSpec{}
	for _, o := range all {
		if js := jobSpecOf(o.obj); js != nil {
			m[o.path] = js
		}
	}
	if len(m) != 2 {
		t.Fatalf("workloads %v, want the CronJob and the Indexed Job", m)
	}
	return m
}

func container(t *testing.T, ps *corev1.PodSpec) *corev1.Container {
	t.Helper()
	if len(ps.Containers) != 1 || ps.Containers[0].Name != containerName {
		t.Fatalf("want one container named %q", containerName)
	}
	return &ps.Containers[0]
}

func envVar(c *corev1.Container, name string) *corev1.EnvVar {
	for i := range c.Env {
		if c.Env[i].Name == name {
			return &c.Env[i]
		}
	}
	return nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// TestPods checks each workload's pod: the checks are a table, run against
// every pod template (the CronJob's and the Indexed Job's).
func TestPods(t *testing.T) {
	all := manifests(t)
	secret := only[corev1.Secret](t, all, "secret.example.yaml")
	cm := only[corev1.ConfigMap](t, all, "configmap.yaml")
	sa := only[corev1.ServiceAccount](t, all, "serviceaccount.yaml")

	checks := []struct {
		name  string
		check func(t *testing.T, js *batchv1.JobSpec, ps *corev1.PodSpec, c *corev1.Container)
	}{
		{"service account", func(t *testing.T, _ *batchv1.JobSpec, ps *corev1.PodSpec, _ *corev1.Container) {
			if ps.ServiceAccountName != serviceAccount || ps.ServiceAccountName != sa.Name {
				t.Errorf("serviceAccountName %q, want %q (serviceaccount.yaml)", ps.ServiceAccountName, sa.Name)
			}
		}},
		{"restartPolicy Never", func(t *testing.T, _ *batchv1.JobSpec, ps *corev1.PodSpec, _ *corev1.Container) {
			if ps.RestartPolicy != corev1.RestartPolicyNever {
				t.Errorf("restartPolicy %q", ps.RestartPolicy)
			}
		}},
		{"image placeholder", func(t *testing.T, _ *batchv1.JobSpec, _ *corev1.PodSpec, c *corev1.Container) {
			if imageName(c.Image) != "ghcr.io/evidence-pack/evidence" {
				t.Errorf("image %q", c.Image)
			}
		}},
		{"args", func(t *testing.T, _ *batchv1.JobSpec, _ *corev1.PodSpec, c *corev1.Container) {
			if len(c.Command) != 0 {
				t.Errorf("command %q: the image's ENTRYPOINT is the program; set args only", c.Command)
			}
			if len(c.Args) == 0 || c.Args[0] != "run" {
				t.Fatalf("args %q: want run first", c.Args)
			}
			if i := slices.Index(c.Args, "--config"); i < 0 || i+1 >= len(c.Args) || c.Args[i+1] != configPath {
				t.Errorf("args %q: want --config %s", c.Args, configPath)
			}
			if !slices.Contains(c.Args, "--log-json") {
				t.Errorf("args %q: want --log-json (one JSON object a line for the log pipeline)", c.Args)
			}
		}},
		{"Lacework key from the Secret", func(t *testing.T, _ *batchv1.JobSpec, _ *corev1.PodSpec, c *corev1.Container) {
			for _, name := range []string{"LW_API_KEY", "LW_API_SECRET"} {
				e := envVar(c, name)
				if e == nil || e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
					t.Errorf("%s: want valueFrom.secretKeyRef", name)
					continue
				}
				ref := e.ValueFrom.SecretKeyRef
				if ref.Name != secretName || ref.Name != secret.Name {
					t.Errorf("%s: secret %q, want %q", name, ref.Name, secretName)
				}
				if _, ok := secret.StringData[ref.Key]; !ok || ref.Key != name {
					t.Errorf("%s: key %q, want %q, a key of secret.example.yaml", name, ref.Key, name)
				}
				if ref.Optional != nil && *ref.Optional {
					t.Errorf("%s: optional: a missing Secret must stop the pod, not run without a key", name)
				}
			}
			for _, e := range c.Env {
				if e.Value != "" && (strings.Contains(e.Name, "SECRET") || strings.Contains(e.Name, "KEY")) {
					t.Errorf("%s has a literal value: secrets come from the Secret", e.Name)
				}
			}
			if len(c.EnvFrom) != 0 {
				t.Errorf("envFrom %v: name each variable", c.EnvFrom)
			}
		}},
		{"TMPDIR on the scratch emptyDir", func(t *testing.T, _ *batchv1.JobSpec, ps *corev1.PodSpec, c *corev1.Container) {
			e := envVar(c, "TMPDIR")
			if e == nil || e.Value != "/tmp" {
				t.Errorf("TMPDIR: want /tmp")
			}
			m := mountAt(c, "/tmp")
			if m == nil {
				t.Fatal("nothing mounted at /tmp")
			}
			v := volume(ps, m.Name)
			if v == nil || v.EmptyDir == nil {
				t.Fatalf("/tmp: volume %q is not an emptyDir", m.Name)
			}
			if m.Name != "scratch" || m.ReadOnly {
				t.Errorf("/tmp: mount %+v, want scratch, writable", m)
			}
			if v.EmptyDir.SizeLimit == nil || v.EmptyDir.SizeLimit.Cmp(resource.MustParse("1Gi")) < 0 {
				t.Errorf("scratch: sizeLimit %v, want at least 1Gi", v.EmptyDir.SizeLimit)
			}
			if v.EmptyDir.Medium == corev1.StorageMediumMemory {
				t.Error("scratch in memory would count against the memory limit")
			}
		}},
		{"config mounted read-only from the ConfigMap", func(t *testing.T, _ *batchv1.JobSpec, ps *corev1.PodSpec, c *corev1.Container) {
			dir, file := filepath.Dir(configPath), filepath.Base(configPath)
			m := mountAt(c, dir)
			if m == nil {
				t.Fatalf("nothing mounted at %s", dir)
			}
			if !m.ReadOnly {
				t.Errorf("%s: mount is not readOnly", dir)
			}
			v := volume(ps, m.Name)
			if v == nil || v.ConfigMap == nil || v.ConfigMap.Name != configMapName || cm.Name != configMapName {
				t.Fatalf("%s: volume %q is not ConfigMap %s", dir, m.Name, configMapName)
			}
			key := file
			for _, it := range v.ConfigMap.Items {
				if it.Path == file {
					key = it.Key
				}
			}
			if _, ok := cm.Data[key]; !ok || key != configKey {
				t.Errorf("--config %s: the ConfigMap has no key %q", configPath, key)
			}
		}},
		{"every mount has a volume, every volume a mount", func(t *testing.T, _ *batchv1.JobSpec, ps *corev1.PodSpec, c *corev1.Container) {
			for _, m := range c.VolumeMounts {
				if volume(ps, m.Name) == nil {
					t.Errorf("mount %s: no volume %q", m.MountPath, m.Name)
				}
			}
			for _, v := range ps.Volumes {
				if !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.Name == v.Name }) {
					t.Errorf("volume %s is not mounted", v.Name)
				}
			}
		}},
		{"resources", func(t *testing.T, _ *batchv1.JobSpec, _ *corev1.PodSpec, c *corev1.Container) {
			r := c.Resources
			for _, q := range []struct {
				name string
				list corev1.ResourceList
				res  corev1.ResourceName
				want string
			}{
				{"requests.cpu", r.Requests, corev1.ResourceCPU, "250m"},
				{"requests.memory", r.Requests, corev1.ResourceMemory, "256Mi"},
				{"limits.memory", r.Limits, corev1.ResourceMemory, "512Mi"},
			} {
				got, ok := q.list[q.res]
				if want := resource.MustParse(q.want); !ok || got.Cmp(want) != 0 {
					t.Errorf("%s = %v, want %s", q.name, got.String(), q.want)
				}
			}
			if lim, req := r.Limits[corev1.ResourceMemory], r.Requests[corev1.ResourceMemory]; lim.Cmp(req) < 0 {
				t.Errorf("memory limit %v below request %v", lim.String(), req.String())
			}
			// 270 MB measured peak RSS for a demo run (see the comment).
			if lim := r.Limits[corev1.ResourceMemory]; lim.Value() < 270_000_000 {
				t.Errorf("memory limit %v is below a demo run's measured peak", lim.String())
			}
		}},
		{"GOMEMLIMIT follows the memory limit", func(t *testing.T, _ *batchv1.JobSpec, _ *corev1.PodSpec, c *corev1.Container) {
			e := envVar(c, "GOMEMLIMIT")
			if e == nil {
				return
			}
			if e.ValueFrom == nil || e.ValueFrom.ResourceFieldRef == nil || e.ValueFrom.ResourceFieldRef.Resource != "limits.memory" ||
				e.ValueFrom.ResourceFieldRef.ContainerName != c.Name {
				t.Errorf("GOMEMLIMIT: want resourceFieldRef limits.memory of %s", c.Name)
			}
		}},
		{"restricted pod security", func(t *testing.T, _ *batchv1.JobSpec, ps *corev1.PodSpec, c *corev1.Container) {
			checkRestricted(t, ps, c)
		}},
		{"job failure handling", func(t *testing.T, js *batchv1.JobSpec, ps *corev1.PodSpec, c *corev1.Container) {
			if deref(js.ActiveDeadlineSeconds) <= 0 {
				t.Error("activeDeadlineSeconds unset: a stuck run would hold the schedule forever")
			}
			if deref(js.TTLSecondsAfterFinished) <= 0 {
				t.Error("ttlSecondsAfterFinished unset")
			}
			if deref(js.BackoffLimit) <= 0 && deref(js.BackoffLimitPerIndex) <= 0 {
				t.Error("no retries: set backoffLimit (or backoffLimitPerIndex)")
			}
			if g := deref(ps.TerminationGracePeriodSeconds); ps.TerminationGracePeriodSeconds != nil && g < 60 {
				t.Errorf("terminationGracePeriodSeconds %d: the S3 cleanup of an aborted run takes up to 60 s", g)
			}
			pfp := js.PodFailurePolicy
			if pfp == nil {
				t.Fatal("no podFailurePolicy: a configuration error (exit 2) would be retried")
			}
			var failJobOn []int32
			for _, r := range pfp.Rules {
				if r.Action == batchv1.PodFailurePolicyActionFailJob && r.OnExitCodes != nil {
					if deref(r.OnExitCodes.ContainerName) != c.Name || r.OnExitCodes.Operator != batchv1.PodFailurePolicyOnExitCodesOpIn {
						t.Errorf("FailJob rule %+v: want containerName %s, operator In", r.OnExitCodes, c.Name)
					}
					failJobOn = append(failJobOn, r.OnExitCodes.Values...)
				}
			}
			// Exit 2 (usage or configuration) is never worth a retry; exits 1
			// and 3 may be transient (API, network) and are retried.
			if !slices.Equal(failJobOn, []int32{2}) {
				t.Errorf("FailJob on exit codes %v, want [2]", failJobOn)
			}
		}},
	}
	for path, js := range workloads(t, all) {
		ps := &js.Template.Spec
		c := container(t, ps)
		for _, ch := range checks {
			t.Run(path+"/"+ch.name, func(t *testing.T) { ch.check(t, js, ps, c) })
		}
	}
}

func mountAt(c *corev1.Container, p string) *corev1.VolumeMount {
	for i := range c.VolumeMounts {
		if c.VolumeMounts[i].MountPath == p {
			return &c.VolumeMounts[i]
		}
	}
	return nil
}

func volume(ps *corev1.PodSpec, name string) *corev1.Volume {
	for i := range ps.Volumes {
		if ps.Volumes[i].Name == name {
			return &ps.Volumes[i]
		}
	}
	return nil
}

// checkRestricted checks the container against the Pod Security Standards'
// "restricted" profile (what namespace.yaml enforces) and the image's user,
// taking each setting from the container or, failing that, the pod.
func checkRestricted(t *testing.T, ps *corev1.PodSpec, c *corev1.Container) {
	t.Helper()
	psc := ps.SecurityContext
	if psc == nil {
		psc = &corev1.PodSecurityContext{}
	}
	csc := c.SecurityContext
	if csc == nil {
		t.Fatal("container has no securityContext")
	}
	pick := func(cv, pv *int64) int64 {
		if cv != nil {
			return *cv
		}
		return deref(pv)
	}
	seccomp := psc.SeccompProfile
	if csc.SeccompProfile != nil {
		seccomp = csc.SeccompProfile
	}
	runAsNonRoot := csc.RunAsNonRoot
	if runAsNonRoot == nil {
		runAsNonRoot = psc.RunAsNonRoot
	}
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"runAsNonRoot", deref(runAsNonRoot)},
		{"pod runAsNonRoot", deref(psc.RunAsNonRoot)},
		{"runAsUser 65532 (the image's USER)", pick(csc.RunAsUser, psc.RunAsUser) == nonRootID},
		{"pod runAsUser 65532", deref(psc.RunAsUser) == nonRootID},
		{"runAsGroup 65532", pick(csc.RunAsGroup, psc.RunAsGroup) == nonRootID},
		{"fsGroup 65532 (a PVC output is writable)", deref(psc.FSGroup) == nonRootID},
		{"seccompProfile RuntimeDefault", seccomp != nil && seccomp.Type == corev1.SeccompProfileTypeRuntimeDefault},
		{"pod seccompProfile", psc.SeccompProfile != nil && psc.SeccompProfile.Type == corev1.SeccompProfileTypeRuntimeDefault},
		{"allowPrivilegeEscalation false", csc.AllowPrivilegeEscalation != nil && !*csc.AllowPrivilegeEscalation},
		{"readOnlyRootFilesystem", deref(csc.ReadOnlyRootFilesystem)},
		{"privileged unset or false", !deref(csc.Privileged)},
		{"capabilities drop ALL, add none", csc.Capabilities != nil && slices.Equal(csc.Capabilities.Drop, []corev1.Capability{"ALL"}) && len(csc.Capabilities.Add) == 0},
		{"no host namespaces", !ps.HostNetwork && !ps.HostPID && !ps.HostIPC},
		{"no hostPath volumes", !slices.ContainsFunc(ps.Volumes, func(v corev1.Volume) bool { return v.HostPath != nil })},
		{"no host ports", !slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.HostPort != 0 })},
	} {
		if !tc.ok {
			t.Errorf("securityContext: %s", tc.name)
		}
	}
}

func TestServiceAccount(t *testing.T) {
	sa := only[corev1.ServiceAccount](t, manifests(t), "serviceaccount.yaml")
	if sa.Name != serviceAccount {
		t.Errorf("name %q", sa.Name)
	}
	arn := sa.Annotations["eks.amazonaws.com/role-arn"]
	if !regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$`).MatchString(arn) {
		t.Errorf("IRSA annotation eks.amazonaws.com/role-arn = %q: want an IAM role ARN", arn)
	}
	// IRSA needs the projected token: the default must stay.
	if sa.AutomountServiceAccountToken != nil && !*sa.AutomountServiceAccountToken {
		t.Error("automountServiceAccountToken: false (see the comment in serviceaccount.yaml)")
	}
	if len(sa.Secrets) != 0 || len(sa.ImagePullSecrets) != 0 {
		t.Error("the service account carries secrets: it should carry only the role")
	}
}

func TestNamespace(t *testing.T) {
	ns := only[corev1.Namespace](t, manifests(t), "namespace.yaml")
	if ns.Name != namespace {
		t.Errorf("name %q", ns.Name)
	}
	if got := ns.Labels["pod-security.kubernetes.io/enforce"]; got != "restricted" {
		t.Errorf("pod-security.kubernetes.io/enforce = %q, want restricted", got)
	}
}

func TestSecretExample(t *testing.T) {
	s := only[corev1.Secret](t, manifests(t), "secret.example.yaml")
	if s.Name != secretName || s.Type != corev1.SecretTypeOpaque {
		t.Errorf("%s %s", s.Name, s.Type)
	}
	if len(s.Data) != 0 {
		t.Error("data: use stringData placeholders")
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range s.StringData {
			if !yield(k) {
				return
			}
		}
	})
	if !slices.Equal(keys, []string{"LW_API_KEY", "LW_API_SECRET"}) {
		t.Errorf("stringData keys %v", keys)
	}
	for k, v := range s.StringData {
		if !strings.HasPrefix(v, "REPLACE_") {
			t.Errorf("%s = %q: an example holds placeholders only", k, v)
		}
	}
}

// TestConfigMap decodes the evidence.yaml embedded in configmap.yaml with
// the program's strict decoder (unknown keys are errors), then loads and
// validates it as `evidence run --config` would, with the variables the
// pods set: the ConfigMap cannot drift from the real schema, and every
// secret it names is one the pods provide.
func TestConfigMap(t *testing.T) {
	all := manifests(t)
	cm := only[corev1.ConfigMap](t, all, "configmap.yaml")
	if cm.Name != configMapName {
		t.Errorf("name %q", cm.Name)
	}
	if keys := len(cm.Data) + len(cm.BinaryData); keys != 1 {
		t.Errorf("%d keys, want only %s", keys, configKey)
	}
	text, ok := cm.Data[configKey]
	if !ok {
		t.Fatalf("no key %s", configKey)
	}

	var cfg config.Config
	if err := config.Decode(strings.NewReader(text), &cfg); err != nil {
		t.Fatalf("config.Decode (strict): %v", err)
	}
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"output", cfg.Output, "s3://my-evidence-bucket/packs"},
		{"concurrency", cfg.Concurrency, 4},
		{"tenants", len(cfg.Tenants), 1},
	} {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if len(cfg.Tenants) == 0 {
		t.Fatal("no tenant")
	}
	var lw lwsource.Config
	cfg.Tenants[0].Source = cmp.Or(cfg.Tenants[0].Source, config.DefaultSource)
	if err := source.DecodeSection(cfg.Tenants[0], &lw); err != nil {
		t.Fatal(err)
	}
	if cfg.Tenants[0].Source != lwsource.Name || lw.Account != "acme" || lw.APIKeyEnv != "LW_API_KEY" || lw.APISecretEnv != "LW_API_SECRET" {
		t.Errorf("tenant %+v %+v", cfg.Tenants[0], lw)
	}
	if lw.APIKey != "" {
		t.Error("api_key written in the ConfigMap: name the variable (api_key_env)")
	}

	// The decoder this relies on is strict.
	if err := config.Decode(strings.NewReader(text+"\nconcurency: 4\n"), new(config.Config)); err == nil {
		t.Fatal("config.Decode accepted an unknown key: the check above proves nothing")
	}

	// Every variable the config names must come from the Secret, in every
	// workload; Load and Validate then see the same environment a pod does.
	for path, js := range workloads(t, all) {
		t.Run(path, func(t *testing.T) {
			c := container(t, &js.Template.Spec)
			env := map[string]string{}
			for _, e := range c.Env {
				switch {
				case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
					env[e.Name] = "from-secret-" + e.ValueFrom.SecretKeyRef.Key
				case e.ValueFrom == nil:
					env[e.Name] = e.Value
				}
			}
			for _, tn := range cfg.Tenants {
				for _, v := range []string{lw.APIKeyEnv, lw.APISecretEnv} {
					if e := envVar(c, v); e == nil || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
						t.Errorf("tenant %s names %s, which the pod does not set from a Secret", tn.Name, v)
					}
				}
			}
			var shard string
			if i := slices.Index(c.Args, "--shard"); i >= 0 {
				shard = strings.ReplaceAll(c.Args[i+1], "$(JOB_COMPLETION_INDEX)", "0")
			}
			// The tenant opens (its key and secret read from the Secret's
			// variables) and names the key it read.
			srcs := loadConfig(t, text, env, shard)
			if got, want := srcs[0].Info().Credential, "API key "+source.MaskID("from-secret-LW_API_KEY"); got != want {
				t.Errorf("credential %q, want %q: not taken from the Secret's variables", got, want)
			}
		})
	}

	// The examples left in comments (s3:, metrics:, narrowing a tenant)
	// must be real keys too, with values that validate: whoever uncomments
	// them gets a working config.
	t.Run("commented examples", func(t *testing.T) {
		ex, n := uncommentExamples(text)
		if n < 5 {
			t.Fatalf("%d commented examples found, want the s3:, metrics: and tenant ones", n)
		}
		var cfg config.Config
		if err := config.Decode(strings.NewReader(ex), &cfg); err != nil {
			t.Fatalf("config.Decode (strict) with the examples uncommented: %v\n%s", err, ex)
		}
		loadConfig(t, ex, map[string]string{"LW_API_KEY": "k", "LW_API_SECRET": "s"}, "")
	})
}

// exampleLine is a commented-out setting: "# key: value" at any indentation,
// the key lower case (prose comments do not start that way).
var exampleLine = regexp.MustCompile(`^(\s*)# ( *[a-z][a-z0-9_]*:( .*)?)$`)

// uncommentExamples turns the commented-out settings of a YAML text into
// settings, keeping their indentation; n is how many lines it changed.
func uncommentExamples(text string) (out string, n int) {
	var b strings.Builder
	for line := range strings.Lines(text) {
		body := strings.TrimSuffix(line, "\n")
		if m := exampleLine.FindStringSubmatch(body); m != nil {
			body = m[1] + m[2]
			n++
		}
		b.WriteString(body + "\n")
	}
	return b.String(), n
}

// loadConfig loads text as `evidence run --config FILE [--shard S]` does in
// a pod whose environment is env, opens its tenants and validates it (a
// failure is exit 2), and returns the tenants' sources.
func loadConfig(t *testing.T, text string, env map[string]string, shard string) []source.Source {
	t.Helper()
	file := filepath.Join(t.TempDir(), configKey)
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) string { return env[k] }
	cfg, err := config.Load(config.Flags{ConfigFile: file, Shard: shard}, mustTime(t))
	if err != nil {
		t.Fatalf("config.Load: %v", err)
	}
	srcs, err := sources.Registry(sources.Options{}).OpenAll(context.Background(), cfg, func() source.Env {
		return source.Env{Getenv: getenv, Home: t.TempDir(), Redactor: httpx.NewRedactor()}
	})
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		t.Fatalf("the configuration is refused (exit 2 in the pod):\n%v", err)
	}
	return srcs
}

// TestReadmeExitCodes keeps the runbook's exit codes next to the program's
// (cmd/evidence/main.go) and the FailJob rule.
func TestReadmeExitCodes(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join("..", "..", "cmd", "evidence", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		code int
	}{{"exitOK", 0}, {"exitFailed", 1}, {"exitUsage", 2}, {"exitPartial", 3}} {
		if !regexp.MustCompile(`(?m)^\s*` + c.name + `\s*=\s*` + strconv.Itoa(c.code) + `\s*$`).Match(src) {
			t.Errorf("cmd/evidence/main.go: %s is not %d: update README.md and the podFailurePolicy", c.name, c.code)
		}
		if !bytes.Contains(readme, []byte("| "+strconv.Itoa(c.code)+" |")) {
			t.Errorf("README.md: no row for exit code %d", c.code)
		}
	}
}

func mustTime(t *testing.T) time.Time {
	t.Helper()
	return time.Date(2026, 11, 22, 2, 15, 0, 0, time.UTC) // a scheduled start
}

// runFlags returns the flags `evidence run` accepts, read from the source
// of cmd/evidence (its bind…Flags functions: run binds every group)
// rather than a built binary.
func runFlags(t *testing.T) map[string]bool {
	t.Helper()
	dir := filepath.Join("..", "..", "cmd", "evidence")
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	flags := map[string]bool{}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || !strings.HasPrefix(fn.Name.Name, "bind") || !strings.HasSuffix(fn.Name.Name, "Flags") {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				i := 0 // fs.String("name", ...), fs.Bool(...)
				if strings.HasSuffix(sel.Sel.Name, "Var") {
					i = 1 // fs.StringVar(&v, "name", ...), fs.Var(v, "name", ...)
				}
				if i < len(call.Args) {
					if lit, ok := call.Args[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						if name, err := strconv.Unquote(lit.Value); err == nil {
							flags[name] = true
						}
					}
				}
				return true
			})
		}
	}
	if len(flags) == 0 {
		t.Fatal("cmd/evidence: no bind…Flags function, or they declare no flags: update runFlags")
	}
	return flags
}

// TestArgsAreRunFlags checks every flag the workloads pass against the
// flags of `evidence run`: a renamed flag would otherwise surface only as
// exit 2 in the cluster.
func TestArgsAreRunFlags(t *testing.T) {
	known := runFlags(t)
	for _, f := range []string{"config", "log-json", "shard"} {
		if !known[f] {
			t.Fatalf("flag parser found no -%s in the bind…Flags functions (found %v)", f, known)
		}
	}
	for path, js := range workloads(t, manifests(t)) {
		c := container(t, &js.Template.Spec)
		for _, a := range c.Args[1:] {
			name, ok := strings.CutPrefix(a, "--")
			if !ok {
				continue
			}
			name, _, _ = strings.Cut(name, "=")
			if !known[name] {
				t.Errorf("%s: args pass --%s, which `evidence run` does not accept", path, name)
			}
		}
	}
}
