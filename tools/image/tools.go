//go:build tools

// Wrapper module: builds kustomize (sigs.k8s.io/kustomize/kustomize/v5) from the Go module
// proxy for the agent image (see the Dockerfile), pinned by go.mod and checksummed by go.sum.
package tools

import _ "sigs.k8s.io/kustomize/kustomize/v5"
