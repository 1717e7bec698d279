// Package deploy holds what runs evidence outside a developer's machine:
// the container image (../Dockerfile) and the Kubernetes manifests in
// k8s-cronjob/. It has no code of its own; its tests check the Dockerfile,
// which cannot be built here (no container engine), against what the
// program needs: a static, non-root, stamped binary.
package deploy
