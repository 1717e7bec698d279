// Package k8scronjob holds the Kubernetes manifests that run `evidence run`
// as a CronJob (and, in indexed-job/, as a sharded Indexed Job). It has no
// code of its own: its tests decode every manifest strictly with the
// Kubernetes API types, check the settings the runbook (README.md) relies
// on, and decode the embedded evidence.yaml with the program's own strict
// config loader, so the manifests cannot drift from the API or the schema.
package k8scronjob
